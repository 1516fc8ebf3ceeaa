"""Readers are never blocked by a running sync: while ``sync_apply``'s transaction is open (its first
batch written, the storage row locked FOR UPDATE), reads answer at once with the data as it was
before, on SQLite (WAL), PostgreSQL and MariaDB (consistent non-locking reads).

The transaction is held open by the change set itself: its rows come from a container that, after
the first batch, waits for the test to let it go on. Nothing else is stood in for.
"""

import concurrent.futures
import threading

from delfin_like import diff
from delfin_like import driver_manager as dm
from delfin_like.common.constants import RESOURCE_TYPES, SyncStatus, TaskStatus
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.task_manager.jobs.sync import LISTERS
from tests.db_helpers import register, registration_body, sync

BATCH = 100  # the least write_batch_size: the first batch is in the open transaction when it pauses
# seconds a read may take before it counts as blocked: far below SQLite's busy_timeout (30 s) and
# InnoDB's lock wait (50 s), which a read waiting on the sync's locks would sit out
BLOCKED_AFTER = 10


class _GatedRows(list):
    """A change-set container that, once the writer has taken more than one batch, sets ``inside``
    and waits for ``release`` before yielding the rest: the write transaction stays open meanwhile."""

    def __init__(self, inside: threading.Event, release: threading.Event):
        super().__init__()
        self.inside, self.release = inside, release

    def __iter__(self):
        for i, item in enumerate(list.__iter__(self)):
            if i == BATCH + 1:
                self.inside.set()
                if not self.release.wait(60):
                    raise AssertionError("the test never let the write go on")
            yield item


def _change_sets(storage_id: str, inside, release):
    driver = dm.load(dm.access_info_from_stored(db_api.access_info_get(storage_id)))
    sink = {"volumes": lambda: _GatedRows(inside, release)}
    return driver.get_storage(), [
        diff.compute_changes(
            rt, db_api.resource_fingerprints(storage_id, rt), getattr(driver, LISTERS[rt])(), sink=sink.get(rt, list)
        )
        for rt in RESOURCE_TYPES
    ]


def _snapshot(storage_id: str, volume_id: str) -> dict:
    return {
        "storage": db_api.storage_get(storage_id),
        "storages": db_api.storage_list(),
        "volumes": db_api.resource_list("volumes", {"storage_id": storage_id}, sort=[("native_volume_id", "asc")]),
        "volume": db_api.resource_get("volumes", volume_id),
        "pools": db_api.resource_list("storage_pools", {"storage_id": storage_id}),
    }


def test_reads_during_an_open_sync_transaction_answer_at_once_with_the_old_data(any_db):
    CONF.set_override("write_batch_size", BATCH, group="database")
    storage, task = register(registration_body(pools=2, volumes=40))
    sync(storage["id"], task["id"])
    volume_id = db_api.resource_list("volumes", {"storage_id": storage["id"]}, limit=1)[0]["id"]
    before = _snapshot(storage["id"], volume_id)
    assert len(before["volumes"]) == 40 and before["storage"]["sync_status"] == SyncStatus.SYNCED

    # the next sync finds 400 volumes more: more than one batch of rows to add
    db_api.access_info_update(storage["id"], registration_body(pools=2, volumes=440)["extra_attributes"])
    task, _ = db_api.task_create_sync(storage["id"], "urgent")
    assert db_api.task_claim(task["id"], "test-owner", 60) is not None
    inside, release = threading.Event(), threading.Event()
    sdk_storage, change_sets = _change_sets(storage["id"], inside, release)
    pool = concurrent.futures.ThreadPoolExecutor(2)
    try:
        writer = pool.submit(db_api.sync_apply, storage["id"], task["id"], "test-owner", sdk_storage, change_sets)
        if not inside.wait(30):
            failure = writer.exception(0) if writer.done() else None
            raise AssertionError(f"the sync never reached its second batch ({failure})")
        # the transaction is open: the storage row locked FOR UPDATE and updated, 100 rows inserted
        reader = pool.submit(_snapshot, storage["id"], volume_id)
        try:
            during = reader.result(BLOCKED_AFTER)
        except concurrent.futures.TimeoutError:
            raise AssertionError(f"a read waited more than {BLOCKED_AFTER} s on the running sync") from None
        assert not writer.done(), "the write finished before the reads: they proved nothing"
    finally:
        release.set()
        pool.shutdown(wait=True)
    assert during["volumes"] == before["volumes"]
    assert during["volume"] == before["volume"]
    assert during["pools"] == before["pools"]
    # the storage row as committed, not as the open transaction updated it; its task is the running one
    assert during["storage"] == {**before["storage"], "sync_status": SyncStatus.SYNCING,
                                 "last_sync_task_id": task["id"]}
    assert [s["id"] for s in during["storages"]] == [s["id"] for s in before["storages"]]

    result = writer.result()
    assert result["volumes"] == {"added": 400, "updated": 0, "deleted": 0, "unchanged": 40}
    after = _snapshot(storage["id"], volume_id)
    assert len(after["volumes"]) == 440 and after["storage"]["sync_status"] == SyncStatus.SYNCED
    assert db_api.task_get(task["id"])["status"] == TaskStatus.COMPLETED
