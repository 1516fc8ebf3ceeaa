"""Readiness checks behind ``GET /readyz``: database, message bus, lock backend.

The three checks run in parallel daemon threads under one deadline
(:data:`CHECK_TIMEOUT`), so a black-holed dependency makes the probe answer
"timeout" instead of hanging the load balancer. Results name the state only
("ok", "unavailable", "timeout"); the reason goes to the log, since the probe
is unauthenticated and a reason may name hosts.
"""

import os
import threading
import time
import urllib.parse

from oslo_log import log as logging

from delfin_like.common import exception
from delfin_like.conf import CONF

LOG = logging.getLogger(__name__)

CHECK_TIMEOUT = 2.0  # seconds for all checks together (they run in parallel)

OK, UNAVAILABLE, TIMEOUT = "ok", "unavailable", "timeout"


def check_database(timeout: float) -> None:
    """``SELECT 1`` through the process's engine; raises on failure."""
    from delfin_like.db import api as db_api

    db_api.ping()


def check_message_bus(timeout: float) -> None:
    """Open (and close) one AMQP connection to the first reachable host of ``transport_url``.

    In-process transports (``kombu+delfin-memory``, ``kombu+memory``, ``fake``) are always ready. Other
    non-rabbit transports are checked by a TCP connection to each host.
    """
    import oslo_messaging

    from delfin_like.rpc import transport as rpc_transport

    rpc_transport.register_opts()
    if rpc_transport.is_in_process(CONF.transport_url):
        return
    url = oslo_messaging.TransportURL.parse(CONF, CONF.transport_url)
    hosts = url.hosts or [oslo_messaging.TransportHost(hostname="localhost", port=5672)]
    last: Exception | None = None
    for host in hosts:
        try:
            if url.transport in ("rabbit", "kombu", "amqp"):
                _amqp_connect(host, url.virtual_host, timeout)
            else:
                _tcp_connect(host.hostname or "localhost", host.port, timeout)
            return
        except Exception as e:  # noqa: BLE001 - try the next host, report the last failure
            last = e
    raise last or exception.MessageBusUnavailable()


def _amqp_connect(host, virtual_host: str | None, timeout: float) -> None:
    import kombu

    rabbit = CONF.oslo_messaging_rabbit
    use_ssl: bool | dict = bool(rabbit.ssl)
    if use_ssl and rabbit.ssl_ca_file:
        import ssl

        use_ssl = {"ca_certs": rabbit.ssl_ca_file, "cert_reqs": ssl.CERT_REQUIRED}
    conn = kombu.Connection(hostname=host.hostname or "localhost", port=host.port or 5672,
                            userid=host.username or "guest", password=host.password or "guest",
                            virtual_host=virtual_host or "/", ssl=use_ssl, connect_timeout=timeout,
                            transport="pyamqp")
    try:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
    finally:
        conn.release()


def _tcp_connect(host: str, port: int | None, timeout: float) -> None:
    import socket

    if port is None:
        raise exception.MessageBusUnavailable()
    with socket.create_connection((host, port), timeout=timeout):
        pass


def check_locks(timeout: float) -> None:
    """Redis: PING; file locks: the directory is writable; any other tooz backend: a started coordinator."""
    from delfin_like import coordination

    url = coordination.backend_url()
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    if parts.scheme in ("redis", "rediss") and "sentinel" not in query:
        _redis_ping(parts, query, timeout)
    elif parts.scheme == "file":
        if not os.access(parts.path, os.W_OK | os.X_OK):
            raise exception.CoordinationUnavailable()
    else:
        coordination.get_coordinator()


def _redis_ping(parts: urllib.parse.SplitResult, query: dict, timeout: float) -> None:
    import redis
    from redis import backoff, retry

    db = query.get("db") or parts.path.strip("/") or 0
    client = redis.Redis(host=parts.hostname or "127.0.0.1", port=parts.port or 6379,
                         username=parts.username or query.get("username"),
                         password=parts.password or query.get("password"), db=int(db),
                         ssl=parts.scheme == "rediss" or query.get("ssl", "").lower() in ("1", "true", "yes"),
                         socket_timeout=timeout, socket_connect_timeout=timeout,
                         retry=retry.Retry(backoff.NoBackoff(), 0))  # one try: the probe is the answer
    try:
        client.ping()
    finally:
        client.close()


def prepare() -> None:
    """Import now, before the API serves, the client libraries the checks of this configuration use.

    The API process itself uses no Redis client, and importing redis (asyncio and its parsers
    included) took 1.5-5 s on a loaded 2-core host: done inside the first probe, it spent the
    whole deadline, and the first ``/readyz`` after start said ``locks: timeout``.
    """
    from delfin_like import coordination
    from delfin_like.rpc import transport as rpc_transport

    scheme = urllib.parse.urlsplit(coordination.backend_url()).scheme
    if scheme in ("redis", "rediss"):
        import redis  # noqa: F401
        from redis import backoff, retry  # noqa: F401
    rpc_transport.register_opts()
    if not rpc_transport.is_in_process(CONF.transport_url):
        import kombu  # noqa: F401
        import kombu.transport.pyamqp  # noqa: F401


# name in the response, check, the exception whose error_code names the failure
CHECKS = (
    ("database", check_database, exception.DatabaseUnavailable),
    ("message_bus", check_message_bus, exception.MessageBusUnavailable),
    ("locks", check_locks, exception.CoordinationUnavailable),
)


def run(timeout: float = CHECK_TIMEOUT) -> dict[str, str]:
    """Run every check in parallel; returns ``{name: "ok" | "unavailable" | "timeout"}`` within ``timeout``."""
    results: dict[str, str] = {}
    done: dict[str, threading.Event] = {}

    def runner(name, check):
        try:
            check(timeout)
            results[name] = OK
        except Exception as e:  # noqa: BLE001 - any failure means "not ready"
            LOG.warning("Readiness: %s unavailable: %s: %s", name, type(e).__name__, e)
            results[name] = UNAVAILABLE
        finally:
            done[name].set()

    for name, check, _ in CHECKS:
        done[name] = threading.Event()
        # daemon: a check stuck past its deadline must not keep the process alive
        threading.Thread(target=runner, args=(name, check), name=f"readyz-{name}", daemon=True).start()
    deadline = time.monotonic() + timeout
    out = {}
    for name, _, _ in CHECKS:
        if done[name].wait(max(0.0, deadline - time.monotonic())):
            out[name] = results[name]
        else:
            LOG.warning("Readiness: %s did not answer within %g s", name, timeout)
            out[name] = TIMEOUT
    return out


def first_failure(checks: dict[str, str]) -> exception.ServiceUnavailable | None:
    """The exception naming the first failed dependency (in :data:`CHECKS` order), or None."""
    for name, _, error_cls in CHECKS:
        if checks.get(name) != OK:
            return error_cls()
    return None
