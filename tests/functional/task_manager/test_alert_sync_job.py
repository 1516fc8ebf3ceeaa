"""The alert sync job in-process against the fake driver, on SQLite, PostgreSQL and MariaDB (issue 14)."""

import dataclasses
import json
import uuid

import pytest

from delfin_like import coordination
from delfin_like.common import constants, crypto, exception
from delfin_like.common.constants import TaskStatus
from delfin_like.db import api as db_api
from delfin_like.db.sqlalchemy import engine as db_engine
from delfin_like.db.sqlalchemy import models
from delfin_like.task_manager.jobs import alert_sync
from tests.db_helpers import register, registration_body

OWNER = "test-owner"


@pytest.fixture
def storage(any_db, tmp_path):
    from delfin_like.conf import CONF

    CONF.set_override("backend_url", f"file://{tmp_path}/locks", group="coordination")
    # alert i of the fake occurred at epoch + 60 i; every fifth (i % 5 == 4) is cleared on the array
    # a serial of its own: the fake remembers the alerts cleared on "its array" by serial number
    storage, _ = register(registration_body(volumes=2, pools=1, alerts=10, alert_epoch=1_700_000_000,
                                            serial_number=f"ALSYNC{uuid.uuid4().hex[:12]}"))
    yield storage
    coordination.stop()


def _run(storage_id):
    task, created = db_api.task_create_alert_sync(storage_id, constants.Lane.URGENT)
    assert created and task["type"] == "alert_sync"
    assert db_api.task_claim(task["id"], OWNER, 60) is not None
    result = alert_sync.run(db_api.task_get(task["id"]), OWNER)
    done = db_api.task_get(task["id"])
    assert done["status"] == TaskStatus.COMPLETED and done["result"] == result
    return result


def _sync_alerts(storage_id):
    rows = db_api.alert_list({"storage_id": storage_id, "source": "sync"}, None, None, None, None)
    return {r["sequence_number"]: r for r in rows}


def _set_attrs(storage_id, **attrs):
    stored = db_api.access_info_get(storage_id)["extra_attributes"]
    db_api.access_info_update(storage_id, {**stored, **attrs})


def _use_generic_snmp(storage_id):
    """Point the stored access info at the generic snmp driver, which cannot list alerts
    (built without reaching any agent; list_alerts is the sdk base's NotSupported)."""
    access = models.AccessInfo.__table__
    block = crypto.encrypt_block({"host": "127.0.0.1", "port": 1161, "version": "2c", "community": "c"})
    with db_engine.write() as conn:
        conn.execute(access.update().where(access.c.storage_id == storage_id)
                     .values(vendor="generic", model="snmp", snmp=json.dumps(block)))


def test_sync_resync_and_changes_write_exact_rows(storage):
    sid = storage["id"]
    assert _run(sid) == {"added": 10, "updated": 0, "cleared": 0, "unchanged": 0, "rows_written": 10}
    rows = _sync_alerts(sid)
    assert set(rows) == {str(i) for i in range(1, 11)}
    assert {s for s, r in rows.items() if r["state"] == "cleared"} == {"5", "10"}
    assert rows["5"]["cleared_by"] == "array"
    # nothing changed on the array: nothing written (listing starts at the oldest open alert)
    assert _run(sid) == {"added": 0, "updated": 0, "cleared": 0, "unchanged": 10, "rows_written": 0}
    assert _sync_alerts(sid) == rows
    # the array gains 3 alerts (one of them, 15, cleared) and clears alert 1 (the fake's clear_alert)
    _set_attrs(sid, alerts=13)
    from delfin_like import driver_manager

    driver = driver_manager.load(driver_manager.access_info_from_stored(db_api.access_info_get(sid)))
    driver.clear_alert("1")
    result = _run(sid)
    assert result == {"added": 3, "updated": 0, "cleared": 1, "unchanged": 9, "rows_written": 4}
    rows = _sync_alerts(sid)
    assert len(rows) == 13 and rows["1"]["state"] == "cleared" and rows["1"]["cleared_by"] == "array"
    assert _run(sid)["rows_written"] == 0


