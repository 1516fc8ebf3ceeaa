"""POST /v1/storages/{id}/alerts/sync and DELETE /v1/storages/{id}/alerts/{sequence_number}, on SQLite,
the fake:// bus and the fake driver (issue 14): 202 + reuse, clear on the array, 4xx with nothing changed."""

import json
import uuid

import pytest

from delfin_like import coordination
from delfin_like.common import crypto
from delfin_like.common.constants import Lane, TaskStatus
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.db.sqlalchemy import engine as db_engine
from delfin_like.db.sqlalchemy import models
from delfin_like.task_manager.jobs import alert_sync
from tests.unit.api.conftest import register_body


@pytest.fixture
def file_locks(tmp_path):
    CONF.set_override("backend_url", f"file://{tmp_path}/locks", group="coordination")
    yield
    coordination.stop()


def _register(api) -> str:
    body = register_body(alerts=6, serial_number=f"ALAPI{uuid.uuid4().hex[:12]}")
    return api.post_json("/v1/storages", body, status=201).json["id"]


def _alert_sync(sid) -> dict:
    task, _ = db_api.task_create_alert_sync(sid, Lane.URGENT)
    assert db_api.task_claim(task["id"], "api-tests", 60) is not None
    return alert_sync.run(db_api.task_get(task["id"]), "api-tests")


def _stored(sid) -> dict:
    rows = db_api.alert_list({"storage_id": sid}, None, None, None, None)
    return {(r["source"], r["sequence_number"]): r for r in rows}


def test_registration_queues_and_casts_an_alert_sync(api, rpcapi, file_locks):
    sid = _register(api)
    [task] = [t for t in rpcapi.cast_tasks if t["type"] == "alert_sync"]
    assert (task["storage_id"], task["priority"], task["status"]) == (sid, Lane.NORMAL, TaskStatus.PENDING)
    # it is the storage's PENDING alert sync: running it stores the array's alerts
    assert _alert_sync(sid)["added"] == 6
    assert db_api.task_get(task["id"])["status"] == TaskStatus.COMPLETED


def test_alert_sync_is_202_urgent_and_reuses_a_pending_task(api, rpcapi, file_locks):
    sid = _register(api)
    _alert_sync(sid)  # the one the registration queued
    cast_before = len(rpcapi.cast_tasks)
    task = api.post(f"/v1/storages/{sid}/alerts/sync", status=202).json["task"]
    assert (task["type"], task["priority"], task["status"]) == ("alert_sync", Lane.URGENT, TaskStatus.PENDING)
    assert [t["id"] for t in rpcapi.cast_tasks[cast_before:]] == [task["id"]]
    again = api.post_json(f"/v1/storages/{sid}/alerts/sync", {}, status=202).json["task"]
    assert again["id"] == task["id"] and len(rpcapi.cast_tasks) == cast_before + 1
    # an alert sync is not the storage's sync: its sync status still follows the inventory sync
    assert db_api.storage_get(sid)["last_sync_task_id"] != task["id"]


def test_alert_sync_errors(api, rpcapi):
    sid = _register(api)
    assert api.post("/v1/storages/nope/alerts/sync", status=404).json["error_code"] == "StorageNotFound"
    resp = api.post_json(f"/v1/storages/{sid}/alerts/sync", {"force": True}, status=400)
    assert resp.json["error_code"] and resp.json["error_msg"]
    # only the one the registration queued
    assert len(db_api.task_list({"storage_id": sid, "type": "alert_sync"}, None, None, None, None)) == 1


def test_delete_clears_on_the_array_and_the_next_sync_sees_it(api, file_locks):
    sid = _register(api)
    assert _alert_sync(sid)["added"] == 6
    resp = api.delete(f"/v1/storages/{sid}/alerts/3", status=200).json
    [row] = resp["alerts"]
    assert (row["sequence_number"], row["state"], row["cleared_by"]) == ("3", "cleared", "api")
    assert _stored(sid)[("sync", "3")]["state"] == "cleared"
    # the array now reports it cleared: one row updated, the clearing by the api kept
    result = _alert_sync(sid)
    assert (result["updated"], result["cleared"], result["rows_written"]) == (1, 0, 1)
    assert _stored(sid)[("sync", "3")]["cleared_by"] == "api"
    assert _alert_sync(sid)["rows_written"] == 0


def test_delete_errors_change_nothing(api, file_locks):
    sid = _register(api)
    _alert_sync(sid)
    before = _stored(sid)
    assert api.delete(f"/v1/storages/{sid}/alerts/99", status=404).json["error_code"] == "AlertNotFound"
    assert api.delete("/v1/storages/nope/alerts/1", status=404).json["error_code"] == "StorageNotFound"
    # a driver that cannot clear alerts (the generic snmp one; built without reaching any agent)
    access = models.AccessInfo.__table__
    block = crypto.encrypt_block({"host": "127.0.0.1", "port": 1161, "version": "2c", "community": "c"})
    with db_engine.write() as conn:
        conn.execute(access.update().where(access.c.storage_id == sid)
                     .values(vendor="generic", model="snmp", snmp=json.dumps(block)))
    resp = api.delete(f"/v1/storages/{sid}/alerts/1", status=400).json
    assert resp["error_code"] == "NotSupported" and resp["error_msg"]
    assert _stored(sid) == before and before[("sync", "1")]["state"] == "open"


def test_routes_without_their_parts_are_4xx(api):
    sid = _register(api)
    resp = api.delete(f"/v1/storages/{sid}/alerts", expect_errors=True)
    assert 400 <= resp.status_int < 500 and resp.json["error_code"]
    resp = api.post(f"/v1/storages/{sid}/alerts/1/sync", expect_errors=True)
    assert 400 <= resp.status_int < 500 and resp.json["error_code"]
    assert _stored(sid) == {}
