"""POST/GET/DELETE /v1/storages and the sync actions, on SQLite and the fake:// bus."""

import json

import pytest
import webtest

from delfin_like.api import app
from delfin_like.common.constants import Lane, SyncStatus, TaskStatus, TaskType
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from tests.unit.api.conftest import PASSWORD, register_body, sync_now

STORAGE_KEYS = {
    "id", "name", "vendor", "model", "serial_number", "status", "firmware_version", "location",
    "description", "raw_capacity", "total_capacity", "used_capacity", "free_capacity",
    "subscribed_capacity", "created_at", "updated_at", "sync_status", "sync_error",
    "last_sync_task_id",
}


def _kill_bus():
    # a port nobody listens on: the real client fails the cast at once
    CONF.set_override("transport_url", "rabbit://guest:guest@127.0.0.1:1/")
    CONF.set_override("cast_retry", 0, group="rpc")


def _nothing_written():
    assert db_api.storage_list({}, None, None, None, []) == []
    assert db_api.task_list({}, None, None, None, []) == []


def test_register_returns_201_with_the_storage_and_casts_its_sync(api, rpcapi):
    resp = api.post_json("/v1/storages", register_body(), status=201)
    body = resp.json
    assert set(body) == STORAGE_KEYS
    assert body["vendor"] == "fake_storage" and body["model"] == "fake_driver"
    assert body["serial_number"].startswith("FAKE")
    assert body["sync_status"] == SyncStatus.SYNCING
    assert body["total_capacity"] > 0 and isinstance(body["total_capacity"], int)
    assert body["created_at"].endswith("Z")
    assert resp.headers["Location"].endswith(f"/v1/storages/{body['id']}")
    assert resp.headers["X-OpenStack-Request-Id"].startswith("req-")

    # two tasks were cast, the PENDING sync of this storage first, then its first alert sync (the
    # fake driver lists alerts), both on the normal lane
    task, alert_task = rpcapi.cast_tasks
    assert (task["storage_id"], task["type"], task["priority"], task["status"]) == (
        body["id"], TaskType.SYNC, Lane.NORMAL, TaskStatus.PENDING)
    assert (alert_task["storage_id"], alert_task["type"], alert_task["priority"], alert_task["status"]) == (
        body["id"], TaskType.ALERT_SYNC, Lane.NORMAL, TaskStatus.PENDING)
    assert body["last_sync_task_id"] == task["id"]


def test_no_secret_in_any_response_and_stored_encrypted(api):
    resp = api.post_json("/v1/storages", register_body(), status=201)
    sid = resp.json["id"]
    texts = [resp.text, api.get(f"/v1/storages/{sid}").text, api.get("/v1/storages").text,
             api.get("/v1/tasks").text]
    for text in texts:
        assert PASSWORD not in text and "password" not in text
    stored = db_api.access_info_get(sid)
    assert stored["rest"]["password"] != PASSWORD and stored["rest"]["username"] == "admin"


def test_register_is_readable_back(api):
    created = api.post_json("/v1/storages", register_body(), status=201).json
    shown = api.get(f"/v1/storages/{created['id']}").json
    assert shown == created
    assert api.get("/v1/storages").json == {"storages": [created]}


@pytest.mark.parametrize("second", [
    register_body(port=9443, serial_number="SER-1"),  # same serial number elsewhere
    register_body(port=8443, serial_number="SER-2"),  # same host and port, another serial
])
def test_duplicate_is_409_and_writes_nothing(api, rpcapi, second):
    api.post_json("/v1/storages", register_body(serial_number="SER-1"), status=201)
    resp = api.post_json("/v1/storages", second, status=409)
    assert resp.json["error_code"] == "StorageAlreadyExists"
    assert len(api.get("/v1/storages").json["storages"]) == 1
    # the first registration's sync and alert sync, nothing of the refused one
    assert len(db_api.task_list({}, None, None, None, [])) == 2
    assert len(rpcapi.cast_tasks) == 2


def test_same_host_different_case_is_a_duplicate(api):
    api.post_json("/v1/storages", register_body(host="array1.lab"), status=201)
    resp = api.post_json("/v1/storages", register_body(host="ARRAY1.lab", seed=9), status=409)
    assert resp.json["error_code"] == "StorageAlreadyExists"


