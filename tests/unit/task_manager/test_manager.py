"""TaskManager on SQLite with the fake driver and file locks: claim, jobs, errors, leases, shutdown."""

import copy
import threading

import pytest

from delfin_like import coordination
from delfin_like.common import constants, exception
from delfin_like.common.constants import TaskStatus
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.task_manager import manager as tm_manager
from delfin_like.task_manager.jobs import sync
from tests.unit.task_manager import fakes


def _rows(resource_type, storage_id):
    return db_api.resource_list(resource_type, {"storage_id": storage_id}, None, None, None, None)


def test_sync_writes_exact_rows_and_counts(manager):
    storage, task = fakes.register_fake_storage(pools=3, volumes=10)
    assert manager.run_task(None, task["id"]) == TaskStatus.COMPLETED
    done = db_api.task_get(task["id"])
    assert done["status"] == TaskStatus.COMPLETED
    assert done["attempts"] == 1
    assert done["result"]["storage_pools"] == {"added": 3, "updated": 0, "deleted": 0, "unchanged": 0}
    assert done["result"]["volumes"] == {"added": 10, "updated": 0, "deleted": 0, "unchanged": 0}
    pools = _rows("storage_pools", storage["id"])
    volumes = _rows("volumes", storage["id"])
    assert sorted(p["native_storage_pool_id"] for p in pools) == ["pool-0", "pool-1", "pool-2"]
    assert sorted(v["native_volume_id"] for v in volumes) == sorted(f"vol-{i}" for i in range(10))
    vol3 = next(v for v in volumes if v["native_volume_id"] == "vol-3")
    assert vol3["native_storage_pool_id"] == "pool-0" and vol3["type"] == "thin"
    assert db_api.storage_get(storage["id"])["sync_status"] == "SYNCED"


def test_resync_without_change_writes_nothing(manager):
    storage, task = fakes.register_fake_storage(pools=2, volumes=50)
    manager.run_task(None, task["id"])
    again, created = db_api.task_create_sync(storage["id"], "urgent")
    assert created
    assert manager.run_task(None, again["id"]) == TaskStatus.COMPLETED
    result = db_api.task_get(again["id"])["result"]
    assert result["rows_written"] == 0
    assert result["volumes"] == {"added": 0, "updated": 0, "deleted": 0, "unchanged": 50}


def test_resync_with_churn_writes_only_changes(manager):
    storage, task = fakes.register_fake_storage(pools=2, volumes=100, churn=2, seed=7)
    manager.run_task(None, task["id"])
    again, _ = db_api.task_create_sync(storage["id"], "normal")
    manager.run_task(None, again["id"])
    volumes = db_api.task_get(again["id"])["result"]["volumes"]
    assert (volumes["added"], volumes["deleted"]) == (2, 2)
    assert volumes["updated"] <= 2 and volumes["unchanged"] >= 94
    assert len(_rows("volumes", storage["id"])) == 100


def test_task_claimed_elsewhere_is_skipped(manager):
    _, task = fakes.register_fake_storage()
    assert db_api.task_claim(task["id"], "someone-else", 60)
    assert manager.run_task(None, task["id"]) is None
    assert db_api.task_get(task["id"])["lease_owner"] == "someone-else"


def test_finished_task_is_not_run_again(manager):
    _, task = fakes.register_fake_storage()
    manager.run_task(None, task["id"])
    assert manager.run_task(None, task["id"]) is None
    assert db_api.task_get(task["id"])["attempts"] == 1


def test_backend_error_fails_the_task_with_the_user_message(manager):
    storage, task = fakes.register_fake_storage(sync_error="backend_error")
    assert manager.run_task(None, task["id"]) == TaskStatus.FAILED
    done = db_api.task_get(task["id"])
    assert done["status"] == TaskStatus.FAILED
    assert "fake back end configured to fail" in done["error"]
    assert "endpoint" not in done["error"]  # operator detail stays in the log
    assert db_api.storage_get(storage["id"])["sync_status"] == "FAILED"


def test_unreachable_backend_is_retried_then_failed(manager):
    CONF.set_override("max_attempts", 2, group="task_manager")
    _, task = fakes.register_fake_storage(sync_error="unreachable")
    assert manager.run_task(None, task["id"]) == TaskStatus.PENDING
    pending = db_api.task_get(task["id"])
    assert (pending["status"], pending["attempts"], pending["lease_owner"]) == ("PENDING", 1, None)
    assert "could not be reached" in pending["error"]
    assert manager.run_task(None, task["id"]) == TaskStatus.FAILED
    assert db_api.task_get(task["id"])["attempts"] == 2


