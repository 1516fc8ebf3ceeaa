"""Harness of the end-to-end tests: real console scripts as subprocesses, driven over HTTP.

Every process logs to its own file; :class:`Proc` waits for readiness lines,
stops with SIGTERM and returns the exit code. All waits are bounded.
"""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

BIN = os.path.dirname(sys.executable)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def script(name: str) -> str:
    path = os.path.join(BIN, name)
    if not os.path.exists(path):
        pytest.fail(f"console script {name} is not installed (pip install -e .)")
    return path


def write_conf(path, sections: dict[str, dict]) -> None:
    """Write ``sections`` (``{section: {option: value}}``) to ``path`` as a config file of the console scripts.

    Unless ``sections`` names one, the trap receiver gets a free port: all-in-ones of parallel tests never
    compete for the default one."""
    if "alert_receiver" not in sections:
        sections = {**sections, "alert_receiver": {"port": free_port()}}
    lines = []
    for name, options in sections.items():
        lines += [f"[{name}]", *(f"{k} = {v}" for k, v in options.items())]
    path.write_text("\n".join(lines) + "\n")


def deployment_conf(tmp_path, database_url: str, rabbit_url: str, redis_url: str, topic: str, **sections) -> dict:
    """One config file for every process of a deployment under ``tmp_path``: the API on a free loopback port,
    the given database, RabbitMQ (RPC ``topic``) and Redis, a fresh Fernet key; ``sections`` add or override
    options (``{section: {option: value}}``). Returns ``{"conf": path, "port": API port, "dir": tmp_path}``."""
    from cryptography.fernet import Fernet

    port = free_port()
    conf = {
        # the topic names the deployment: tests sharing RabbitMQ and Redis stay apart
        "DEFAULT": {"state_path": tmp_path / "state", "transport_url": rabbit_url, "deployment_name": topic},
        "api": {"host": "127.0.0.1", "port": port},
        "database": {"connection": database_url},
        "coordination": {"backend_url": redis_url},
        "rpc": {"topic": topic},
        "security": {"fernet_keys": Fernet.generate_key().decode()},
    }
    for name, options in sections.items():
        conf.setdefault(name, {}).update(options)
    write_conf(tmp_path / "delfin_like.conf", conf)
    return {"conf": str(tmp_path / "delfin_like.conf"), "port": port, "dir": tmp_path}


def db_manage(env: dict, *args: str) -> str:
    """Run ``delfin-like-db-manage`` on the config of ``env`` (see :func:`deployment_conf`); returns its stdout."""
    out = subprocess.run(
        [script("delfin-like-db-manage"), "--config-file", env["conf"], *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


class Proc:
    """One console-script process with its log file."""

    def __init__(self, name: str, args: list[str], log_path, env=None, cwd=None):
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.popen = subprocess.Popen(
            [script(name), *args], stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
        )

    @property
    def log(self) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_for_log(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log:
                return
            if self.popen.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{self.name} never logged {text!r} (rc={self.popen.poll()}):\n{self.log[-3000:]}")

    def worker_pids(self) -> set[int]:
        """The pid of the master and of its forked worker(s) (lease owners name the worker)."""
        import psutil

        master = psutil.Process(self.popen.pid)
        return {self.popen.pid, *(c.pid for c in master.children(recursive=True))}

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, then wait; kills the group and fails if it does not exit in time."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)
            raise AssertionError(f"{self.name} did not exit within {timeout} s of SIGTERM:\n{self.log[-3000:]}")
        finally:
            self._log.close()

    def kill(self) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.popen.wait(10)
        self._log.close()


class Client:
    """A tiny REST client of the API under test."""

    def __init__(self, base: str):
        self.base = base
        self.session = requests.Session()

    def get(self, path, **params):
        return self.session.get(self.base + path, params=params, timeout=10)

    def post(self, path, body=None):
        return self.session.post(self.base + path, json=body, timeout=30)

    def delete(self, path):
        return self.session.delete(self.base + path, timeout=10)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.get("/healthz").status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"API at {self.base} not ready within {timeout} s")

    def wait_task(self, task_id: str, timeout: float = 60) -> dict:
        """Poll GET /v1/tasks/{id} until the task is finished; returns it."""
        deadline = time.monotonic() + timeout
        task = None
        while time.monotonic() < deadline:
            r = self.get(f"/v1/tasks/{task_id}")
            assert r.status_code == 200, r.text
            task = r.json()
            if task["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
                return task
            time.sleep(0.1)
        raise AssertionError(f"task {task_id} not finished within {timeout} s: {task}")


def alert_all_in_one(tmp_path, procs: list, api_port: int, trap_port: int, receiver: bool = True,
                     **sections) -> tuple["Proc", "Client", str]:
    """Start an all-in-one (no demo storage) whose trap receiver listens on ``127.0.0.1:trap_port``, or,
    with ``receiver=False``, that runs none but has the ``[alert_receiver]`` options a standalone
    receiver started on the same config file uses. ``sections`` add or replace options
    (``{section: {option: value}}``). :returns: (the process, a client of its ready API, the config path)."""
    conf = tmp_path / "aio.conf"
    options = {
        "DEFAULT": {"state_path": tmp_path / "state"},
        "api": {"port": api_port},
        "all_in_one": {"demo_storage": "false", **({} if receiver else {"alert_receiver": "false"})},
        "alert_receiver": {"host": "127.0.0.1", "port": trap_port, "poll_interval": 0.5},
    }
    for section, values in sections.items():
        options[section] = {**options.get(section, {}), **values}
    write_conf(conf, options)
    aio = Proc("delfin-like-all-in-one", ["--config-file", str(conf)], tmp_path / "aio.log")
    procs.append(aio)
    api = Client(f"http://127.0.0.1:{api_port}")
    api.wait_ready(60)
    return aio, api, str(conf)


@pytest.fixture
def procs():
    """Processes started by a test; any still running at the end are killed."""
    started: list[Proc] = []
    yield started
    for p in started:
        p.kill()
