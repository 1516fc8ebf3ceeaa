"""delfin-like-api + two delfin-like-task processes + delfin-like-scheduler on RabbitMQ, Redis and PostgreSQL.

Registers two fake storages over HTTP, syncs them concurrently, checks the
exact rows through the API, deletes one, hands a running task over on
SIGTERM, and checks that every process exits cleanly and never logged a
password.
"""

import threading
import uuid

import pytest

from delfin_like.db import migration
from delfin_like.sdk import models
from delfin_like_drivers.fake import driver as fake_driver
from tests.e2e.conftest import Client, Proc, db_manage, deployment_conf

pytestmark = pytest.mark.services

STORAGES = {
    "a": {"pools": 3, "volumes": 40, "seed": 11},
    "b": {"pools": 2, "volumes": 25, "seed": 12},
}


@pytest.fixture
def env(tmp_path, postgresql_url, rabbit_url, redis_url):
    """A config file for every process: fresh database, unique topic prefix, shared Fernet key."""
    return deployment_conf(
        tmp_path,
        postgresql_url,
        rabbit_url,
        redis_url,
        f"delfin_e2e.{uuid.uuid4().hex[:10]}",
        DEFAULT={"debug": "true", "graceful_shutdown_timeout": 12},
        task_manager={"workers_per_lane": 2, "membership_group": f"split-tm-{uuid.uuid4().hex[:10]}"},
        # its own election: other deployments may share this Redis
        scheduler={"election_group": f"split-{uuid.uuid4().hex[:10]}"},
    )


def _body(name: str, password: str) -> dict:
    return {
        "vendor": "fake_storage",
        "model": "fake_driver",
        "rest": {"host": f"192.0.2.{10 + ord(name)}", "port": 8443, "username": "admin", "password": password},
        "extra_attributes": STORAGES[name],
    }


def _expected(body: dict):
    """What the fake driver returns for ``body``: the rows the database must hold."""
    drv = fake_driver.FakeStorageDriver(
        models.AccessInfo(
            vendor=body["vendor"],
            model=body["model"],
            extra_attributes=body["extra_attributes"],
            rest=models.AccessEndpoint(host=body["rest"]["host"], port=body["rest"]["port"]),
        )
    )
    return list(drv.list_storage_pools()), list(drv.list_volumes())


def _check_rows(api: Client, storage_id: str, body: dict) -> None:
    pools, volumes = _expected(body)
    got_pools = api.get("/v1/storage-pools", storage_id=storage_id).json()["storage_pools"]
    got_volumes = api.get("/v1/volumes", storage_id=storage_id).json()["volumes"]
    for expected, got, key in (
        (pools, got_pools, "native_storage_pool_id"),
        (volumes, got_volumes, "native_volume_id"),
    ):
        by_id = {row[key]: row for row in got}
        assert sorted(by_id) == sorted(getattr(m, key) for m in expected)
        for model in expected:
            row = by_id[getattr(model, key)]
            assert row["storage_id"] == storage_id
            for field in models.field_names(type(model)):
                assert row[field] == getattr(model, field), (key, field)


