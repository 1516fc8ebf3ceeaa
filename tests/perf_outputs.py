"""What the perf tests share about the collection's outputs: the real API serving ``GET /metrics`` over
HTTP on loopback, the Prometheus sample name of each metric, and a real notification listener."""

import contextlib
import threading
import time
from collections.abc import Iterator

from delfin_like import rpc  # noqa: F401 - selects the threading backend before oslo_messaging is imported
from delfin_like.api import app, wsgi
from delfin_like.conf import CONF

# metric -> the sample name /metrics shows it under (unit suffix; counters end in _total)
SAMPLE_NAME = {
    "iops": "delfin_like_iops",
    "read_iops": "delfin_like_read_iops",
    "write_iops": "delfin_like_write_iops",
    "throughput": "delfin_like_throughput_bytes_per_second",
    "read_throughput": "delfin_like_read_throughput_bytes_per_second",
    "write_throughput": "delfin_like_write_throughput_bytes_per_second",
    "response_time": "delfin_like_response_time_seconds",
    "read_response_time": "delfin_like_read_response_time_seconds",
    "write_response_time": "delfin_like_write_response_time_seconds",
    "read_ops_total": "delfin_like_read_ops_total",
    "write_ops_total": "delfin_like_write_ops_total",
    "read_bytes_total": "delfin_like_read_bytes_total",
    "write_bytes_total": "delfin_like_write_bytes_total",
}


@contextlib.contextmanager
def serve_api() -> Iterator[str]:
    """The real API (cheroot, 4 threads) on a free loopback port, on the database the caller set up;
    yields ``http://127.0.0.1:<port>`` and stops the server on exit."""
    service = wsgi.APIService(app_factory=app.setup_app, host="127.0.0.1", port=0, threads=4)
    service.start()
    try:
        yield f"http://127.0.0.1:{service.port}"
    finally:
        service.stop()
        service.wait()


class NotificationConsumer:
    """A real oslo.messaging notification listener on ``topic`` (the notification transport CONF names),
    recording ``(message_id, event_type, payload)`` of every notification; start and stop ``listener``."""

    def __init__(self, topic: str):
        import oslo_messaging  # after delfin_like.rpc selected the threading backend

        self.received: list[tuple[str, str, dict]] = []
        self.lock = threading.Lock()
        transport = oslo_messaging.get_notification_transport(CONF)
        self.listener = oslo_messaging.get_notification_listener(
            transport, [oslo_messaging.Target(topic=topic)], [self]
        )

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        with self.lock:
            self.received.append((metadata["message_id"], event_type, payload))

    def wait_for(self, count: int, timeout: float = 30.0) -> list[tuple[str, str, dict]]:
        """A copy of what was received once it holds at least ``count`` notifications (fails after ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.received)} of {count} notifications after {timeout} s")