def test_a_driver_that_cannot_list_alerts_fails_the_task(any_db, tmp_path):
    from delfin_like.conf import CONF
    from delfin_like.task_manager import manager as tm_manager
    from tests.unit.task_manager import fakes

    CONF.set_override("backend_url", f"file://{tmp_path}/locks", group="coordination")
    try:
        storage, _ = register(registration_body(volumes=1, pools=1, alerts=3))
        sid = storage["id"]
        # its periodic alert sync, as the scheduler gives a storage that has none
        assert db_api.alert_sync_schedules_ensure(600) >= 1
        access = models.AccessInfo.__table__
        with db_engine.read() as conn:
            fake_access = dict(conn.execute(access.select().where(access.c.storage_id == sid)).one()._mapping)
        _use_generic_snmp(sid)
        task, _ = db_api.task_create_alert_sync(sid, "urgent")
        mgr = tm_manager.TaskManager(fakes.RecordingTaskAPI())
        status = mgr.run_task(None, task["id"])
        done = db_api.task_get(task["id"])
        assert status == TaskStatus.FAILED, done
        assert "cannot" in done["error"]
        assert _sync_alerts(sid) == {}
        # one failed alert sync, not one per period: the schedule is paused (its interval kept)
        policy = db_api.sync_policy_get(sid)
        assert (policy["alert_sync_interval"], policy["alert_sync_enabled"]) == (600, False)
        # the driver lists alerts again (here: the fake back): the next alert sync that completes resumes it
        with db_engine.write() as conn:
            conn.execute(access.update().where(access.c.storage_id == sid).values(
                vendor=fake_access["vendor"], model=fake_access["model"], snmp=None))
        task, _ = db_api.task_create_alert_sync(sid, "urgent")
        assert mgr.run_task(None, task["id"]) == TaskStatus.COMPLETED
        assert len(_sync_alerts(sid)) == 3
        assert db_api.sync_policy_get(sid)["alert_sync_enabled"] is True
    finally:
        coordination.stop()


def test_an_alert_sync_does_not_wait_behind_an_inventory_sync(storage):
    from delfin_like.conf import CONF

    CONF.set_override("lock_wait_timeout", 0.5, group="coordination")
    # the inventory sync's lock held for the whole alert sync: it has a lock of its own
    with coordination.storage_lock(storage["id"], purpose="sync"):
        assert _run(storage["id"])["rows_written"] == 10
        # ... and two alert syncs of one storage exclude each other
        with coordination.storage_lock(storage["id"], purpose="alert_sync", scope=alert_sync.LOCK_SCOPE):
            task, _ = db_api.task_create_alert_sync(storage["id"], "urgent")
            assert db_api.task_claim(task["id"], OWNER, 60) is not None
            with pytest.raises(exception.LockUnavailable):
                alert_sync.run(db_api.task_get(task["id"]), OWNER)


def test_a_task_cancelled_before_the_write_writes_nothing(storage):
    task, _ = db_api.task_create_alert_sync(storage["id"], "urgent")
    assert db_api.task_claim(task["id"], OWNER, 60) is not None
    db_api.task_cancel(task["id"])
    assert alert_sync.run(db_api.task_get(task["id"]), OWNER) is None
    assert db_api.task_get(task["id"])["status"] == TaskStatus.CANCELLED
    assert _sync_alerts(storage["id"]) == {}


def test_deleting_the_storage_cancels_a_queued_alert_sync(storage):
    task, _ = db_api.task_create_alert_sync(storage["id"], "urgent")
    db_api.storage_mark_deleting(storage["id"])
    assert db_api.task_get(task["id"])["status"] == TaskStatus.CANCELLED