def test_split_deployment(env, procs):
    assert db_manage(env, "current").strip() in ("", "(empty database)")
    db_manage(env, "upgrade")
    assert db_manage(env, "current").strip() == migration.head()

    args = ["--config-file", env["conf"]]
    tasks = [Proc("delfin-like-task", args, env["dir"] / f"task{i}.log") for i in (1, 2)]
    procs.extend(tasks)
    for t in tasks:
        # the lane queues exist before the API casts anything to them
        t.wait_for_log("Consuming task lanes")
    scheduler = Proc("delfin-like-scheduler", args, env["dir"] / "scheduler.log")
    procs.append(scheduler)
    scheduler.wait_for_log("Elected leader")
    api_proc = Proc("delfin-like-api", args, env["dir"] / "api.log")
    procs.append(api_proc)
    api = Client(f"http://127.0.0.1:{env['port']}")
    api.wait_ready()

    passwords = {name: f"pw-{name}-{uuid.uuid4().hex}" for name in STORAGES}
    bodies = {name: _body(name, passwords[name]) for name in STORAGES}
    ids = {}
    for name, body in bodies.items():
        r = api.post("/v1/storages", body)
        assert r.status_code == 201, r.text
        assert passwords[name] not in r.text
        ids[name] = r.json()["id"]
        task = api.wait_task(r.json()["last_sync_task_id"])
        assert task["status"] == "COMPLETED", task
        assert task["result"]["volumes"]["added"] == STORAGES[name]["volumes"]

    # sync both at once, on the urgent lane
    results = {}

    def sync(name):
        r = api.post(f"/v1/storages/{ids[name]}/sync")
        results[name] = (r.status_code, r.json())

    threads = [threading.Thread(target=sync, args=(name,)) for name in STORAGES]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    owners = set()
    for name in STORAGES:
        status, body = results[name]
        assert status == 202, body
        task = api.wait_task(body["task"]["id"])
        assert task["status"] == "COMPLETED", task
        assert task["result"]["rows_written"] == 0
        owners.add(task["lease_owner"])
        assert api.get(f"/v1/storages/{ids[name]}").json()["sync_status"] == "SYNCED"
    for name in STORAGES:
        _check_rows(api, ids[name], bodies[name])

    # delete one: its rows go, the other's stay
    r = api.delete(f"/v1/storages/{ids['a']}")
    assert r.status_code == 202, r.text
    removed = api.wait_task(r.json()["task"]["id"])
    assert removed["status"] == "COMPLETED", removed
    assert removed["result"]["volumes"] == STORAGES["a"]["volumes"]
    assert api.get(f"/v1/storages/{ids['a']}").status_code == 404
    assert api.get("/v1/volumes", storage_id=ids["a"]).json()["volumes"] == []
    assert api.get("/v1/storage-pools", storage_id=ids["a"]).json()["storage_pools"] == []
    _check_rows(api, ids["b"], bodies["b"])

    # SIGTERM a task manager in the middle of a sync: it hands the task back, the other finishes it
    slow = {
        "vendor": "fake_storage",
        "model": "fake_driver",
        "rest": {"host": "192.0.2.200", "port": 8443, "username": "admin", "password": passwords["a"]},
        # longer than the whole shutdown window (graceful_shutdown_timeout = 12 s), so the
        # task is certainly still running when the stopping task manager hands it back
        "extra_attributes": {"pools": 1, "volumes": 5, "seed": 13, "delay": 15},
    }
    r = api.post("/v1/storages", slow)
    assert r.status_code == 201, r.text
    task_id = r.json()["last_sync_task_id"]
    running = None
    for _ in range(100):
        running = api.get(f"/v1/tasks/{task_id}").json()
        if running["status"] == "RUNNING":
            break
        threading.Event().wait(0.05)
    assert running["status"] == "RUNNING", running
    owner_pid = int(running["lease_owner"].split(":")[1])
    busy = next(t for t in tasks if owner_pid in t.worker_pids())
    idle = next(t for t in tasks if t is not busy)
    assert busy.terminate() == 0
    assert "1 running task(s) handed back" in busy.log
    done = api.wait_task(task_id, timeout=60)
    assert done["status"] == "COMPLETED", done
    assert done["attempts"] == 1  # the cut-short attempt was given back with the task
    assert int(done["lease_owner"].split(":")[1]) in idle.worker_pids()

    for p in (api_proc, idle, scheduler):
        assert p.terminate() == 0, p.log[-3000:]
    assert "Resigning the leadership" in scheduler.log
    for p in (*tasks, api_proc, scheduler):
        log = p.log
        for pw in passwords.values():
            assert pw not in log, f"{p.name} logged a password"
        assert "Traceback" not in log, log[-3000:]
    print("sync owners:", owners)
