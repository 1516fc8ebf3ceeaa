"""A sync whose rows spill to the spool's temporary file writes exactly the rows an in-memory one does."""

from delfin_like import spool
from delfin_like.common.constants import TaskStatus
from delfin_like.db import api as db_api
from tests.unit.task_manager import fakes

# what differs between two storages' copies of the same volume
_OWN = {"id", "storage_id", "created_at", "updated_at", "native_storage_pool_id"}


def _rows(storage_id):
    rows = db_api.resource_list("volumes", {"storage_id": storage_id}, None, None, None, None)
    return sorted(({k: v for k, v in r.items() if k not in _OWN} for r in rows), key=lambda r: r["native_volume_id"])


def _resync(manager, storage, **attrs):
    db_api.access_info_update(storage["id"], {"pools": 3, "volumes": 120, "seed": 3, **attrs})
    task, _ = db_api.task_create_sync(storage["id"], "urgent")
    assert manager.run_task(None, task["id"]) == TaskStatus.COMPLETED
    return db_api.task_get(task["id"])["result"]["volumes"]


def test_a_spilled_sync_writes_the_same_rows(manager, monkeypatch):
    plain, plain_task = fakes.register_fake_storage(volumes=120, seed=3, host="10.0.0.1")
    assert manager.run_task(None, plain_task["id"]) == TaskStatus.COMPLETED

    monkeypatch.setattr(spool, "DEFAULT_SPILL_AT", 10)
    monkeypatch.setattr(spool, "DEFAULT_BATCH", 7)
    spills = []
    original_spill = spool.RowSpool._spill

    def counting_spill(self):
        spills.append(len(self._buffer))
        original_spill(self)

    monkeypatch.setattr(spool.RowSpool, "_spill", counting_spill)
    spilled, spilled_task = fakes.register_fake_storage(volumes=120, seed=3, host="10.0.0.2")
    assert manager.run_task(None, spilled_task["id"]) == TaskStatus.COMPLETED
    assert db_api.task_get(spilled_task["id"])["result"]["volumes"]["added"] == 120

    assert sum(spills) > 100, spills  # most rows went through the temporary file
    expected = _rows(plain["id"])
    assert len(expected) == 120 and _rows(spilled["id"]) == expected

    # a re-sync that changes and removes rows: the updates spill too and land the same
    changed = _resync(manager, spilled, seed=4, volumes=100)
    assert changed["updated"] > 10 and changed["deleted"] == 20, changed
    _resync(manager, plain, seed=4, volumes=100)
    assert _rows(spilled["id"]) == _rows(plain["id"])
