"""Task lifecycle across real processes: graceful shutdown of a task manager, cancelling a running sync.

``delfin-like-task`` (two of them), ``delfin-like-scheduler`` and ``delfin-like-api``
on RabbitMQ, Redis and PostgreSQL, with short leases so a lapsed lease would show.
"""

import time

import pytest

from delfin_like.common.constants import TaskStatus
from delfin_like.db import api as db_api
from delfin_like.rpc import client as rpc_client
from delfin_like.rpc import transport as rpc_transport
from tests.e2e.conftest import Client
from tests.e2e.fault_env import FaultEnv
from tests.unit.task_manager import fakes

pytestmark = pytest.mark.services

# graceful_shutdown_timeout 25 s: running tasks get 15 s (see manager.shutdown_grace), which leaves a
# loaded machine room to finish the short task
LIMIT = 25
GRACE = LIMIT - 10


@pytest.fixture
def lifecycle(tmp_path, postgresql_url, rabbit_url, redis_url, fernet_key):
    env = FaultEnv(
        tmp_path, postgresql_url, rabbit_url, redis_url, fernet_key, DEFAULT={"graceful_shutdown_timeout": str(LIMIT)}
    )
    yield env
    env.kill_all()
    rpc_transport.cleanup()


def _pid(task: dict) -> int:
    return int(task["lease_owner"].split(":")[1])


def test_sigterm_finishes_what_fits_in_the_grace_hands_back_the_rest_and_takes_nothing_new(lifecycle):
    stopping = lifecycle.start_task_manager()
    # as in production, the scheduler re-casts a task whose first cast or claim did not take (a loaded host)
    lifecycle.start_scheduler()
    api = rpc_client.TaskAPI()
    # longer than the 5 s lease, shorter than the grace: finishes where it runs, lease renewed throughout
    _, short = lifecycle.register(0, volumes=20, delay=7)
    # longer than the grace: handed back, then run by the other task manager
    _, long = lifecycle.register(1, volumes=20, delay=GRACE + 6)
    for task in (short, long):
        api.run_task(None, task)
    assert fakes.wait_for(
        lambda: all(t["status"] == TaskStatus.RUNNING for t in lifecycle.tasks([short["id"], long["id"]])), 60
    ), (lifecycle.tasks([short["id"], long["id"]]), stopping.log[-4000:])
    other = lifecycle.start_task_manager()

    stopping_pids = stopping.worker_pids()
    sigterm_at = time.monotonic()
    stopping.popen.terminate()
    stopping.wait_for_log("delfin-like-task stopping", 10)
    # cast after the SIGTERM to a lane whose workers are idle there: the stopping task manager must not run it
    _, late = lifecycle.register(2, volumes=5, priority="urgent")
    api.run_task(None, late)

    assert stopping.popen.wait(LIMIT + 5) == 0
    stopped_after = time.monotonic() - sigterm_at
    assert stopped_after < LIMIT, stopped_after
    handed_back = [line for line in stopping.log.splitlines() if "running task(s) handed back" in line]
    assert [line.split("; ", 1)[-1] for line in handed_back] == ["1 running task(s) handed back"], handed_back

    done = {t["id"]: t for t in lifecycle.wait_finished([short["id"], long["id"], late["id"]], timeout=60)}
    assert {t["status"] for t in done.values()} == {TaskStatus.COMPLETED}, done
    other_pids = other.worker_pids()
    assert (done[short["id"]]["attempts"], _pid(done[short["id"]]) in stopping_pids) == (1, True)
    # handed back: its cut-short attempt was given back, the other task manager's run is its first
    assert (done[long["id"]]["attempts"], _pid(done[long["id"]]) in other_pids) == (1, True)
    assert (done[late["id"]]["attempts"], _pid(done[late["id"]]) in other_pids) == (1, True)
    for task in (short, long, late):
        assert lifecycle.row_mismatches(task["storage_id"]) == []
    assert "Traceback" not in stopping.log


def test_delete_cancels_a_running_sync_at_the_next_page_and_writes_nothing(lifecycle):
    manager = lifecycle.start_task_manager()
    lifecycle.start_scheduler()
    lifecycle.start_api()
    client = Client(f"http://127.0.0.1:{lifecycle.port}")
    client.wait_ready()
    storage, first = lifecycle.register(0, pools=3, volumes=300, churn=10, generation=0)
    rpc_client.TaskAPI().run_task(None, first)
    first = lifecycle.wait_finished([first["id"]], 90)[0]
    assert first["status"] == TaskStatus.COMPLETED, (first, manager.log[-4000:])
    before = client.get("/v1/volumes", storage_id=storage["id"], limit=1000).json()["volumes"]
    assert len(before) == 300
    # the array moved on a generation (60 volumes differ), and now answers its volume listing in 4 s
    attrs = {"pools": 3, "volumes": 300, "seed": 0, "churn": 10, "generation": 1, "delay": 4}
    db_api.access_info_update(storage["id"], attrs)

    r = client.post(f"/v1/storages/{storage['id']}/sync")
    assert r.status_code == 202, r.text
    task_id = r.json()["task"]["id"]
    assert fakes.wait_for(lambda: client.get(f"/v1/tasks/{task_id}").json()["status"] == "RUNNING", 60), (
        manager.log[-4000:])
    r = client.delete(f"/v1/tasks/{task_id}")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "CANCELLED"
    # the slow page (4 s) is the last thing the sync does: it stops there, not after the other listings
    manager.wait_for_log(f"Sync task {task_id} stopped, nothing written: ", 60)
    task = client.get(f"/v1/tasks/{task_id}").json()
    assert (task["status"], task["result"]) == ("CANCELLED", None)
    assert client.get("/v1/volumes", storage_id=storage["id"], limit=1000).json()["volumes"] == before
    # nothing else was listed after the cancel, and the sync did not write its 120 changed rows
    assert f"Synced storage {storage['id']} (task {task_id})" not in manager.log