def test_lock_held_elsewhere_hands_the_task_back(manager):
    CONF.set_override("lock_wait_timeout", 0.2, group="coordination")
    storage, task = fakes.register_fake_storage()
    other = coordination.Coordinator(member_id="other-task-manager").start()
    try:
        with coordination.storage_lock(storage["id"], purpose="test", coordinator=other):
            assert manager.run_task(None, task["id"]) == TaskStatus.PENDING
    finally:
        other.stop()
    released = db_api.task_get(task["id"])
    assert released["status"] == TaskStatus.PENDING
    assert f"storage-{storage['id']}" in released["error"]
    assert manager.run_task(None, task["id"]) == TaskStatus.COMPLETED


def test_unexpected_error_fails_the_task(manager, monkeypatch):
    _, task = fakes.register_fake_storage()

    def boom(task, owner):
        raise RuntimeError("bug")

    monkeypatch.setitem(tm_manager.JOBS, "sync", boom)
    assert manager.run_task(None, task["id"]) == TaskStatus.FAILED
    assert db_api.task_get(task["id"])["error"] == "internal error (RuntimeError)"


def test_remove_deletes_every_row(manager):
    storage, task = fakes.register_fake_storage(pools=2, volumes=5)
    other, other_task = fakes.register_fake_storage(pools=1, volumes=3, seed=1, host="10.0.0.2")
    manager.run_task(None, task["id"])
    manager.run_task(None, other_task["id"])
    remove_task = db_api.storage_mark_deleting(storage["id"])
    assert manager.run_task(None, remove_task["id"]) == TaskStatus.COMPLETED
    done = db_api.task_get(remove_task["id"])
    assert done["result"]["storage_pools"] == 2 and done["result"]["volumes"] == 5
    with pytest.raises(exception.StorageNotFound):
        db_api.storage_get(storage["id"])
    assert _rows("volumes", storage["id"]) == [] and _rows("storage_pools", storage["id"]) == []
    assert len(_rows("volumes", other["id"])) == 3


def test_sync_of_a_deleting_storage_is_cancelled(manager):
    storage, task = fakes.register_fake_storage()
    claimed = db_api.task_claim(task["id"], manager.owner, 60)
    db_api.storage_mark_deleting(storage["id"])
    assert sync.run(claimed, manager.owner) is None
    done = db_api.task_get(task["id"])
    assert done["status"] == TaskStatus.CANCELLED and "deleted" in done["error"]
    assert _rows("volumes", storage["id"]) == []


def test_sync_in_flight_does_not_resurrect_a_deleted_storage(manager):
    storage, task = fakes.register_fake_storage(pools=2, volumes=20, delay=3.0)
    syncing = threading.Thread(target=manager.run_task, args=(None, task["id"]))
    syncing.start()
    assert fakes.wait_for(lambda: db_api.task_get(task["id"])["status"] == TaskStatus.RUNNING, 5)
    remove_task = db_api.storage_mark_deleting(storage["id"])
    # the remove waits for the sync's lock; the sync then finds the storage deleting
    assert manager.run_task(None, remove_task["id"]) == TaskStatus.COMPLETED
    syncing.join(10)
    assert not syncing.is_alive()
    assert db_api.task_get(task["id"])["status"] == TaskStatus.CANCELLED
    assert db_api.task_get(remove_task["id"])["status"] == TaskStatus.COMPLETED
    assert _rows("volumes", storage["id"]) == [] and _rows("storage_pools", storage["id"]) == []
    with pytest.raises(exception.StorageNotFound):
        db_api.storage_get(storage["id"])


def test_renew_leases_extends_running_tasks(manager):
    _, task = fakes.register_fake_storage()
    claimed = db_api.task_claim(task["id"], manager.owner, 5)
    manager._running[task["id"]] = claimed
    assert manager.renew_leases(600) == 1
    renewed = db_api.task_get(task["id"])
    assert renewed["lease_expires_at"] > claimed["lease_expires_at"]
    manager._running.clear()


def test_renewal_warns_of_a_lost_lease_but_not_of_a_task_that_just_ended(manager, caplog):
    _, ended = fakes.register_fake_storage()
    _, lost = fakes.register_fake_storage()
    # ended: finished by this task manager, not yet out of its running set (the job is returning)
    manager._running[ended["id"]] = db_api.task_claim(ended["id"], manager.owner, 5)
    assert db_api.task_finish(ended["id"], TaskStatus.COMPLETED, result={}, owner=manager.owner)
    caplog.set_level("WARNING", logger="delfin_like.task_manager.manager")
    assert manager.renew_leases(600) == 0
    assert not [r for r in caplog.records if "leases" in r.getMessage()]
    # lost: its lease lapsed and another task manager holds it now
    manager._running[lost["id"]] = db_api.task_claim(lost["id"], "someone-else", 5)
    assert manager.renew_leases(600) == 0
    [warning] = [r.getMessage() for r in caplog.records if "leases" in r.getMessage()]
    assert lost["id"] in warning and "someone-else" in warning and ended["id"] not in warning
    manager._running.clear()


