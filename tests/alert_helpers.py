"""Shared by the alert tests: net-snmp's snmptrap, a real Prometheus Alertmanager, and what they compare
of the sdk alerts a driver lists."""

import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest
import requests

from tests import services


def require_snmptrap() -> str:
    """The path of net-snmp's ``snmptrap``; a skip without it, a failure with CI=true."""
    binary = shutil.which("snmptrap")
    if binary is None:
        message = "snmptrap is not installed (apt-get install -y snmp)"
        if services.IN_CI:
            pytest.fail(message + " (CI=true: net-snmp's snmptrap is required)")
        pytest.skip(message)
    return binary


def alerts_by_sequence(alerts) -> dict[str, dict]:
    """``sequence_number -> the fields a driver test checks`` of sdk alerts."""
    return {
        a.sequence_number: {
            "alert_id": a.alert_id, "severity": a.severity, "category": a.category, "description": a.description,
            "occur_time": a.occur_time, "resource_type": a.resource_type,
            "native_resource_id": a.native_resource_id, "cleared": a.cleared,
        }  # fmt: skip
        for a in alerts
    }


ALERTMANAGER = "prometheus-alertmanager"


def require_alertmanager() -> str:
    """The path of Prometheus Alertmanager (Debian's ``prometheus-alertmanager``); a skip without it,
    a failure with CI=true."""
    binary = shutil.which(ALERTMANAGER) or (f"/usr/bin/{ALERTMANAGER}" if os.path.exists(
        f"/usr/bin/{ALERTMANAGER}") else None)
    if binary is None:
        message = "prometheus-alertmanager is not installed (apt-get install -y prometheus-alertmanager)"
        if services.IN_CI:
            pytest.fail(message + " (CI=true: Prometheus Alertmanager is required)")
        pytest.skip(message)
    return binary


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Webhook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the http.server hook's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.received.append(json.loads(body or b"{}"))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        """Quiet."""


class Alertmanager:
    """A real Prometheus Alertmanager on free loopback ports, for one test module (or an e2e test).

    Its config routes every alert to a webhook receiver served by this object in-process
    (``send_resolved: true``, ``group_wait`` 100 ms, ``group_interval`` 1 s, grouped by ``group_by``),
    clustering off, storage in ``directory``. :meth:`stop` and :meth:`start` again keep the port
    (an Alertmanager that is down for a while); the webhook receiver keeps running meanwhile.

    ``url`` is what ``[alertmanager_exporter] url`` takes; :meth:`alerts` reads ``GET /api/v2/alerts``
    (the active ones), :meth:`webhook_events` what the receiver got, one dict per notified alert.
    """

    def __init__(self, directory, group_by=("storage_id",), webhook: bool = True):
        """:param webhook: False routes to a receiver that notifies nobody (benchmarks: no webhook load)."""
        self.binary = require_alertmanager()
        self.directory = str(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None
        self._hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
        self._hook.received = []
        self._hook.lock = threading.Lock()
        self._hook.daemon_threads = True
        self._hook_thread = threading.Thread(target=self._hook.serve_forever, name="alertmanager-webhook",
                                             daemon=True)
        self._hook_thread.start()
        self.config_file = os.path.join(self.directory, "alertmanager.yml")
        receiver = (
            "    webhook_configs:\n"
            f"      - url: http://127.0.0.1:{self._hook.server_address[1]}/hook\n"
            "        send_resolved: true\n"
        ) if webhook else ""
        with open(self.config_file, "w") as f:
            f.write(
                "route:\n"
                "  receiver: webhook\n"
                f"  group_by: [{', '.join(group_by)}]\n"
                "  group_wait: 100ms\n"
                "  group_interval: 1s\n"
                "  repeat_interval: 1h\n"
                "receivers:\n"
                "  - name: webhook\n" + receiver
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "Alertmanager":
        """Start it (again, on the same port) and wait until ``/-/ready`` answers 200."""
        log = open(os.path.join(self.directory, "alertmanager.log"), "ab")
        self.proc = subprocess.Popen(
            [self.binary, f"--config.file={self.config_file}", f"--storage.path={self.directory}/data",
             f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address=",
             "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"Alertmanager exited with {self.proc.returncode}; see {self.directory}")
            try:
                if requests.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"Alertmanager not ready on {self.url} within {timeout} s")

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL); the port refuses connections afterwards."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def close(self) -> None:
        """Stop it and its webhook receiver."""
        self.stop()
        self._hook.shutdown()
        self._hook.server_close()

    def alerts(self, **labels) -> list[dict]:
        """The active alerts (``GET /api/v2/alerts``) whose labels include ``labels``."""
        response = requests.get(f"{self.url}/api/v2/alerts", timeout=5)
        response.raise_for_status()
        return [a for a in response.json() if all(a["labels"].get(k) == v for k, v in labels.items())]

    def webhook_events(self, **labels) -> list[dict]:
        """Every alert of every notification the receiver got (``status``, ``labels``, ``startsAt``,
        ``endsAt``...), oldest first, whose labels include ``labels``."""
        with self._hook.lock:
            notified = [a for n in self._hook.received for a in n.get("alerts", [])]
        return [a for a in notified if all(a["labels"].get(k) == v for k, v in labels.items())]
