"""Every error is JSON with the right status; nothing secret leaks; one access-log line per request."""

import logging

import pytest
import webtest

from delfin_like.api import app
from delfin_like.common import crypto
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from tests.unit.api.conftest import PASSWORD, RecordingTaskAPI, register_body

ERROR_KEYS = {"error_code", "error_msg", "error_args"}


@pytest.mark.parametrize("method, path", [
    ("get", "/nope"), ("get", "/v1/nope"), ("get", "/v1/storages/a/b/c"), ("post", "/v2/storages"),
])
def test_unknown_route_is_404_json(api, method, path):
    resp = getattr(api, method)(path, status=404)
    assert resp.content_type == "application/json"
    assert resp.json == {"error_code": "NotFound", "error_msg": "The resource could not be found.",
                         "error_args": []}


@pytest.mark.parametrize("method, path", [
    ("put", "/v1/storages"), ("patch", "/v1/storages/x"), ("put", "/v1/volumes/x"),
    ("post", "/v1/volumes"), ("post", "/"), ("delete", "/v1"),
    ("put", "/healthz"), ("post", "/readyz"),
])
def test_wrong_method_is_405_json(api, method, path):
    resp = getattr(api, method)(path, status=405)
    assert resp.json["error_code"] == "MethodNotAllowed"
    assert set(resp.json) == ERROR_KEYS
    assert "GET" in resp.headers["Allow"]


def test_version_documents(api):
    versions = api.get("/").json["versions"]
    assert [v["id"] for v in versions] == ["v1"]
    assert versions[0]["links"][0]["href"] == "http://localhost/v1/"
    assert api.get("/v1").json["version"]["status"] == "CURRENT"
    assert api.get("/v1/").json == api.get("/v1").json


def test_health_probes(api):
    assert api.get("/healthz").json == {"status": "ok"}
    assert api.get("/readyz").json == {"status": "ok",
                                       "checks": {"database": "ok", "message_bus": "ok", "locks": "ok"}}


class ExplodingTaskAPI(RecordingTaskAPI):
    """Fault injection at the bus boundary: a cast that fails in an unforeseen way."""

    def run_task(self, context, task):
        raise RuntimeError(f"boom with {PASSWORD}")


def test_unexpected_error_is_generic_500_and_registration_undone(sqlite_db, fake_bus, caplog):
    api = webtest.TestApp(app.setup_app(rpcapi=ExplodingTaskAPI()))
    with caplog.at_level(logging.ERROR):
        resp = api.post_json("/v1/storages", register_body(), status=500)
    assert resp.json == {
        "error_code": "InternalError",
        "error_msg": "An unexpected error occurred; the service log has the details.",
        "error_args": [],
    }
    assert "boom" not in resp.text
    assert "Unexpected error in POST /v1/storages" in caplog.text  # with the traceback, for the operator
    assert db_api.storage_list({}, None, None, None, []) == []


def test_missing_encryption_key_is_500_without_detail_and_writes_nothing(api):
    CONF.set_override("fernet_keys", [], group="security")
    crypto.reset()
    resp = api.post_json("/v1/storages", register_body(), status=500)
    assert resp.json["error_code"] == "InternalError"
    assert "key" not in resp.json["error_msg"]
    assert db_api.storage_list({}, None, None, None, []) == []


def test_sync_all_refuses_a_storage_id_in_the_body(api, rpcapi):
    api.post_json("/v1/storages", register_body(), status=201)
    cast = len(rpcapi.cast_tasks)
    # pecan would map a body key onto a named argument; the action takes none, and says so
    resp = api.post_json("/v1/storages/sync", {"storage_id": "other"}, status=400)
    assert resp.json["error_msg"] == "Invalid input: body: unknown field(s) 'storage_id'"
    assert len(rpcapi.cast_tasks) == cast


def test_sync_with_extra_path_is_404(api):
    api.post("/v1/storages/a/b/sync", status=404)


def test_access_log_has_one_line_per_request_and_no_body(api, caplog):
    with caplog.at_level(logging.INFO, logger="delfin_like.api.hooks"):
        api.post_json("/v1/storages", register_body(), status=201)
        api.get("/v1/storages/missing", status=404)
    lines = [r.getMessage() for r in caplog.records if r.name == "delfin_like.api.hooks"]
    assert len(lines) == 2
    assert lines[0].startswith("POST /v1/storages -> 201 in ")
    assert lines[1].startswith("GET /v1/storages/missing -> 404 in ")
    assert PASSWORD not in caplog.text and "admin" not in caplog.text


def test_request_id_header_on_errors_too(api):
    resp = api.get("/v1/storages/missing", status=404)
    assert resp.headers["X-OpenStack-Request-Id"].startswith("req-")
