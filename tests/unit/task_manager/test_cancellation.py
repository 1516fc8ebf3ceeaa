"""Cooperative cancellation of a running sync: the checkpoint, and a sync that stops at the next page."""

import threading
import time

import pytest

from delfin_like import coordination
from delfin_like.common import exception
from delfin_like.common.constants import TaskStatus
from delfin_like.db import api as db_api
from delfin_like.task_manager.jobs.checkpoint import Checkpoint
from delfin_like_drivers.fake import driver as fake_driver
from tests.unit.task_manager import fakes

RESOURCE_TYPES = ("storage_pools", "volumes", "controllers", "ports", "disks")


def _claimed(owner="tm-1"):
    _, task = fakes.register_fake_storage()
    return db_api.task_claim(task["id"], owner, 60)


def test_checkpoint_stops_a_listing_once_the_task_is_cancelled(task_env):
    task = _claimed()
    checkpoint = Checkpoint(task, "tm-1", interval=0)
    seen = []

    def listing():
        for i in range(1000):
            if i == 500:
                db_api.task_cancel(task["id"])
            yield i

    with pytest.raises(exception.SyncAborted, match="cancelled"):
        for item in checkpoint.watch(listing()):
            seen.append(item)
    # the row read after the cancel is not taken
    assert seen == list(range(500))


def test_checkpoint_reads_the_row_at_most_once_per_interval(task_env):
    task = _claimed()
    checkpoint = Checkpoint(task, "tm-1", interval=60)
    assert sum(1 for _ in checkpoint.watch(range(20000))) == 20000
    checkpoint.check()
    assert checkpoint.reads == 0
    checkpoint.check(force=True)
    assert checkpoint.reads == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda t: db_api.task_release(t["id"], "tm-1", "shutdown", 5), "handed back"),
        (lambda t: db_api.task_finish(t["id"], TaskStatus.FAILED, error="x"), "handed back or taken over"),
    ],
)
def test_checkpoint_stops_a_task_that_is_no_longer_ours(task_env, change, reason):
    task = _claimed()
    checkpoint = Checkpoint(task, "tm-1", interval=0)
    checkpoint.check()
    change(task)
    with pytest.raises(exception.SyncAborted, match=reason):
        checkpoint.check()


def test_checkpoint_of_another_owner_stops(task_env):
    task = _claimed(owner="tm-1")
    with pytest.raises(exception.SyncAborted):
        Checkpoint(task, "tm-2").check(force=True)


def _snapshot(storage_id):
    rows = {}
    for resource_type in RESOURCE_TYPES:
        listed = db_api.resource_list(resource_type, {"storage_id": storage_id}, None, None, None, None)
        rows[resource_type] = sorted(listed, key=lambda r: r["id"])
    storage = db_api.storage_get(storage_id)
    # the new task is the storage's last sync: only what comes from it may move
    for key in ("sync_status", "sync_error", "last_sync_task_id"):
        storage.pop(key)
    return rows, storage


@pytest.fixture
def driver_calls(monkeypatch):
    """Names of the fake driver's methods called, in order (the real methods still run)."""
    calls: list[str] = []
    names = (
        "get_storage",
        "list_storage_pools",
        "list_volumes",
        "list_controllers",
        "list_ports",
        "list_disks",
        "get_capabilities",
        "close",
    )
    for name in names:
        original = getattr(fake_driver.FakeStorageDriver, name)

        def spy(self, *args, _original=original, _name=name):
            calls.append(_name)
            return _original(self, *args)

        monkeypatch.setattr(fake_driver.FakeStorageDriver, name, spy)
    return calls


def test_cancel_stops_a_running_sync_after_the_slow_page_and_writes_nothing(manager, driver_calls):
    storage, task = fakes.register_fake_storage(pools=3, volumes=200, churn=10, generation=0)
    assert manager.run_task(None, task["id"]) == TaskStatus.COMPLETED
    before = _snapshot(storage["id"])
    # the next generation differs in 60 volumes; the volume listing takes 2 s to answer
    attrs = {"pools": 3, "volumes": 200, "seed": 0, "churn": 10, "generation": 1, "delay": 2}
    db_api.access_info_update(storage["id"], attrs)
    again, _ = db_api.task_create_sync(storage["id"], "urgent")
    driver_calls.clear()
    outcome = {}

    def run():
        outcome["status"] = manager.run_task(None, again["id"])
        outcome["ended"] = time.monotonic()

    worker = threading.Thread(target=run)
    started = time.monotonic()
    worker.start()
    assert fakes.wait_for(lambda: db_api.task_get(again["id"])["status"] == TaskStatus.RUNNING, 5)
    db_api.task_cancel(again["id"])
    worker.join(15)
    assert not worker.is_alive()
    assert outcome["status"] == TaskStatus.CANCELLED
    # stopped once the slow page arrived: no later listing, the driver closed
    assert driver_calls == ["get_storage", "list_storage_pools", "list_volumes", "close"]
    assert outcome["ended"] - started < 2 + 1.5
    assert _snapshot(storage["id"]) == before
    done = db_api.task_get(again["id"])
    assert (done["status"], done["result"]) == (TaskStatus.CANCELLED, None)


def test_cancel_while_waiting_for_the_lock_never_reaches_the_driver(manager, driver_calls):
    storage, task = fakes.register_fake_storage(volumes=5)
    driver_calls.clear()  # the registration probe
    other = coordination.Coordinator(member_id="other-task-manager").start()
    try:
        with coordination.storage_lock(storage["id"], purpose="test", coordinator=other):
            worker = threading.Thread(target=manager.run_task, args=(None, task["id"]))
            worker.start()
            assert fakes.wait_for(lambda: db_api.task_get(task["id"])["status"] == TaskStatus.RUNNING, 5)
            # longer than the checkpoint interval: the sync reads its row once it has the lock
            time.sleep(1.2)
            db_api.task_cancel(task["id"])
    finally:
        other.stop()
    worker.join(10)
    assert driver_calls == []
    assert db_api.task_get(task["id"])["status"] == TaskStatus.CANCELLED
    assert db_api.resource_list("volumes", {"storage_id": storage["id"]}, None, None, None, None) == []
