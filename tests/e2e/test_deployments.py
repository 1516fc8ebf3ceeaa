"""Two deployments on one RabbitMQ and one Redis: apart when their names differ, refused when they collide.

Only ``[DEFAULT] deployment_name`` is set: the RPC topics, exchange, tooz
groups, locks and election all follow it. Each deployment has its own
SQLite database.
"""

import time
import uuid

import pytest
from cryptography.fernet import Fernet

from tests.e2e.conftest import Client, Proc, db_manage, free_port, write_conf

pytestmark = pytest.mark.services

STORAGES_EACH = 4


def _deployment(tmp_path, label: str, name: str, rabbit_url: str, redis_url: str) -> dict:
    """Config and database of one deployment under ``tmp_path / label``; returns the env dict of db_manage."""
    path = tmp_path / label
    path.mkdir()
    port = free_port()
    write_conf(
        path / "delfin_like.conf",
        {
            "DEFAULT": {"state_path": path / "state", "transport_url": rabbit_url, "deployment_name": name,
                        "debug": "true"},
            "api": {"host": "127.0.0.1", "port": port},
            "database": {"connection": f"sqlite:///{path / 'delfin_like.sqlite'}"},
            "coordination": {"backend_url": redis_url},
            "security": {"fernet_keys": Fernet.generate_key().decode()},
            "scheduler": {"tick_interval": "0.2", "periodic_sync_interval": "0"},
        },
    )
    env = {"conf": str(path / "delfin_like.conf"), "port": port, "dir": path, "name": name}
    db_manage(env, "upgrade")
    return env


def _spawn(env: dict, script: str, procs: list) -> Proc:
    proc = Proc(script, ["--config-file", env["conf"]], env["dir"] / f"{script.removeprefix('delfin-like-')}.log")
    procs.append(proc)
    return proc


def _start(env: dict, script: str, ready: str, procs: list) -> Proc:
    proc = _spawn(env, script, procs)
    proc.wait_for_log(ready, 90)
    return proc


def _wait_exit(proc: Proc, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.popen.poll() is None:
        time.sleep(0.1)
    return proc.popen.poll()


def test_two_names_on_one_broker_and_redis_share_no_task_and_no_election(tmp_path, rabbit_url, redis_url, procs):
    run = uuid.uuid4().hex[:8]
    envs = {label: _deployment(tmp_path, label, f"{label}-{run}", rabbit_url, redis_url) for label in ("blue", "green")}
    ready = {"task": "Consuming task lanes", "scheduler": "Elected leader", "api": "delfin-like-api started"}
    # all six at once (starts are slow on a loaded machine); every one is ready before the first request
    started = {
        label: {role: _spawn(env, f"delfin-like-{role}", procs) for role in ready} for label, env in envs.items()
    }
    for group in started.values():
        for role, proc in group.items():
            proc.wait_for_log(ready[role], 120)
    # each deployment elected its own leader
    for label, env in envs.items():
        assert f"Elected leader of delfin_like.{env['name']}.scheduler" in started[label]["scheduler"].log

    task_ids: dict[str, list[str]] = {label: [] for label in envs}
    for i in range(STORAGES_EACH):
        for n, (label, env) in enumerate(envs.items()):
            api = Client(f"http://127.0.0.1:{env['port']}")
            body = {
                "vendor": "fake_storage",
                "model": "fake_driver",
                "rest": {"host": f"192.0.2.{10 + i + 10 * n}", "port": 8443, "username": "u", "password": "p"},
                "extra_attributes": {"pools": 1, "volumes": 3, "seed": i},
            }
            r = api.post("/v1/storages", body)
            assert r.status_code == 201, r.text
            task_ids[label].append(r.json()["last_sync_task_id"])
    for label, env in envs.items():
        api = Client(f"http://127.0.0.1:{env['port']}")
        for task_id in task_ids[label]:
            # well inside [task_manager] redispatch_after: a cast taken by the other deployment would be late
            assert api.wait_task(task_id, timeout=60)["status"] == "COMPLETED"
    # no task manager ever received a task of the other deployment
    for label, other in (("blue", "green"), ("green", "blue")):
        log = started[label]["task"].log
        assert all(task_id in log for task_id in task_ids[label])
        assert not [task_id for task_id in task_ids[other] if task_id in log]
    for group in started.values():
        for proc in group.values():
            assert proc.terminate() == 0, proc.log[-2000:]


def test_the_same_name_with_another_database_refuses_to_start(tmp_path, rabbit_url, redis_url, procs):
    name = f"twin-{uuid.uuid4().hex[:8]}"
    first = _deployment(tmp_path, "first", name, rabbit_url, redis_url)
    second = _deployment(tmp_path, "second", name, rabbit_url, redis_url)
    running = _start(first, "delfin-like-task", "Consuming task lanes", procs)

    twins = [_spawn(second, script, procs) for script in ("delfin-like-task", "delfin-like-api")]
    for proc in twins:
        code = _wait_exit(proc, 90)
        log = proc.log
        assert code == 3, log[-3000:]
        assert "refuses to run" in log and f"Deployment name {name!r} is already in use" in log
        assert "delfin-like-task on" in log  # who holds the name
        assert "deployment_name" in log  # and how to fix it
        assert "Consuming task lanes" not in log and "delfin-like-api started" not in log

    # the deployment that was there first runs on
    assert running.popen.poll() is None
    assert running.terminate() == 0
    # once it is gone the name is free again
    proc = _start(second, "delfin-like-task", "Consuming task lanes", procs)
    assert proc.terminate() == 0
