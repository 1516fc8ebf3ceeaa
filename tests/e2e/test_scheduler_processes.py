"""delfin-like-scheduler (two of them) + delfin-like-task + delfin-like-api on RabbitMQ, Redis and PostgreSQL.

A fresh deployment whose task manager starts last: the registration's sync,
cast while no task manager was up, runs as soon as one joins. A storage with a
short periodic interval is then synced again and again; its sync policy and
the task managers' records survive a restart of every process, and the
schedules keep firing after it (a one-shot set before the restart fires after).
"""

import datetime
import itertools
import time
import uuid

import pytest

from tests.e2e.conftest import Client, Proc, db_manage, deployment_conf
from tests.waits import wait_until

pytestmark = pytest.mark.services


@pytest.fixture
def env(tmp_path, postgresql_url, rabbit_url, redis_url):
    return deployment_conf(
        tmp_path,
        postgresql_url,
        rabbit_url,
        redis_url,
        f"sched_e2e.{uuid.uuid4().hex[:10]}",
        DEFAULT={"graceful_shutdown_timeout": 15},
        coordination={"heartbeat_interval": 1},
        scheduler={
            "min_sync_interval": 1,
            "leader_timeout": 4,
            "tick_interval": 0.25,
            "election_group": f"sched-e2e-{uuid.uuid4().hex[:10]}",
        },
        task_manager={
            "workers_per_lane": 2,
            "report_interval": 1,
            "service_down_time": 5,
            # only the join of a task manager (or the scheduler) can explain a prompt run below
            "redispatch_after": 300,
            "membership_group": f"tm-e2e-{uuid.uuid4().hex[:10]}",
        },
    )


def _start(procs, env, name, log):
    proc = Proc(name, ["--config-file", env["conf"]], env["dir"] / log)
    procs.append(proc)
    return proc


def _utc(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", ""))


def _completed_syncs(api, storage_id, lane="normal") -> list[dict]:
    tasks = api.get(
        "/v1/tasks", storage_id=storage_id, type="sync", status="COMPLETED", sort="created_at:asc", priority=lane
    ).json()["tasks"]
    return tasks


def test_schedules_fire_and_survive_a_restart_of_everything(env, procs):
    db_manage(env, "upgrade")
    schedulers = [_start(procs, env, "delfin-like-scheduler", f"sched{i}.log") for i in (1, 2)]
    api_proc = _start(procs, env, "delfin-like-api", "api1.log")
    api = Client(f"http://127.0.0.1:{env['port']}")
    api.wait_ready()
    for s in schedulers:
        s.wait_for_log("Scheduler started")

    body = {
        "vendor": "fake_storage",
        "model": "fake_driver",
        "rest": {"host": "192.0.2.77", "port": 8443, "username": "admin", "password": "e2e-sched-pw"},
        "extra_attributes": {"pools": 1, "volumes": 4},
        "sync_policy": {"interval": 2},
    }
    r = api.post("/v1/storages", body)
    assert r.status_code == 201, r.text
    sid, first = r.json()["id"], r.json()["last_sync_task_id"]
    # no task manager yet: the registration's sync waits, and the periodic firings do not pile up on it
    time.sleep(5)
    assert api.get(f"/v1/tasks/{first}").json()["status"] == "PENDING"
    assert [t["id"] for t in api.get("/v1/tasks", storage_id=sid, type="sync").json()["tasks"]] == [first]
    assert api.get("/v1/task-managers").json() == {"task_managers": []}

    tm = _start(procs, env, "delfin-like-task", "task1.log")
    done = api.wait_task(first, timeout=30)
    assert done["status"] == "COMPLETED" and done["attempts"] == 1, done
    assert any("A task manager joined" in s.log for s in schedulers)

    # then synced again and again by the scheduler, every 2 s
    syncs = wait_until(lambda: len(s := _completed_syncs(api, sid)) >= 4 and s, 40, "three periodic syncs")
    # Fixed rate: firing k is due at t0 + 2k s and runs within a scheduler tick (or a little more on a
    # loaded machine) of it, so consecutive firings are 2 s apart give or take that lag. Two firings
    # of one due time would be milliseconds apart. (Skips are the failover test's subject: a sync still
    # queued at its next due time folds that firing in, so a gap here may be 4 s on a loaded machine.)
    gaps = [(_utc(b["created_at"]) - _utc(a["created_at"])).total_seconds() for a, b in itertools.pairwise(syncs[1:])]
    assert all(g >= 1.0 for g in gaps), gaps
    [member] = api.get("/v1/task-managers").json()["task_managers"]
    assert member["status"] == "up" and member["lanes"] == ["urgent", "normal", "background"]
    assert wait_until(
        lambda: api.get("/v1/task-managers").json()["task_managers"][0]["tasks_done"] >= 3,
        10,
        "the task manager reporting its syncs",
    )

    # a one-shot due after the restart, and a slower interval; then stop everything
    shot = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=30)).isoformat()
    r = api.session.put(
        f"{api.base}/v1/storages/{sid}/sync-policy", json={"interval": 3, "next_sync_at": shot}, timeout=10
    )
    assert r.status_code == 200, r.text
    policy = r.json()["sync_policy"]
    for p in (api_proc, *schedulers, tm):
        assert p.terminate() == 0, p.log[-3000:]
    stopped_at = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)

    schedulers = [_start(procs, env, "delfin-like-scheduler", f"sched{i}b.log") for i in (1, 2)]
    tm2 = _start(procs, env, "delfin-like-task", "task2.log")
    api_proc = _start(procs, env, "delfin-like-api", "api2.log")
    api.wait_ready()
    again = api.get(f"/v1/storages/{sid}/sync-policy").json()["sync_policy"]
    assert {k: again[k] for k in ("interval", "enabled", "next_sync_at")} == {
        "interval": 3,
        "enabled": True,
        "next_sync_at": policy["next_sync_at"],
    }
    members = {m["id"]: m for m in api.get("/v1/task-managers").json()["task_managers"]}
    assert members[member["id"]]["status"] == "down" and members[member["id"]]["stopped_at"]

    # the periodic sync goes on after the restart, and the one-shot fires at its time, once
    wait_until(
        lambda: any(_utc(t["created_at"]) > stopped_at for t in _completed_syncs(api, sid)),
        30,
        "a periodic sync after the restart",
    )
    fired = wait_until(
        lambda: (p := api.get(f"/v1/storages/{sid}/sync-policy").json()["sync_policy"])["next_sync_at"] is None and p,
        60,
        "the one-shot firing",
    )
    assert _utc(fired["last_fired_at"]) >= _utc(policy["next_sync_at"])
    members = {m["id"]: m for m in api.get("/v1/task-managers").json()["task_managers"]}
    assert [m["status"] for m in members.values() if m["id"] != member["id"]] == ["up"]

    for p in (api_proc, *schedulers, tm2):
        assert p.terminate() == 0, p.log[-3000:]
    for p in procs:
        assert "Traceback" not in p.log, (p.name, p.log[-3000:])
        assert "e2e-sched-pw" not in p.log
