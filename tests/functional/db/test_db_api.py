"""The db layer on SQLite, PostgreSQL and MariaDB: registration, fingerprinted
change sets, listing and task records."""

import pytest
import sqlalchemy as sa

from delfin_like import diff
from delfin_like.common import exception
from delfin_like.common.constants import SyncStatus, TaskStatus
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.db.sqlalchemy import inventory
from delfin_like.sdk import models
from tests import db_helpers
from tests.db_helpers import register, registration_body, sync


def test_register_writes_storage_access_info_and_pending_task(any_db):
    storage, task = register(registration_body())
    assert storage["sync_status"] == SyncStatus.SYNCING
    assert task["status"] == TaskStatus.PENDING and task["storage_id"] == storage["id"]
    stored = db_api.access_info_get(storage["id"])
    assert stored["rest"]["password"] != db_helpers.PASSWORD  # a Fernet token, not the secret
    assert "fingerprint" not in storage and "password" not in str(storage)


def test_duplicate_serial_or_endpoint_is_refused_and_writes_nothing(any_db):
    register(registration_body(port=9000, serial_number="SN-1"))
    with pytest.raises(exception.StorageAlreadyExists):
        register(registration_body(port=9001, serial_number="SN-1"))
    with pytest.raises(exception.StorageAlreadyExists):
        register(registration_body(port=9000, serial_number="SN-2"))
    assert len(db_api.storage_list()) == 1
    assert len(db_api.task_list()) == 1


def test_initial_sync_then_no_change_writes_zero_rows(any_db):
    storage, task = register(registration_body(volumes=200, pools=4))
    result = sync(storage["id"], task["id"])
    assert result["volumes"]["added"] == 200 and result["storage_pools"]["added"] == 4
    assert db_api.storage_get(storage["id"])["sync_status"] == SyncStatus.SYNCED
    assert db_api.task_get(task["id"])["result"] == result

    again, created = db_api.task_create_sync(storage["id"], "urgent")
    assert created
    result = sync(storage["id"], again["id"])
    assert result["rows_written"] == 0
    assert result["volumes"] == {"added": 0, "updated": 0, "deleted": 0, "unchanged": 200}


def test_churn_writes_exactly_the_changed_rows(any_db):
    storage, task = register(registration_body(volumes=1000, churn=1, generation=0))
    sync(storage["id"], task["id"], generation=0)
    before = {v["native_volume_id"]: v for v in db_api.resource_list("volumes", {"storage_id": storage["id"]})}
    task, _ = db_api.task_create_sync(storage["id"], "normal")
    result = sync(storage["id"], task["id"], generation=1)
    assert result["volumes"] == {"added": 10, "updated": 10, "deleted": 10, "unchanged": 980}
    after = {v["native_volume_id"]: v for v in db_api.resource_list("volumes", {"storage_id": storage["id"]})}
    assert len(after) == 1000
    assert set(before) - set(after) == {f"vol-{i}" for i in range(10)}
    assert set(after) - set(before) == {f"vol-{i}" for i in range(1000, 1010)}
    changed = [n for n in set(before) & set(after) if before[n]["used_capacity"] != after[n]["used_capacity"]]
    assert len(changed) == 10
    unchanged = [n for n in set(before) & set(after) if before[n] == after[n]]
    assert len(unchanged) == 980  # untouched rows keep id, timestamps, everything


def test_sync_of_a_storage_being_deleted_applies_nothing(any_db):
    storage, task = register(registration_body())
    db_api.task_claim(task["id"], "w", 60)
    db_api.storage_mark_deleting(storage["id"])  # the DELETE arrives while the sync runs
    changes = diff.compute_changes("volumes", {}, [models.Volume(native_volume_id="v1", name="v1")])
    probe = models.Storage(name="x", vendor="v", model="m", serial_number="s")
    with pytest.raises(exception.SyncAborted):
        db_api.sync_apply(storage["id"], task["id"], "w", probe, [changes])
    assert db_api.resource_list("volumes", {"storage_id": storage["id"]}) == []
    with pytest.raises(exception.StorageBeingDeleted):
        db_api.task_create_sync(storage["id"], "urgent")


