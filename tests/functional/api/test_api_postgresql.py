"""The real app against PostgreSQL: registration, listing, conflicts, deletion; and a dead database."""

import pytest
import webtest

from delfin_like.api import app
from delfin_like.common.constants import SyncStatus
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from tests.unit.api.conftest import PASSWORD, register_body, sync_now

pytestmark = pytest.mark.services


@pytest.fixture
def api(postgresql_db, rpcapi):
    return webtest.TestApp(app.setup_app(rpcapi=rpcapi))


def test_register_sync_list_and_delete(api, rpcapi):
    created = api.post_json("/v1/storages", register_body(pools=3, volumes=10), status=201).json
    assert created["sync_status"] == SyncStatus.SYNCING and PASSWORD not in str(created)
    # its first sync and its first alert sync, both cast over the real RabbitMQ
    assert [(t["type"], t["storage_id"]) for t in rpcapi.cast_tasks] == [
        ("sync", created["id"]), ("alert_sync", created["id"])]
    policy = api.get(f"/v1/storages/{created['id']}/sync-policy").json["sync_policy"]
    assert (policy["alert_sync_interval"], policy["alert_sync_enabled"]) == (CONF.alert_sync.interval, True)
    sync_now(created["id"])
    assert api.get(f"/v1/storages/{created['id']}").json["sync_status"] == SyncStatus.SYNCED

    volumes = api.get("/v1/volumes", {"storage_id": created["id"], "sort": "native_volume_id:asc",
                                      "limit": 4, "offset": 2}).json["volumes"]
    assert [v["native_volume_id"] for v in volumes] == sorted(
        v["native_volume_id"] for v in api.get("/v1/volumes").json["volumes"])[2:6]
    pools = api.get("/v1/storage-pools", {"storage_id": created["id"]}).json["storage_pools"]
    assert len(pools) == 3

    task = api.delete(f"/v1/storages/{created['id']}", status=202).json["task"]
    assert rpcapi.cast_tasks[-1]["id"] == task["id"]
    assert api.get(f"/v1/storages/{created['id']}").json["sync_status"] == SyncStatus.DELETING


def test_duplicate_is_409_and_writes_nothing(api):
    api.post_json("/v1/storages", register_body(serial_number="PG-1"), status=201)
    resp = api.post_json("/v1/storages", register_body(port=9000, serial_number="PG-1"), status=409)
    assert resp.json["error_code"] == "StorageAlreadyExists"
    resp = api.post_json("/v1/storages", register_body(serial_number="PG-2"), status=409)
    assert resp.json["error_code"] == "StorageAlreadyExists"
    assert len(db_api.storage_list({}, None, None, None, [])) == 1
    # the first registration's sync and alert sync (the fake lists alerts), nothing of the refused ones
    assert sorted(t["type"] for t in db_api.task_list({}, None, None, None, [])) == ["alert_sync", "sync"]


def test_bad_input_writes_nothing(api):
    body = register_body()
    body["rest"]["port"] = "not-a-port"
    assert api.post_json("/v1/storages", body, status=400).json["error_code"] == "InvalidInput"
    assert api.post_json("/v1/storages", register_body(error="unreachable"),
                         status=400).json["error_code"] == "BackendUnreachable"
    assert api.get("/v1/storages", {"colour": "red"}, status=400).json["error_code"] == "InvalidInput"
    assert db_api.storage_list({}, None, None, None, []) == []


def test_database_down_is_503(fernet_key, rpcapi):
    # nothing listens on port 1: every query fails to connect
    url = "postgresql+psycopg://x@127.0.0.1:1/x"
    CONF.set_override("connection", url, group="database")
    db_api.configure(url)
    try:
        api = webtest.TestApp(app.setup_app(rpcapi=rpcapi))
        for path in ("/v1/storages", "/v1/volumes", "/v1/tasks/x", "/readyz"):
            resp = api.get(path, status=503)
            assert resp.json["error_code"] == "DatabaseUnavailable", path
        resp = api.post_json("/v1/storages", register_body(), status=503)
        assert resp.json["error_code"] == "DatabaseUnavailable"
        assert "127.0.0.1:1" not in resp.text  # the connection URL stays in the log
        assert api.get("/healthz").json == {"status": "ok"}
        assert rpcapi.cast_tasks == []
    finally:
        db_api.dispose()


@pytest.mark.parametrize("path", [
    "/v1/storages/%00",
    "/v1/volumes?name=a%00b",
    "/v1/storages?marker=%00",
    "/v1/disks/x%00y",
])
def test_nul_characters_are_400_not_a_postgresql_error(api, path):
    assert api.get(path, status=400).json["error_code"] == "InvalidInput"


def test_nul_in_a_body_string_is_400_and_writes_nothing(api):
    body = {"vendor": "fake_storage", "model": "fake_driver",
            "rest": {"host": "10.0.0.1\u0000", "port": 8443, "username": "u", "password": "p"}}
    assert api.post_json("/v1/storages", body, status=400).json["error_code"] == "InvalidInput"
    assert api.get("/v1/storages").json == {"storages": []}
