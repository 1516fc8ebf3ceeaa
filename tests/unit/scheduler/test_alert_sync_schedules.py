"""Periodic alert sync schedules (issue 14) in one process: SQLite, the fake:// bus, no election.

A storage registered before alert syncs were scheduled gets its schedule from the scheduler
(due at once), which then fires it like any periodic schedule; a paused or switched-off
schedule is never recreated; pausing and resuming write only when they change something.
"""

import datetime
import uuid

import pytest

from delfin_like import coordination
from delfin_like.common.constants import TaskStatus
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.db.sqlalchemy.utils import utcnow
from delfin_like.rpc import transport as rpc_transport
from delfin_like.scheduler import service as scheduler_service
from tests.unit.task_manager import fakes


@pytest.fixture
def rpcapi(sqlite_db):
    rpc_transport.register_opts()
    CONF.set_override("transport_url", "fake://")
    CONF.set_override("topic", f"test.{uuid.uuid4().hex[:8]}", group="rpc")
    CONF.set_override("interval", 300, group="alert_sync")
    yield fakes.RecordingTaskAPI()
    rpc_transport.cleanup()
    coordination.stop()


def _alert_casts(rpcapi, storage_id):
    return [t for t in rpcapi.cast_tasks if t["type"] == "alert_sync" and t["storage_id"] == storage_id]


def test_a_storage_registered_without_one_gets_its_schedule_and_its_alert_syncs(rpcapi):
    # registered as before this change: no periodic alert sync row, no alert sync task
    storage, _ = fakes.register_fake_storage(alerts=4)
    assert db_api.sync_policy_get(storage["id"])["alert_sync_interval"] is None
    scheduler = scheduler_service.Scheduler(rpcapi, elect=False, redispatch_interval=3600)
    before = utcnow()
    scheduler.tick()  # fires what is due, then (first scan) creates the missing schedule, due now
    policy = db_api.sync_policy_get(storage["id"])
    assert (policy["alert_sync_interval"], policy["alert_sync_enabled"]) == (300, True)
    assert policy["next_alert_sync_at"] <= utcnow()
    scheduler.tick()  # ... which the next tick fires
    [task] = _alert_casts(rpcapi, storage["id"])
    assert (task["status"], task["priority"]) == (TaskStatus.PENDING, "normal")
    policy = db_api.sync_policy_get(storage["id"])
    assert policy["last_alert_sync_task_id"] == task["id"]
    assert before + datetime.timedelta(seconds=299) <= policy["next_alert_sync_at"]
    # nothing more is due, nothing is created twice
    assert db_api.alert_sync_schedules_ensure(300) == 0
    scheduler.tick()
    assert len(_alert_casts(rpcapi, storage["id"])) == 1


def test_a_due_alert_sync_reuses_a_queued_one(rpcapi):
    storage, _ = fakes.register_fake_storage(alerts=4)
    queued, created = db_api.task_create_alert_sync(storage["id"], "urgent")
    assert created
    assert db_api.alert_sync_schedules_ensure(300) == 1
    [due] = [d for d in db_api.schedules_due() if d["storage_id"] == storage["id"]]
    fired = db_api.schedule_fire(due)
    assert fired["task"]["id"] == queued["id"] and fired["created"] is False


def test_pause_and_resume_and_what_is_never_recreated(rpcapi):
    storage, _ = fakes.register_fake_storage(alerts=4)
    sid = storage["id"]
    assert db_api.alert_sync_schedule_resume(sid) is False  # none yet: nothing to resume
    assert db_api.alert_sync_schedules_ensure(300) == 1
    assert db_api.alert_sync_schedule_resume(sid) is False  # enabled: nothing written
    assert db_api.alert_sync_schedule_pause(sid) is True
    assert db_api.alert_sync_schedule_pause(sid) is False
    paused = db_api.sync_policy_get(sid)
    assert (paused["alert_sync_interval"], paused["alert_sync_enabled"], paused["next_alert_sync_at"]) == (
        300, False, None)
    assert db_api.alert_sync_schedules_ensure(300) == 0
    assert [d for d in db_api.schedules_due(utcnow() + datetime.timedelta(days=1)) if d["storage_id"] == sid] == []
    before = utcnow()
    assert db_api.alert_sync_schedule_resume(sid) is True
    resumed = db_api.sync_policy_get(sid)
    assert resumed["alert_sync_enabled"] is True
    assert before + datetime.timedelta(seconds=299) <= resumed["next_alert_sync_at"]
    # switched off by the operator: no interval, so a completed alert sync does not resume it
    db_api.sync_policy_set(sid, alert_sync_interval=0)
    assert db_api.alert_sync_schedule_resume(sid) is False
    assert db_api.alert_sync_schedules_ensure(300) == 0


def test_no_interval_configured_creates_nothing_and_deleting_storages_are_left_out(rpcapi):
    kept, _ = fakes.register_fake_storage()
    going, _ = fakes.register_fake_storage()
    db_api.storage_mark_deleting(going["id"])
    assert db_api.alert_sync_schedules_ensure(0) == 0
    assert db_api.alert_sync_schedules_ensure(300) == 1
    assert db_api.sync_policy_get(kept["id"])["alert_sync_enabled"] is True
    assert db_api.sync_policy_get(going["id"])["alert_sync_interval"] is None


def test_which_drivers_list_alerts():
    from delfin_like import driver_manager

    assert driver_manager.lists_alerts("fake_storage", "fake_driver") is True
    assert driver_manager.lists_alerts("ibm", "svc_ssh") is True
    assert driver_manager.lists_alerts("generic", "snmp") is False


def test_a_registration_whose_driver_lists_no_alerts_stores_a_paused_schedule_and_queues_nothing(rpcapi):
    from delfin_like import driver_manager
    from delfin_like.api.controllers.v1 import sync_policy
    from delfin_like.common import crypto

    policy = sync_policy.policy_for_registration(None, lists_alerts=False)
    assert policy["alert_sync"] == {"interval": 300, "enabled": False}
    rest = {"host": "10.9.9.9", "port": 8443, "username": "admin", "password": "pw"}
    body = {"vendor": "fake_storage", "model": "fake_driver", "rest": rest, "extra_attributes": {}}
    probed = driver_manager.probe(driver_manager.access_info_from_request(body))
    storage, task = db_api.storage_register(
        probed, {"vendor": "fake_storage", "model": "fake_driver", "rest": crypto.encrypt_block(rest),
                 "extra_attributes": {}}, [("rest", "10.9.9.9", 8443)], sync_policy=policy, alert_sync=False)
    sid = storage["id"]
    assert db_api.task_list({"storage_id": sid, "type": "alert_sync"}, None, None, None, None) == []
    paused = db_api.sync_policy_get(sid)
    assert (paused["alert_sync_interval"], paused["alert_sync_enabled"], paused["next_alert_sync_at"]) == (
        300, False, None)
    # nothing recreates or fires it
    assert db_api.alert_sync_schedules_ensure(300) == 0
    assert [d for d in db_api.schedules_due(utcnow() + datetime.timedelta(days=1)) if d["storage_id"] == sid
            and d["kind"] == "periodic_alert_sync"] == []
    assert task["type"] == "sync"