def test_unknown_driver_is_400(api):
    body = register_body()
    body["model"] = "no_such_model"
    resp = api.post_json("/v1/storages", body, status=400)
    assert resp.json["error_code"] == "StorageDriverNotFound"
    assert resp.json["error_msg"] == "No driver for vendor 'fake_storage' and model 'no_such_model'."
    _nothing_written()


@pytest.mark.parametrize("error, code", [
    ("unreachable", "BackendUnreachable"),
    ("invalid_credentials", "InvalidCredentials"),
    ("backend_error", "StorageBackendError"),
])
def test_driver_errors_at_probe_are_400_and_write_nothing(api, rpcapi, error, code):
    resp = api.post_json("/v1/storages", register_body(error=error), status=400)
    assert resp.json["error_code"] == code
    assert PASSWORD not in resp.text
    _nothing_written()
    assert rpcapi.cast_tasks == []


def _without(body, *path):
    target = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return body


def _with(body, value, *path):
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


@pytest.mark.parametrize("body, message", [
    (_without(register_body(), "vendor"), "body: 'vendor' is a required property"),
    (_without(register_body(), "rest"), "body: one of the access blocks rest, ssh or snmp is required"),
    (_without(register_body(), "rest", "password"), "rest: 'password' is a required property"),
    (_with(register_body(), "8443", "rest", "port"), "rest.port: must be of type integer"),
    (_with(register_body(), 70000, "rest", "port"), "rest.port: must be between 1 and 65535"),
    (_with(register_body(), 0, "rest", "port"), "rest.port: must be between 1 and 65535"),
    (_with(register_body(), True, "rest", "port"), "rest.port: must be of type integer"),
    (_with(register_body(), 12345, "rest", "password"), "rest.password: must be of type string"),
    (_with(register_body(), "x", "extra_attributes"), "extra_attributes: must be of type object"),
    (_with(register_body(), 1, "vendor"), "vendor: must be of type string"),
    (_with(register_body(), "", "model"), "model: must not be empty"),
    (_with(register_body(), "x", "surprise"), "body: unknown field(s) 'surprise'"),
])
def test_invalid_body_is_400_invalid_input_and_writes_nothing(api, body, message):
    resp = api.post_json("/v1/storages", body, status=400)
    assert resp.json["error_code"] == "InvalidInput"
    assert resp.json["error_msg"] == f"Invalid input: {message}"
    assert "s3cr3t" not in resp.text and "12345" not in resp.text
    _nothing_written()


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_malformed_body_is_400(api, raw):
    resp = api.post("/v1/storages", raw, content_type="application/json", status=400)
    assert resp.json["error_code"] == "MalformedRequestBody"
    _nothing_written()


def test_body_over_the_limit_is_413(api):
    body = register_body(padding="x" * 2048)
    CONF.set_override("max_body_bytes", 1024, group="api")
    resp = api.post("/v1/storages", json.dumps(body).encode(), content_type="application/json", status=413)
    assert resp.json["error_code"] == "RequestBodyTooLarge"
    _nothing_written()


def test_snmp_only_registration_needs_no_password(api):
    body = register_body()
    del body["rest"]
    body["snmp"] = {"host": "10.0.0.9", "port": 161, "community": "public-secret", "version": "2c"}
    resp = api.post_json("/v1/storages", body, status=201)
    assert "public-secret" not in resp.text
    assert db_api.access_info_get(resp.json["id"])["snmp"]["community"] != "public-secret"


def test_bus_down_at_registration_is_503_and_undone(sqlite_db, dead_bus):
    api = webtest.TestApp(app.setup_app())  # the real, lazily created TaskAPI
    resp = api.post_json("/v1/storages", register_body(), status=503)
    assert resp.json["error_code"] == "MessageBusUnavailable"
    assert db_api.storage_list({}, None, None, None, []) == []
    # nothing is left behind: no storage, no task to re-dispatch
    assert db_api.task_list({}, None, None, None, []) == []
    # and the same storage registers fine once the bus is back
    CONF.set_override("transport_url", "fake://")
    api.post_json("/v1/storages", register_body(), status=201)


def test_get_unknown_storage_is_404(api):
    resp = api.get("/v1/storages/0b5d6a4e-0000-0000-0000-000000000000", status=404)
    assert resp.json == {
        "error_code": "StorageNotFound",
        "error_msg": "Storage 0b5d6a4e-0000-0000-0000-000000000000 could not be found.",
        "error_args": ["0b5d6a4e-0000-0000-0000-000000000000"],
    }


