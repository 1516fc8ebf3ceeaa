"""Fault test: SIGKILL task managers at random points during 100 syncs.

Three ``delfin-like-task`` processes and a ``delfin-like-scheduler`` (which
casts again the tasks of dead task managers once their leases lapse) on real
RabbitMQ, Redis and PostgreSQL. A task manager running a sync is killed with
SIGKILL every second or two and replaced. In the end every task is COMPLETED
and every storage's rows equal the fake driver's inventory exactly: nothing
lost, nothing duplicated, nothing half-applied. ``DELFIN_FAULT_SEED`` replays a run.
"""

import os
import random
import time

import pytest

from delfin_like.common.constants import TaskStatus
from delfin_like.db import api as db_api
from delfin_like.rpc import client as rpc_client
from delfin_like.rpc import transport as rpc_transport
from tests.e2e.fault_env import FaultEnv

pytestmark = pytest.mark.services

SYNCS = 100
TASK_MANAGERS = 3
MAX_KILLS = 15


@pytest.fixture
def faults(tmp_path, postgresql_url, rabbit_url, redis_url, fernet_key):
    env = FaultEnv(tmp_path, postgresql_url, rabbit_url, redis_url, fernet_key)
    yield env
    env.kill_all()
    rpc_transport.cleanup()


def _owner_pid(task: dict) -> int | None:
    owner = task.get("lease_owner")
    return int(owner.split(":")[1]) if owner else None


def test_sigkill_task_managers_during_100_syncs(faults):
    seed = int(os.environ.get("DELFIN_FAULT_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    print(f"DELFIN_FAULT_SEED={seed}")
    managers = [faults.start_task_manager() for _ in range(TASK_MANAGERS)]
    faults.start_scheduler()

    task_ids, storage_ids = [], []
    for i in range(SYNCS):
        # sizes and back-end latency vary, so kills land in listings and in the write alike
        storage, task = faults.register(
            i, pools=rng.randint(1, 6), volumes=rng.choice([100, 800, 2500]), delay=rng.choice([0, 0.5, 1.5, 3.0])
        )
        storage_ids.append(storage["id"])
        task_ids.append(task["id"])
    api = rpc_client.TaskAPI()
    for task in faults.tasks(task_ids):
        api.run_task(None, task)

    kills = tasks_hit = 0
    deadline = time.monotonic() + 120
    while kills < MAX_KILLS and time.monotonic() < deadline:
        time.sleep(rng.uniform(0.5, 1.5))
        tasks = faults.tasks(task_ids)
        if all(t["status"] in TaskStatus.FINISHED for t in tasks):
            break
        busy_pids = {_owner_pid(t) for t in tasks if t["status"] == TaskStatus.RUNNING}
        busy = [m for m in managers if busy_pids & m.worker_pids()]
        victim = rng.choice(busy or managers)
        tasks_hit += len(busy_pids & victim.worker_pids())
        faults.sigkill(victim)
        managers.remove(victim)
        kills += 1
        managers.append(faults.start_task_manager())

    done = faults.wait_finished(task_ids, timeout=180)
    stuck = [(t["id"], t["status"], t["attempts"], t["error"]) for t in done if t["status"] != TaskStatus.COMPLETED]
    assert stuck == [], f"seed {seed}: {len(stuck)} task(s) not COMPLETED: {stuck[:5]}"
    # the faults happened: processes died holding running syncs, whose tasks ran again
    assert kills >= 3 and tasks_hit >= 1, (kills, tasks_hit)
    assert sum(t["attempts"] for t in done) > SYNCS
    mismatches = [m for sid in storage_ids for m in faults.row_mismatches(sid)]
    assert mismatches == [], f"seed {seed}: {mismatches[:10]}"
    for sid in storage_ids:
        assert db_api.storage_get(sid)["sync_status"] == "SYNCED"
    print(
        f"{kills} task managers killed, {tasks_hit} running syncs hit, "
        f"{sum(t['attempts'] for t in done)} attempts for {SYNCS} syncs"
    )
