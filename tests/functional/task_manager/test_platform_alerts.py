"""Platform alerts (issue 14): syncs and collections of the fake driver run by the task manager
in-process, on SQLite, PostgreSQL and MariaDB; the alerts land in the real alerts table."""

import logging
import uuid

import pytest

from delfin_like import coordination
from delfin_like.alert_manager import platform
from delfin_like.common.constants import TaskStatus
from delfin_like.db import api as db_api
from delfin_like.task_manager import manager as tm_manager
from tests.db_helpers import register, registration_body
from tests.unit.task_manager import fakes, perf_helpers


@pytest.fixture
def setup(any_db, tmp_path):
    from delfin_like.conf import CONF

    CONF.set_override("backend_url", f"file://{tmp_path}/locks", group="coordination")
    # an unreachable array is retried (PENDING) for all these attempts: never FAILED here
    CONF.set_override("max_attempts", 50, group="task_manager")
    storage, task = register(registration_body(volumes=2, pools=1, serial_number=f"PLAT{uuid.uuid4().hex[:12]}"))
    mgr = tm_manager.TaskManager(fakes.RecordingTaskAPI())
    assert mgr.run_task(None, task["id"]) == TaskStatus.COMPLETED
    yield storage["id"], mgr
    coordination.stop()


def _set_attrs(storage_id, **attrs):
    stored = dict(db_api.access_info_get(storage_id)["extra_attributes"])
    stored.update(attrs)
    for name in [k for k, v in stored.items() if v is None]:
        del stored[name]
    db_api.access_info_update(storage_id, stored)


def _sync(mgr, storage_id):
    task, _ = db_api.task_create_sync(storage_id, "urgent")  # a PENDING (handed back) one is reused
    status = mgr.run_task(None, task["id"])
    assert db_api.task_get(task["id"])["status"] == status
    return status


def _platform(storage_id):
    rows = db_api.alert_list({"storage_id": storage_id, "source": "platform"}, None, None, None, None)
    return {r["sequence_number"]: r for r in rows}


def test_unreachable_raises_once_repeats_clears_and_reopens(setup):
    sid, mgr = setup
    assert _platform(sid) == {}
    _set_attrs(sid, error="unreachable")
    assert _sync(mgr, sid) == TaskStatus.PENDING  # transient: handed back, still counts
    rows = _platform(sid)
    assert set(rows) == {"unreachable"}
    first = rows["unreachable"]
    assert first["state"] == "open" and first["repeat_count"] == 1 and first["severity"] == "critical"
    assert first["alert_name"] == "Array not answering" and "unreachable" in first["description"]
    # the retry fails again: the same row, repeated
    assert _sync(mgr, sid) == TaskStatus.PENDING
    rows = _platform(sid)
    assert set(rows) == {"unreachable"}
    assert rows["unreachable"]["id"] == first["id"] and rows["unreachable"]["repeat_count"] == 2
    # the array answers again: cleared once, by the platform
    _set_attrs(sid, error=None)
    assert _sync(mgr, sid) == TaskStatus.COMPLETED
    cleared = _platform(sid)["unreachable"]
    assert cleared["state"] == "cleared" and cleared["cleared_by"] == "platform"
    # a further success changes nothing
    assert _sync(mgr, sid) == TaskStatus.COMPLETED
    assert _platform(sid)["unreachable"] == cleared
    # a later outage reopens the one row
    _set_attrs(sid, error="unreachable")
    assert _sync(mgr, sid) == TaskStatus.PENDING
    rows = _platform(sid)
    assert set(rows) == {"unreachable"}
    assert rows["unreachable"]["id"] == first["id"] and rows["unreachable"]["state"] == "open"
    assert rows["unreachable"]["cleared_by"] is None and rows["unreachable"]["repeat_count"] == 3


def test_invalid_credentials_raise_and_a_success_clears(setup):
    sid, mgr = setup
    _set_attrs(sid, error="invalid_credentials")
    assert _sync(mgr, sid) == TaskStatus.FAILED
    assert _sync(mgr, sid) == TaskStatus.FAILED
    rows = _platform(sid)
    assert set(rows) == {"invalid-credentials"}  # two failures: under the sync-failing threshold (3)
    assert rows["invalid-credentials"]["state"] == "open" and rows["invalid-credentials"]["repeat_count"] == 2
    _set_attrs(sid, error=None)
    assert _sync(mgr, sid) == TaskStatus.COMPLETED
    row = _platform(sid)["invalid-credentials"]
    assert row["state"] == "cleared" and row["cleared_by"] == "platform"