def test_sync_one_is_202_urgent_and_reuses_a_pending_task(api, rpcapi):
    sid = api.post_json("/v1/storages", register_body(), status=201).json["id"]
    sync_now(sid)
    resp = api.post(f"/v1/storages/{sid}/sync", status=202)
    task = resp.json["task"]
    assert (task["type"], task["priority"], task["status"]) == ("sync", Lane.URGENT, TaskStatus.PENDING)
    assert rpcapi.cast_tasks[-1]["id"] == task["id"]
    # a second request while that one is pending gets the same task and casts nothing new
    again = api.post(f"/v1/storages/{sid}/sync", status=202).json["task"]
    assert again["id"] == task["id"]
    # the registration's sync and alert sync, then this one
    assert len(rpcapi.cast_tasks) == 3
    assert api.get(f"/v1/tasks/{task['id']}").json["id"] == task["id"]


def test_sync_unknown_storage_is_404(api):
    resp = api.post("/v1/storages/nope/sync", status=404)
    assert resp.json["error_code"] == "StorageNotFound"


def test_sync_all_is_202_background(api, rpcapi):
    ids = [api.post_json("/v1/storages", register_body(port=p), status=201).json["id"]
           for p in (1001, 1002)]
    for sid in ids:
        sync_now(sid)
    tasks = api.post("/v1/storages/sync", status=202).json["tasks"]
    assert sorted(t["storage_id"] for t in tasks) == sorted(ids)
    assert {t["priority"] for t in tasks} == {Lane.BACKGROUND}
    assert [t["id"] for t in rpcapi.cast_tasks[-2:]] == [t["id"] for t in tasks]


def test_sync_with_bus_down_is_503_and_the_task_waits_for_the_scheduler(api):
    sid = api.post_json("/v1/storages", register_body(), status=201).json["id"]
    sync_now(sid)
    _kill_bus()
    resp = api.post(f"/v1/storages/{sid}/sync", status=503)
    assert resp.json["error_code"] == "MessageBusUnavailable"
    [task] = db_api.task_list({"storage_id": sid, "priority": Lane.URGENT}, None, None, None, [])
    # recorded: the scheduler casts it once the bus is back, and a repeated request joins it
    assert task["status"] == TaskStatus.PENDING
    assert api.post(f"/v1/storages/{sid}/sync", status=202).json["task"]["id"] == task["id"]


def test_delete_with_bus_down_is_503_and_retry_works(api, rpcapi):
    sid = api.post_json("/v1/storages", register_body(), status=201).json["id"]
    _kill_bus()
    assert api.delete(f"/v1/storages/{sid}", status=503).json["error_code"] == "MessageBusUnavailable"
    CONF.set_override("transport_url", "fake://")
    task = api.delete(f"/v1/storages/{sid}", status=202).json["task"]
    assert rpcapi.cast_tasks[-1]["id"] == task["id"]


def test_delete_is_202_with_the_remove_task(api, rpcapi):
    sid = api.post_json("/v1/storages", register_body(), status=201).json["id"]
    task = api.delete(f"/v1/storages/{sid}", status=202).json["task"]
    assert (task["type"], task["storage_id"], task["status"]) == ("remove", sid, TaskStatus.PENDING)
    assert rpcapi.cast_tasks[-1]["id"] == task["id"]
    assert api.get(f"/v1/storages/{sid}").json["sync_status"] == SyncStatus.DELETING
    # repeating it is the retry: same task, cast again
    assert api.delete(f"/v1/storages/{sid}", status=202).json["task"]["id"] == task["id"]
    resp = api.post(f"/v1/storages/{sid}/sync", status=409)
    assert resp.json["error_code"] == "StorageBeingDeleted"


def test_delete_unknown_storage_is_404(api):
    assert api.delete("/v1/storages/nope", status=404).json["error_code"] == "StorageNotFound"


@pytest.mark.parametrize(("attrs", "bound"), [({"pools": 10**30}, "pools must be <= 4,096"),
                                              ({"volumes": 10**12}, "volumes must be <= 5,000,000")])
def test_sizes_no_real_array_has_are_400_naming_the_bound_and_write_nothing(api, rpcapi, attrs, bound):
    resp = api.post_json("/v1/storages", register_body(**attrs), status=400)
    assert resp.json["error_code"] == "InvalidAccessInfo"
    assert bound in resp.json["error_msg"]
    _nothing_written()
    assert rpcapi.cast_tasks == []