def test_stop_hands_back_a_task_that_does_not_finish(task_env):
    mgr = tm_manager.TaskManager(task_env)
    mgr.start()
    storage, task = fakes.register_fake_storage(volumes=5, delay=2.0)
    worker = threading.Thread(target=mgr.run_task, args=(None, task["id"]))
    worker.start()
    assert fakes.wait_for(lambda: mgr.running, 5)
    mgr.stop(timeout=0.2)
    handed_back = db_api.task_get(task["id"])
    assert handed_back["status"] == TaskStatus.PENDING and handed_back["lease_owner"] is None
    assert handed_back["attempts"] == 0  # the attempt was cut short, not spent
    assert [t["id"] for t in task_env.cast_tasks] == [task["id"]]
    worker.join(10)
    # the late sync of the old owner is refused: nothing written, the task stays handed back
    assert db_api.task_get(task["id"])["status"] == TaskStatus.PENDING
    assert _rows("volumes", storage["id"]) == []


def test_stop_never_fails_a_task_on_its_last_attempt(task_env):
    # rolling restarts: a task handed back by stopping task managers again and again stays PENDING
    CONF.set_override("max_attempts", 1, group="task_manager")
    storage, task = fakes.register_fake_storage(volumes=5, delay=2.0)
    for _ in range(2):
        mgr = tm_manager.TaskManager(task_env)
        mgr.start()
        worker = threading.Thread(target=mgr.run_task, args=(None, task["id"]))
        worker.start()
        assert fakes.wait_for(lambda m=mgr: m.running, 5)
        mgr.stop(timeout=0.1)
        worker.join(10)
        handed_back = db_api.task_get(task["id"])
        assert (handed_back["status"], handed_back["attempts"]) == (TaskStatus.PENDING, 0), handed_back
    assert _rows("volumes", storage["id"]) == []


def test_stop_waits_for_a_task_that_finishes_in_time(task_env):
    mgr = tm_manager.TaskManager(task_env)
    mgr.start()
    _, task = fakes.register_fake_storage(volumes=5, delay=0.3)
    worker = threading.Thread(target=mgr.run_task, args=(None, task["id"]))
    worker.start()
    assert fakes.wait_for(lambda: mgr.running, 5)
    mgr.stop(timeout=10)
    assert db_api.task_get(task["id"])["status"] == TaskStatus.COMPLETED
    assert task_env.cast_tasks == []
    worker.join(5)


def test_cast_received_while_stopping_is_cast_again_unclaimed(task_env):
    mgr = tm_manager.TaskManager(task_env)
    mgr.start()
    mgr.stop(timeout=0)
    _, task = fakes.register_fake_storage()
    assert mgr.run_task(None, task["id"]) is None
    assert db_api.task_get(task["id"])["status"] == TaskStatus.PENDING
    assert db_api.task_get(task["id"])["attempts"] == 0
    assert [t["id"] for t in task_env.cast_tasks] == [task["id"]]


def test_owner_id_names_host_and_pid(manager):
    import os

    host, pid, suffix = manager.owner.rsplit(":", 2)
    assert host == CONF.host and pid == str(os.getpid()) and len(suffix) == 8


def test_leases_are_renewed_while_stop_waits_for_running_tasks(task_env):
    CONF.set_override("lease_seconds", 5, group="task_manager")
    mgr = tm_manager.TaskManager(task_env)
    mgr.start()
    _, task = fakes.register_fake_storage(volumes=5, delay=4.0)
    worker = threading.Thread(target=mgr.run_task, args=(None, task["id"]))
    worker.start()
    assert fakes.wait_for(lambda: mgr.running, 5)
    first = db_api.task_get(task["id"])["lease_expires_at"]
    stopper = threading.Thread(target=mgr.stop, args=(15,))
    stopper.start()
    # renewed every lease/3 s while the stop waits: a lapsed lease would let another task manager in
    assert fakes.wait_for(lambda: (db_api.task_get(task["id"])["lease_expires_at"] or first) > first, 4)
    stopper.join(20)
    worker.join(5)
    assert db_api.task_get(task["id"])["status"] == TaskStatus.COMPLETED