def test_sync_all_queues_in_batches_reuses_pending_tasks_and_skips_storages_being_deleted(any_db):
    """task_create_syncs: what task_create_sync would do per storage, across batch boundaries."""
    storages = [register(registration_body(port=9100 + i, serial_number=f"SN-B{i}"))[0] for i in range(5)]
    registered = {s["id"]: t for s, t in (register(registration_body(port=9200, serial_number="SN-P")),)}
    for storage in storages:
        task = db_api.task_list({"storage_id": storage["id"]}, None, None, None, [])[0]
        db_api.task_claim(task["id"], "w", 60)
        assert db_api.task_finish(task["id"], TaskStatus.COMPLETED)
    doomed = storages.pop()
    db_api.storage_mark_deleting(doomed["id"])

    queued = db_api.task_create_syncs("background", batch=2)
    by_storage = {t["storage_id"]: (t, created) for t, created in queued}
    assert len(queued) == len(by_storage) == 5 and doomed["id"] not in by_storage
    assert [t["storage_id"] for t, _ in queued] == sorted(by_storage)
    # the one still PENDING from its registration is reused, not doubled
    [(pending_id, first)] = registered.items()
    assert (by_storage[pending_id][0]["id"], by_storage[pending_id][1]) == (first["id"], False)
    for storage in storages:
        task, created = by_storage[storage["id"]]
        assert created
        assert (task["status"], task["priority"], task["type"]) == (TaskStatus.PENDING, "background", "sync")
        assert db_api.storage_get(storage["id"])["last_sync_task_id"] == task["id"]
    # asked again: every storage already has its PENDING sync
    assert [(t["id"], c) for t, c in db_api.task_create_syncs("background", batch=2)] == [
        (t["id"], False) for t, _ in queued]


def test_sync_of_a_cancelled_task_applies_nothing(any_db):
    storage, task = register(registration_body())
    db_api.task_claim(task["id"], "w", 60)
    assert db_api.task_finish(task["id"], TaskStatus.CANCELLED)
    changes = diff.compute_changes("volumes", {}, [models.Volume(native_volume_id="v1", name="v1")])
    probe = models.Storage(name="x", vendor="v", model="m", serial_number="s")
    with pytest.raises(exception.SyncAborted):
        db_api.sync_apply(storage["id"], task["id"], "w", probe, [changes])
    assert db_api.resource_list("volumes", {"storage_id": storage["id"]}) == []
    assert db_api.task_get(task["id"])["status"] == TaskStatus.CANCELLED


def test_remove_deletes_storage_and_every_row(any_db):
    storage, task = register(registration_body(volumes=30, pools=2))
    sync(storage["id"], task["id"])
    remove = db_api.storage_mark_deleting(storage["id"])
    assert remove["type"] == "remove"
    assert db_api.storage_mark_deleting(storage["id"])["id"] == remove["id"]  # idempotent
    assert db_api.storage_get(storage["id"])["sync_status"] == SyncStatus.DELETING
    counts = db_api.storage_remove(storage["id"])
    assert counts == {"storage_pools": 2, "volumes": 30, "controllers": 2, "ports": 8, "disks": 8, "storages": 1}
    with pytest.raises(exception.StorageNotFound):
        db_api.storage_get(storage["id"])
    assert db_api.resource_list("volumes", {"storage_id": storage["id"]}) == []


@pytest.mark.parametrize("sort", [None, "name:asc", "name:desc", "created_at:desc", "name:asc,created_at:desc"])
def test_paging_by_marker_visits_every_row_once_in_every_documented_sort(any_db, sort):
    # one sync's rows share one created_at: the marker must break the ties by id, in both forms of the
    # keyset predicate (row values where the directions agree, the OR form always)
    first, task = register(registration_body(volumes=45, pools=2))
    sync(first["id"], task["id"])
    second, task = register(registration_body(port=8444, volumes=30, pools=2, seed=1))
    sync(second["id"], task["id"])
    for filters, total in ((None, 75), ({"storage_id": second["id"]}, 30)):
        everything = [v["id"] for v in db_api.resource_list("volumes", filters, sort=sort)]
        seen, marker = [], None
        for _ in range(total):  # bounded: an ignored marker would repeat pages until the assert below
            page = db_api.resource_list("volumes", filters, limit=7, marker=marker, sort=sort)
            seen.extend(v["id"] for v in page)
            if len(page) < 7:
                break
            marker = page[-1]["id"]
        assert seen == everything and len(set(seen)) == total, (sort, filters)


def test_listing_filters_sort_and_marker_never_skip_or_repeat(any_db):
    storage, task = register(registration_body(volumes=97, pools=3))
    sync(storage["id"], task["id"])
    everything = db_api.resource_list("volumes", {"storage_id": storage["id"]}, sort="type:desc,total_capacity:asc")
    seen, marker = [], None
    while len(seen) <= len(everything):  # a marker that is ignored repeats pages: bounded, then the assert fails
        page = db_api.resource_list("volumes", {"storage_id": storage["id"]}, limit=10, marker=marker,
                                    sort="type:desc,total_capacity:asc")
        if not page:
            break
        seen.extend(v["id"] for v in page)
        marker = page[-1]["id"]
    assert seen == [v["id"] for v in everything] and len(set(seen)) == 97
    by_offset = db_api.resource_list("volumes", {"storage_id": storage["id"]}, limit=10, offset=90,
                                     sort="type:desc,total_capacity:asc")
    assert [v["id"] for v in by_offset] == seen[90:]
    pool0 = db_api.resource_list("volumes", {"storage_id": storage["id"], "native_storage_pool_id": "pool-0"})
    assert len(pool0) == 33
    assert len(db_api.resource_list("volumes", {"compressed": "true"})) == 33
    for bad in ({"nope": 1}, {"total_capacity": "big"}):
        with pytest.raises(exception.InvalidInput):
            db_api.resource_list("volumes", bad)
    with pytest.raises(exception.InvalidInput):
        db_api.resource_list("volumes", sort="description:asc")
    with pytest.raises(exception.InvalidInput):
        db_api.resource_list("volumes", marker="00000000-0000-0000-0000-000000000000")
    with pytest.raises(exception.VolumeNotFound):
        db_api.resource_get("volumes", "missing")