def test_trap_and_sync_of_one_event_are_one_alert(storage):
    """One identity for an array event (revision 0014): an alert sync of trapped events updates
    those rows only where the listing differs, never adds a second; a trap of a synced event is a
    repeat; a platform alert with the same sequence number stays its own row."""
    from delfin_like import driver_manager

    sid = storage["id"]
    driver = driver_manager.load(driver_manager.access_info_from_stored(db_api.access_info_get(sid)))
    listed = {a.sequence_number: a for a in driver.list_alerts(None)}
    # traps of events 1 and 2 read exactly as listed; event 3's trap carried less (no description)
    trapped = {seq: db_api.alert_record(sid, "trap", listed[seq])[0] for seq in ("1", "2")}
    trapped["3"] = db_api.alert_record(sid, "trap", dataclasses.replace(listed["3"], description=""))[0]
    db_api.alert_record(sid, "platform", {**dataclasses.asdict(listed["1"]), "alert_id": "unreachable"})
    result = _run(sid)
    assert result == {"added": 7, "updated": 1, "cleared": 0, "unchanged": 2, "rows_written": 8}
    rows = db_api.alert_list({"storage_id": sid}, None, None, None, None)
    array_rows = {r["sequence_number"]: r for r in rows if r["source"] != "platform"}
    assert len(array_rows) == 10 and sum(r["source"] == "platform" for r in rows) == 1
    for seq, before in trapped.items():  # the same rows: first seen by trap, filled in by the sync
        after = array_rows[seq]
        assert (after["id"], after["source"], after["repeat_count"]) == (before["id"], "trap", 1)
        assert after["description"] == listed[seq].description
    assert array_rows["2"]["last_seen"] == trapped["2"]["last_seen"]  # unchanged: not written at all
    # a synced event trapped later is a repeat of its row
    row, created = db_api.alert_record(sid, "trap", listed["4"])
    assert not created and row["id"] == array_rows["4"]["id"] and row["repeat_count"] == 2
    assert row["source"] == "sync"
    assert _run(sid)["rows_written"] == 0  # and the next sync sees nothing new


def test_a_trapped_event_does_not_move_where_the_next_sync_starts(storage):
    """Traps lost before a trapped event are still listed: the start is what syncs have listed."""
    import datetime

    sid = storage["id"]
    late = {"sequence_number": "99", "alert_id": "x", "alert_name": "x", "severity": "major", "category": "fault",
            "type": "equipment", "occur_time": datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)}
    db_api.alert_record(sid, "trap", {**late, "sequence_number": "98",
                                      "occur_time": datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)})
    assert db_api.alert_sync_since(sid) is None  # no alert sync yet: everything, whatever was trapped
    _run(sid)
    for row in db_api.alert_list({"storage_id": sid}, None, None, None, None):
        db_api.alert_clear(row["id"], "test")
    newest = max(r["occur_time"] for r in _sync_alerts(sid).values()).replace(tzinfo=datetime.UTC)
    assert db_api.alert_sync_since(sid) == newest
    # a trapped 99, open and newer than any listed alert, does not move the start past lost traps
    db_api.alert_record(sid, "trap", late)
    assert db_api.alert_sync_since(sid) == newest


def test_alerts_link_to_the_inventory_rows_they_concern(any_db, tmp_path):
    from delfin_like.conf import CONF
    from tests.db_helpers import sync

    CONF.set_override("backend_url", f"file://{tmp_path}/locks", group="coordination")
    try:
        storage, task = register(registration_body(volumes=30, pools=3, alerts=60,
                                                   serial_number=f"ALLINK{uuid.uuid4().hex[:12]}"))
        sid = storage["id"]
        sync(sid, task["id"])
        assert _run(sid)["added"] == 60
        rows = _sync_alerts(sid)
        inventory = {}
        for resource_type, native in (("storage_pool", "native_storage_pool_id"), ("volume", "native_volume_id"),
                                      ("controller", "native_controller_id"), ("port", "native_port_id"),
                                      ("disk", "native_disk_id")):
            for row in db_api.resource_list(f"{resource_type}s", {"storage_id": sid}, None, None, None, None):
                inventory[(resource_type, row[native])] = row["id"]
        kinds = set()
        for alert in rows.values():
            if alert["resource_type"] == "storage":
                assert alert["resource_row_id"] == sid
            else:
                key = (alert["resource_type"], alert["native_resource_id"])
                assert alert["resource_row_id"] == inventory[key], alert
            kinds.add(alert["resource_type"])
        assert len(kinds) >= 4  # the fake spreads its alerts over the resource types
    finally:
        coordination.stop()