def test_a_long_sync_reports_its_progress_on_the_task_and_closes_it_with_the_final_counts(manager, monkeypatch):
    # every progress written to the row, as written (polling the row could miss a short-lived one)
    written, progress_set = [], db_api.task_progress_set

    def recording(task_id, owner, progress):
        written.append(copy.deepcopy(progress))
        return progress_set(task_id, owner, progress)

    monkeypatch.setattr(db_api, "task_progress_set", recording)
    _, task = fakes.register_fake_storage(pools=3, volumes=40, delay=1.5)
    # pools are listed in well under a second: nothing written then; the first volume, 1.5 s after
    # the claim, reports
    assert manager.run_task(None, task["id"]) == TaskStatus.COMPLETED
    assert written, "no progress was written while listing"
    progress = written[0]
    assert (progress["phase"], progress["current"], progress["done"]) == ("listing", "volumes", ["storage_pools"])
    assert progress["resource_types"] == list(constants.RESOURCE_TYPES)
    assert progress["changes"] == {"storage_pools": {"added": 3, "updated": 0, "deleted": 0, "unchanged": 0}}
    assert progress["listed"] == 1
    # the write phase is always reported, however soon after the last listing report it starts
    writing = written[-1]
    assert (writing["phase"], writing["current"], writing["listed"]) == ("writing", None, 0)
    done = db_api.task_get(task["id"])
    assert done["status"] == TaskStatus.COMPLETED
    final = done["progress"]
    assert (final["phase"], final["current"], final["listed"]) == ("finished", None, 0)
    assert final["done"] == [rt for rt in constants.RESOURCE_TYPES if rt in done["result"]]
    assert final["changes"]["volumes"] == {"added": 40, "updated": 0, "deleted": 0, "unchanged": 0}
    assert final["changes"] == {rt: done["result"][rt] for rt in final["done"]}


def test_a_failed_or_cancelled_task_shows_a_finished_progress(manager):
    _, task = fakes.register_fake_storage(pools=1, volumes=3)
    claimed = db_api.task_claim(task["id"], "someone", 60)
    assert claimed and db_api.task_progress_set(task["id"], "someone", {
        "phase": "listing", "resource_types": list(constants.RESOURCE_TYPES), "done": ["storage_pools"],
        "current": "volumes", "listed": 801, "changes": {"storage_pools": {"added": 1, "updated": 0, "deleted": 0}},
    })
    assert db_api.task_finish(task["id"], TaskStatus.FAILED, error="boom", owner="someone")
    progress = db_api.task_get(task["id"])["progress"]
    assert (progress["phase"], progress["current"], progress["listed"]) == ("finished", None, 0)
    assert progress["done"] == ["storage_pools"] and "storage_pools" in progress["changes"]
    cancelled = db_api.task_cancel(db_api.task_create("sync", task["storage_id"], "normal")["id"])
    assert cancelled["progress"]["phase"] == "finished" and cancelled["progress"]["current"] is None


def test_a_quick_sync_writes_only_its_final_progress_and_a_new_claim_clears_it(manager):
    _, task = fakes.register_fake_storage(pools=1, volumes=3)
    assert manager.run_task(None, task["id"]) == TaskStatus.COMPLETED
    final = db_api.task_get(task["id"])["progress"]
    assert final["phase"] == "finished" and final["changes"]["volumes"]["added"] == 3
    _, other = fakes.register_fake_storage(pools=1, volumes=3, seed=2, host="10.0.0.9")
    claimed = db_api.task_claim(other["id"], "someone", 60)
    assert db_api.task_progress_set(other["id"], "someone", {"phase": "listing"})
    assert not db_api.task_progress_set(other["id"], "not-the-owner", {"phase": "writing"})
    assert db_api.task_get(other["id"])["progress"] == {"phase": "listing"}
    assert db_api.task_release(other["id"], "someone", "test", max_attempts=3, backoff=0) == TaskStatus.PENDING
    assert db_api.task_get(other["id"])["progress"] is None and claimed["attempts"] == 1


def test_two_syncs_of_a_storage_record_lock_holds_that_never_overlap(manager, task_env):
    other = tm_manager.TaskManager(task_env)
    other.start()
    try:
        first, second = fakes.two_syncs_of_one_storage(manager, other)
    finally:
        other.stop(timeout=5)
    fakes.assert_lock_holds_apart(first, second)
    # a new claim starts without the last attempt's lock time
    again, _ = db_api.task_create_sync(first["storage_id"], "normal")
    assert db_api.task_claim(again["id"], "someone", 60)["lock_acquired_at"] is None