def test_task_claim_is_exclusive_and_release_retries_then_fails(any_db):
    storage, task = register(registration_body())
    assert db_api.task_claim(task["id"], "a", 60)["status"] == TaskStatus.RUNNING
    assert db_api.task_claim(task["id"], "b", 60) is None
    assert db_api.task_release(task["id"], "b", "not mine", 3) is None
    assert db_api.task_release(task["id"], "a", "lock busy", 2) == TaskStatus.PENDING
    assert db_api.task_claim(task["id"], "b", 60)["attempts"] == 2
    assert db_api.task_release(task["id"], "b", "lock busy", 2) == TaskStatus.FAILED
    failed = db_api.task_get(task["id"])
    assert failed["error"] == "lock busy" and failed["finished_at"] is not None
    assert db_api.storage_get(storage["id"])["sync_status"] == SyncStatus.FAILED


def test_expired_leases_and_stale_pending_tasks_are_redispatched(any_db):
    storage, task = register(registration_body())
    db_api.task_claim(task["id"], "dead-worker", 0)  # lease already over
    redo = db_api.tasks_to_redispatch(pending_older_than=3600, max_attempts=3)
    assert [t["id"] for t in redo] == [task["id"]]
    assert redo[0]["status"] == TaskStatus.PENDING and redo[0]["lease_owner"] is None
    assert db_api.tasks_to_redispatch(pending_older_than=3600) == []
    assert [t["id"] for t in db_api.tasks_to_redispatch(pending_older_than=0)] == [task["id"]]
    assert db_api.task_renew_leases("nobody", [task["id"]], 60) == 0


def test_a_worker_cannot_end_a_task_it_does_not_hold(any_db):
    _, task = register(registration_body())
    assert not db_api.task_finish(task["id"], TaskStatus.CANCELLED, owner="lost-worker")  # still PENDING
    db_api.task_claim(task["id"], "b", 60)
    assert not db_api.task_finish(task["id"], TaskStatus.FAILED, owner="lost-worker")
    assert db_api.task_finish(task["id"], TaskStatus.COMPLETED, owner="b")


def test_cancel_pending_and_running_syncs_but_not_finished_or_remove_tasks(any_db):
    storage, task = register(registration_body())
    assert db_api.task_cancel(task["id"])["status"] == TaskStatus.CANCELLED
    with pytest.raises(exception.TaskNotCancellable):
        db_api.task_cancel(task["id"])
    with pytest.raises(exception.TaskNotFound):
        db_api.task_cancel("missing")

    running, _ = db_api.task_create_sync(storage["id"], "urgent")
    db_api.task_claim(running["id"], "w", 60)
    assert db_api.task_cancel(running["id"])["error"] == "cancelled by request"
    # the worker comes to write and is refused: nothing lands
    changes = diff.compute_changes("volumes", {}, [models.Volume(native_volume_id="v1", name="v1")])
    with pytest.raises(exception.SyncAborted):
        db_api.sync_apply(storage["id"], running["id"], "w", models.Storage(
            name="x", vendor="v", model="m", serial_number="s"), [changes])
    assert db_api.resource_list("volumes", {"storage_id": storage["id"]}) == []

    remove = db_api.storage_mark_deleting(storage["id"])
    with pytest.raises(exception.TaskNotCancellable):
        db_api.task_cancel(remove["id"])


def test_stored_fingerprints_stream_in_pages_and_match_the_rows(any_db, monkeypatch):
    # pages of 7 rows (and batches of 100 rows to write): every page boundary is crossed
    monkeypatch.setattr(inventory, "_FINGERPRINT_PAGE", 7)
    CONF.set_override("write_batch_size", 100, group="database")
    try:
        storage, task = register(registration_body(volumes=250, pools=3))
        assert sync(storage["id"], task["id"])["volumes"]["added"] == 250
    finally:
        CONF.clear_override("write_batch_size", group="database")
    stored = db_api.resource_fingerprints(storage["id"], "volumes")
    assert isinstance(stored, diff.StoredFingerprints)
    table = inventory.RESOURCE_TABLES["volumes"]
    with inventory.read() as conn:
        rows = conn.execute(
            sa.select(table.c.native_volume_id, table.c.id, table.c.fingerprint).where(
                table.c.storage_id == storage["id"])
        ).all()
    assert len(rows) == 250
    assert dict(stored.items()) == {n: (i, f) for n, i, f in rows}
    # held compactly: every id and fingerprint this service wrote is 16 bytes, none kept aside
    assert not stored._odd_row_ids and not stored._odd_fingerprints
    assert db_api.resource_fingerprints("no-such-storage", "volumes") == {}