def test_three_failed_syncs_raise_sync_failing_and_a_completed_sync_clears_it(setup):
    sid, mgr = setup
    _set_attrs(sid, error="backend_error")  # neither unreachable nor credentials: only sync-failing
    assert _sync(mgr, sid) == TaskStatus.FAILED
    assert _sync(mgr, sid) == TaskStatus.FAILED
    assert _platform(sid) == {}
    assert _sync(mgr, sid) == TaskStatus.FAILED
    rows = _platform(sid)
    assert set(rows) == {"sync-failing"}
    assert rows["sync-failing"]["state"] == "open" and rows["sync-failing"]["repeat_count"] == 1
    assert rows["sync-failing"]["description"].startswith("3 syncs in a row failed")
    assert _sync(mgr, sid) == TaskStatus.FAILED
    assert _platform(sid)["sync-failing"]["repeat_count"] == 2
    _set_attrs(sid, error=None)
    assert _sync(mgr, sid) == TaskStatus.COMPLETED
    row = _platform(sid)["sync-failing"]
    assert row["state"] == "cleared" and row["cleared_by"] == "platform"
    # the count starts again after the completed sync: one failure raises nothing
    _set_attrs(sid, error="backend_error")
    assert _sync(mgr, sid) == TaskStatus.FAILED
    assert _platform(sid)["sync-failing"]["state"] == "cleared"


def test_an_unreachable_collection_raises_and_a_sync_clears(setup):
    sid, mgr = setup
    perf_helpers.enable(sid, "storage")
    _set_attrs(sid, perf_error="unreachable")
    task = perf_helpers.fire(sid, "storage")
    mgr.run_task(None, task["id"])
    rows = _platform(sid)
    assert set(rows) == {"unreachable"} and rows["unreachable"]["state"] == "open"
    assert "collection" in rows["unreachable"]["description"]
    assert _sync(mgr, sid) == TaskStatus.COMPLETED  # the array answers a sync: cleared
    assert _platform(sid)["unreachable"]["state"] == "cleared"


def test_refused_credentials_of_a_collection_raise_and_a_completed_collection_clears(setup):
    sid, mgr = setup
    perf_helpers.enable(sid, "storage")
    _set_attrs(sid, perf_error="invalid_credentials")
    mgr.run_task(None, perf_helpers.fire(sid, "storage")["id"])
    assert _platform(sid)["invalid-credentials"]["state"] == "open"
    _set_attrs(sid, perf_error=None)
    task = perf_helpers.fire(sid, "storage")
    assert mgr.run_task(None, task["id"]) == TaskStatus.COMPLETED, db_api.task_get(task["id"])
    row = _platform(sid)["invalid-credentials"]
    assert row["state"] == "cleared" and row["cleared_by"] == "platform"


def test_an_error_while_recording_does_not_change_how_the_task_ends(setup, monkeypatch, caplog):
    sid, mgr = setup

    def broken(*args, **kwargs):
        raise RuntimeError("alert store broken")

    monkeypatch.setattr(db_api, "alert_record", broken)
    _set_attrs(sid, error="unreachable")
    with caplog.at_level(logging.ERROR, logger=platform.__name__):
        assert _sync(mgr, sid) == TaskStatus.PENDING
    assert "Could not record the platform alert" in caplog.text
    assert _platform(sid) == {}
    # the store works again: the next failure raises it; a broken clear leaves the success alone
    monkeypatch.undo()
    assert _sync(mgr, sid) == TaskStatus.PENDING
    assert _platform(sid)["unreachable"]["state"] == "open"
    monkeypatch.setattr(db_api, "alert_clear", broken)
    _set_attrs(sid, error=None)
    assert _sync(mgr, sid) == TaskStatus.COMPLETED
    assert _platform(sid)["unreachable"]["state"] == "open"
    monkeypatch.undo()
    assert _sync(mgr, sid) == TaskStatus.COMPLETED
    assert _platform(sid)["unreachable"]["state"] == "cleared"
