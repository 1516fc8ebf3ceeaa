"""What an operator meets at a process's start and stop: a first /readyz that tells the truth,
Ctrl-C that stops as gracefully as SIGTERM, and no third-party warning on stderr."""

import os
import re
import signal
import sqlite3
import subprocess
import time
import uuid

import pytest
import requests

from tests.e2e.conftest import Client, Proc, db_manage, deployment_conf, free_port, script, write_conf

# a Python warning line (``path:line: SomeWarning: text``); ours are those whose path is in delfin_like
WARNING_LINE = re.compile(r"^(?P<path>\S+?):\d+: \w*Warning: ", re.MULTILINE)


def _foreign_warnings(text: str) -> list[str]:
    return [m.group(0) for m in WARNING_LINE.finditer(text) if "delfin_like" not in m.group("path")]


def _aio_conf(tmp_path, **sections) -> tuple[str, int]:
    port = free_port()
    conf = {"DEFAULT": {"state_path": tmp_path / "state"}, "api": {"host": "127.0.0.1", "port": port}}
    for name, options in sections.items():
        conf.setdefault(name, {}).update(options)
    write_conf(tmp_path / "aio.conf", conf)
    return str(tmp_path / "aio.conf"), port


def _first_readyz(port: int, proc: Proc, timeout: float = 90) -> requests.Response:
    """The first answer of /readyz once the port opens (polled every 50 ms until then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=30)
        except requests.ConnectionError:
            assert proc.popen.poll() is None, proc.log[-3000:]
            time.sleep(0.05)
    raise AssertionError(f"the API never opened port {port}:\n{proc.log[-3000:]}")


@pytest.mark.parametrize("backend", ["file", "redis"])
def test_the_first_readyz_of_an_all_in_one_is_ready(tmp_path, procs, backend, request):
    sections = {}
    if backend == "redis":
        sections["coordination"] = {"backend_url": request.getfixturevalue("redis_url")}
    conf, port = _aio_conf(tmp_path, **sections)
    aio = Proc("delfin-like-all-in-one", ["--config-file", conf], tmp_path / "aio.log")
    procs.append(aio)
    first = _first_readyz(port, aio)
    assert first.status_code == 200, first.text
    assert first.json()["checks"] == {"database": "ok", "message_bus": "ok", "locks": "ok"}
    assert aio.terminate() == 0


def test_the_first_readyz_of_the_api_on_redis_and_rabbitmq_is_ready(tmp_path, procs, rabbit_url, redis_url):
    # the API process alone never imports a Redis client but for this check (1.5-5 s on a loaded host)
    env = deployment_conf(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", rabbit_url, redis_url,
                          f"delfin_e2e.{uuid.uuid4().hex[:10]}")
    db_manage(env, "upgrade")
    api = Proc("delfin-like-api", ["--config-file", env["conf"]], tmp_path / "api.log")
    procs.append(api)
    first = _first_readyz(env["port"], api)
    assert first.status_code == 200, first.text
    assert api.terminate() == 0


def test_ctrl_c_stops_the_all_in_one_gracefully(tmp_path, procs):
    conf, port = _aio_conf(tmp_path, all_in_one={"demo_storage": "false"},
                           DEFAULT={"graceful_shutdown_timeout": 30})
    aio = Proc("delfin-like-all-in-one", ["--config-file", conf], tmp_path / "aio.log")
    procs.append(aio)
    api = Client(f"http://127.0.0.1:{port}")
    api.wait_ready(90)
    body = {"vendor": "fake_storage", "model": "fake_driver",
            "rest": {"host": "192.0.2.3", "port": 8443, "username": "admin", "password": "pw"},
            "extra_attributes": {"pools": 1, "volumes": 5, "delay": 3}}
    r = api.post("/v1/storages", body)
    assert r.status_code == 201, r.text
    task_id = r.json()["last_sync_task_id"]
    aio.wait_for_log(f"Running sync task {task_id}", 30)
    # Ctrl-C on a terminal: SIGINT to the whole foreground process group
    os.killpg(aio.popen.pid, signal.SIGINT)
    assert aio.terminate(timeout=60) == 0, aio.log[-3000:]
    assert "instantaneous exiting" not in aio.log
    assert "delfin-like-all-in-one stopped" in aio.log
    with sqlite3.connect(tmp_path / "state" / "delfin_like.sqlite") as db:
        (status,) = db.execute("SELECT status FROM tasks WHERE id = ?", (task_id,)).fetchone()
    # the sync in flight finished within the grace, or was handed back: never left RUNNING
    assert status in ("COMPLETED", "PENDING"), status


def test_no_console_script_prints_a_warning_that_is_not_ours(tmp_path, procs, rabbit_url, redis_url):
    env = deployment_conf(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", rabbit_url, redis_url,
                          f"delfin_e2e.{uuid.uuid4().hex[:10]}",
                          task_manager={"membership_group": f"warn-tm-{uuid.uuid4().hex[:10]}"},
                          scheduler={"election_group": f"warn-{uuid.uuid4().hex[:10]}"})
    logs = {"delfin-like-db-manage": _run("delfin-like-db-manage", "--config-file", env["conf"], "upgrade")}
    (tmp_path / "aio").mkdir()
    aio_conf, aio_port = _aio_conf(tmp_path / "aio")
    servers = {
        "delfin-like-all-in-one": ["--config-file", aio_conf],
        "delfin-like-api": ["--config-file", env["conf"]],
        "delfin-like-task": ["--config-file", env["conf"]],
        "delfin-like-scheduler": ["--config-file", env["conf"]],
        "delfin-like-simulator": ["--arrays", "1", "--rest-port", "0", "--ssh-port", "0", "--snmp-port", "0",
                                  "--state-dir", str(tmp_path / "sim")],
        "delfin-like-csd-agent": ["--port", str(free_port()), "--nvme-fixtures", "builtin",
                                  "--state-dir", str(tmp_path / "csd")],
    }
    ready = {"delfin-like-simulator": '{"event": "ready"', "delfin-like-csd-agent": "on 127.0.0.1:"}
    for name, args in servers.items():
        proc = Proc(name, args, tmp_path / f"{name}.log")
        procs.append(proc)
        proc.wait_for_log(ready.get(name, f"{name} started (pid"), 90)
        if name == "delfin-like-all-in-one":
            logs["delfin-like"] = _run("delfin-like", "--url", f"http://127.0.0.1:{aio_port}", "storage", "list")
        assert proc.terminate() == 0, proc.log[-3000:]
        logs[name] = proc.log
    found = {name: _foreign_warnings(text) for name, text in logs.items()}
    assert {name: lines for name, lines in found.items() if lines} == {}


def _run(name: str, *args: str) -> str:
    """Run a console script to its end; returns its stderr (it must succeed)."""
    out = subprocess.run([script(name), *args], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stderr
