"""Requests that pecan and webob cannot parse are 4xx JSON, never a 500 (issue 12, part 4)."""

import json
import logging

import pytest

from delfin_like.api import utils
from delfin_like.api.controllers import openapi
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from tests.unit.api.conftest import register_body
from tests.unit.api.test_openapi import documented_routes, implemented_routes

ERROR_KEYS = {"error_code", "error_msg", "error_args"}

BODY_ROUTES = [
    ("POST", "/v1/storages"), ("POST", "/v1/storages/sync"), ("POST", "/v1/storages/s1/sync"),
    ("PUT", "/v1/storages/s1/access-info"), ("PUT", "/v1/storages/s1/sync-policy"),
    ("PUT", "/v1/storages/s1/metrics-config"), ("POST", "/v1/storages/s1/jobs"),
    ("DELETE", "/v1/storages/s1"), ("DELETE", "/v1/tasks/t1"), ("DELETE", "/v1/jobs/j1"),
    ("DELETE", "/v1/storages/s1/sync-policy"), ("PUT", "/v1/storages"), ("DELETE", "/v1/storages"),
]


@pytest.mark.parametrize("method, path", BODY_ROUTES)
@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary=x"])
def test_multipart_body_is_400_json(api, method, path, content_type, caplog):
    with caplog.at_level(logging.DEBUG):
        resp = api.request(path, method=method, headers={"Content-Type": content_type}, body=b"--x\r\nabc",
                           expect_errors=True)
    assert resp.status_int == 400, resp.text
    assert resp.content_type == "application/json"
    assert resp.json["error_code"] == "MalformedRequestBody"
    assert set(resp.json) == ERROR_KEYS
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("path", ["/v1/storages/%ff%fe", "/v1/%ff", "/%c3%28", "/v1/tasks/%80"])
def test_path_that_is_not_utf8_is_400_json(api, path, caplog):
    with caplog.at_level(logging.DEBUG):
        resp = api.get(path, status=400)
    assert resp.json["error_code"] == "InvalidInput"
    assert "UTF-8" in resp.json["error_msg"]
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("query", ["name=%ff%fe", "%ff=1", "limit=1&status=%c3%28"])
@pytest.mark.parametrize("path", ["/v1/storages", "/v1/tasks", "/v1/volumes"])
def test_query_that_is_not_utf8_is_400_json_without_traceback(api, path, query, caplog):
    with caplog.at_level(logging.DEBUG):
        resp = api.get(f"{path}?{query}", status=400)
    assert resp.json["error_code"] == "InvalidInput"
    assert resp.json["error_msg"] == "Invalid input: the query must be UTF-8"
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info]


def _methods_of(routes, template: str) -> set[str]:
    return {method for method, path in routes if path == template}


def _concrete(template: str) -> str:
    return template.replace("{}", "s1")


def test_options_allow_lists_exactly_the_methods_each_route_serves(api):
    routes = implemented_routes()
    assert routes == documented_routes(openapi.document())
    for template in sorted({path for _, path in routes}):
        resp = api.options(_concrete(template), status=204)
        allowed = set(resp.headers["Allow"].split(", "))
        assert allowed == _methods_of(routes, template) | {"OPTIONS"}, template


@pytest.mark.parametrize("path, allow", [
    ("/v1/storages", "GET, OPTIONS, POST"),
    ("/v1/storages/s1", "DELETE, GET, OPTIONS"),
    ("/v1/storages/sync", "OPTIONS, POST"),
    ("/v1/storages/s1/sync", "OPTIONS, POST"),
    ("/v1/tasks", "GET, OPTIONS"),
    ("/v1/tasks/t1/", "DELETE, GET, OPTIONS"),
    ("/", "GET, OPTIONS"),
])
def test_options_answers_204_with_allow(api, path, allow):
    resp = api.options(path, status=204)
    assert resp.headers["Allow"] == allow
    assert resp.body == b""


def test_options_of_an_unknown_route_is_404_json(api):
    assert api.options("/v1/nope", status=404).json["error_code"] == "NotFound"


@pytest.mark.parametrize("method, path", [
    ("put", "/v1/storages"), ("delete", "/v1/storages"), ("put", "/v1/storages/s1"),
    ("put", "/v1/tasks"), ("post", "/v1/tasks/t1"), ("patch", "/v1/volumes/v1"),
])
def test_405_allow_lists_only_methods_the_route_serves(api, method, path):
    resp = getattr(api, method)(path, status=405)
    routes = implemented_routes()
    template = path.replace("/s1", "/{}").replace("/t1", "/{}").replace("/v1/volumes/v1", "/v1/volumes/{}")
    assert set(resp.headers["Allow"].split(", ")) == _methods_of(routes, template) | {"OPTIONS"}
    assert method.upper() not in resp.headers["Allow"]


def test_a_good_request_still_passes_the_guard(api):
    storage = api.post_json("/v1/storages", register_body(), status=201).json
    assert api.get(f"/v1/storages/{storage['id']}").json["id"] == storage["id"]
    assert [s["id"] for s in db_api.storage_list({}, None, None, None, [])] == [storage["id"]]


def _nested(depth: int, leaf: str = "1") -> str:
    return '{"a": ' * depth + leaf + "}" * depth


@pytest.mark.parametrize("method, path", [
    ("POST", "/v1/storages"), ("PUT", "/v1/storages/s1/access-info"), ("PUT", "/v1/storages/s1/sync-policy"),
    ("POST", "/v1/storages/s1/jobs"), ("PUT", "/v1/storages/s1/metrics-config"), ("POST", "/v1/storages/s1/sync"),
])
@pytest.mark.parametrize("body", [b"[" * 100000 + b"]" * 100000, _nested(100000).encode(), _nested(33).encode()])
def test_json_nested_too_deep_is_400(api, method, path, body, caplog):
    with caplog.at_level(logging.DEBUG):
        resp = api.request(path, method=method, headers={"Content-Type": "application/json"}, body=body,
                           expect_errors=True)
    assert resp.status_int == 400, resp.text
    assert resp.json["error_code"] == "MalformedRequestBody"
    assert "nested deeper than 32 levels" in resp.json["error_msg"]
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("depth", [5000, 40])
def test_extra_attributes_nested_too_deep_is_400_and_nothing_registered(api, depth):
    body = json.dumps(register_body())[:-2] + ', "deep": ' + _nested(depth) + "}}"
    resp = api.post("/v1/storages", body, content_type="application/json", status=400)
    assert resp.json["error_code"] == "MalformedRequestBody"
    assert db_api.storage_list({}, None, None, None, []) == []


def test_nesting_within_the_bound_is_accepted(api):
    body = json.dumps(register_body())[:-2] + ', "deep": ' + _nested(28) + "}}"
    api.post("/v1/storages", body, content_type="application/json", status=201)


@pytest.mark.parametrize("number", ["1e999", "-1e999", "NaN", "Infinity", "-Infinity"])
def test_non_finite_number_is_400_naming_the_field_and_never_reaches_the_driver(api, number):
    body = json.dumps(register_body())[:-2] + f', "pools": {number}' + "}}"
    resp = api.post("/v1/storages", body, content_type="application/json", status=400)
    assert resp.json == {"error_code": "InvalidInput",
                         "error_msg": "Invalid input: extra_attributes.pools: number out of range",
                         "error_args": ["extra_attributes.pools: number out of range"]}
    assert db_api.storage_list({}, None, None, None, []) == []


@pytest.mark.parametrize("method, path, body", [
    ("PUT", "/v1/storages/{}/sync-policy", '{"interval": 1e999}'),
    ("PUT", "/v1/storages/{}/access-info", '{"rest": {"host": "h", "port": NaN}}'),
    ("PUT", "/v1/storages/{}/metrics-config", '{"x": [Infinity]}'),
    ("POST", "/v1/storages/{}/jobs", '{"job_id": "j", "resources": {"cpu": -1e400}}'),
])
def test_non_finite_numbers_in_other_bodies_are_400(api, method, path, body):
    storage = api.post_json("/v1/storages", register_body(), status=201).json
    resp = api.request(path.format(storage["id"]), method=method, body=body.encode(),
                       headers={"Content-Type": "application/json"}, expect_errors=True)
    assert resp.status_int == 400, resp.text
    assert resp.json["error_msg"].endswith("number out of range")


@pytest.mark.parametrize("body", [b"{nope", b"[]", b'{"storage_id": "x"}', b'"sync"', b"null", b"1"])
@pytest.mark.parametrize("one", [True, False])
def test_sync_with_a_body_that_is_not_empty_and_not_valid_is_400_and_casts_nothing(api, rpcapi, body, one):
    storage = api.post_json("/v1/storages", register_body(), status=201).json
    cast_before = len(rpcapi.cast_tasks)
    path = f"/v1/storages/{storage['id']}/sync" if one else "/v1/storages/sync"
    resp = api.post(path, body, content_type="application/json", status=400)
    assert resp.json["error_code"] in ("MalformedRequestBody", "InvalidInput")
    assert len(rpcapi.cast_tasks) == cast_before


@pytest.mark.parametrize("body, content_type", [
    (b"", None), (b"  \n", "application/json"), (b"{}", "application/json"),
])
def test_sync_with_no_body_or_an_empty_object_is_202(api, body, content_type):
    storage = api.post_json("/v1/storages", register_body(), status=201).json
    kwargs = {"content_type": content_type} if content_type else {}
    assert api.post(f"/v1/storages/{storage['id']}/sync", body, status=202, **kwargs).json["task"]["type"] == "sync"
    assert "tasks" in api.post("/v1/storages/sync", body, status=202, **kwargs).json


@pytest.mark.parametrize("listing, field", [(listing, field) for listing, fields in sorted(utils.FILTER_ENUMS.items())
                                            for field in sorted(fields)])
def test_an_unknown_enum_filter_value_is_400_naming_the_allowed_values(api, listing, field):
    paths = ["/v1/jobs", "/v1/storages/s1/jobs"] if listing == "jobs" else ["/v1/" + listing.replace("_", "-")]
    storage = api.post_json("/v1/storages", register_body(), status=201).json
    for path in paths:
        path = path.replace("s1", storage["id"])
        resp = api.get(path, {field: "BOGUS"}, status=400)
        allowed = utils.FILTER_ENUMS[listing][field]
        assert resp.json["error_msg"] == f"Invalid input: filter {field} must be one of {', '.join(allowed)}"
        assert listing in api.get(path, {field: allowed[0]}, status=200).json


def test_task_status_filter_still_filters(api):
    storage = api.post_json("/v1/storages", register_body(), status=201).json
    tasks = api.get("/v1/tasks", {"status": "PENDING", "type": "sync"}).json["tasks"]
    assert [t["id"] for t in tasks] == [storage["last_sync_task_id"]]
    assert api.get("/v1/tasks", {"status": "COMPLETED"}).json["tasks"] == []
    assert api.get("/v1/tasks?status=BOGUS", status=400).json["error_msg"] == (
        "Invalid input: filter status must be one of PENDING, RUNNING, COMPLETED, FAILED, CANCELLED")


def _served(api) -> dict:
    return api.get("/v1/openapi.json").json


@pytest.mark.parametrize("minimum", [60, 5])
def test_sync_interval_minimum_is_one_value_in_the_served_document_and_the_api(api, minimum):
    CONF.set_override("min_sync_interval", minimum, group="scheduler")
    schemas = _served(api)["components"]["schemas"]
    assert schemas["SyncPolicyUpdate"]["properties"]["interval"]["minimum"] == minimum
    assert schemas["StorageRegistration"]["properties"]["sync_policy"]["properties"]["interval"]["minimum"] == minimum
    api.post_json("/v1/storages", {**register_body(), "sync_policy": {"interval": minimum - 1}}, status=400)
    storage = api.post_json("/v1/storages", {**register_body(), "sync_policy": {"interval": minimum}}, status=201).json
    url = f"/v1/storages/{storage['id']}/sync-policy"
    refused = api.put_json(url, {"interval": minimum - 1}, status=400).json
    assert refused["error_msg"].startswith("Invalid input: interval")
    assert api.put_json(url, {"interval": minimum}).json["sync_policy"]["interval"] == minimum


def test_limit_maximum_is_the_configured_max_limit(api):
    CONF.set_override("max_limit", 7, group="api")
    assert _served(api)["components"]["parameters"]["Limit"]["schema"]["maximum"] == 7
    api.get("/v1/storages?limit=7", status=200)
    api.get("/v1/storages?limit=8", status=400)


def test_access_info_update_block_and_the_document_agree_a_username_is_kept_or_required(api):
    schema = _served(api)["components"]["schemas"]["AccessInfoUpdate"]["properties"]["rest"]
    assert schema["required"] == ["host", "port"]
    storage = api.post_json("/v1/storages", register_body(), status=201).json
    url = f"/v1/storages/{storage['id']}/access-info"
    # a block without a username is merged: the stored one is kept
    kept = api.put_json(url, {"rest": {"host": "10.0.0.1", "port": 8443}}).json["access_info"]
    assert kept["rest"]["username"] == register_body()["rest"]["username"]
    # the merged result must still log in with a user
    resp = api.put_json(url, {"rest": {"host": "10.0.0.1", "port": 8443, "username": None}}, status=400)
    assert resp.json["error_code"] == "InvalidInput"
    assert api.get(url).json["access_info"]["rest"]["username"] == register_body()["rest"]["username"]


@pytest.mark.parametrize("output_path, ok", [("/", False), ("//", False), ("/out", True), ("//out/", True)])
def test_job_output_path_root_is_refused_by_the_document_and_the_api(api, output_path, ok):
    import re

    pattern = _served(api)["components"]["schemas"]["JobSubmission"]["properties"]["output_path"]["pattern"]
    assert bool(re.search(pattern, output_path)) is ok
    storage = api.post_json("/v1/storages", register_body(), status=201).json
    body = {"job_id": "j1", "command": ["true"], "data_path": "/data", "output_path": output_path}
    resp = api.post_json(f"/v1/storages/{storage['id']}/jobs", body, status=400)
    if ok:  # the fake driver runs no jobs: past the path checks
        assert resp.json["error_code"] == "JobsNotSupported"
    else:
        assert resp.json["error_msg"] == "Invalid input: output_path: does not satisfy 'pattern'"


LIST_PATHS = ["/v1/storages", "/v1/tasks", "/v1/access-infos", "/v1/task-managers", "/v1/jobs", "/v1/storages/{}/jobs",
              "/v1/storage-pools", "/v1/volumes", "/v1/controllers", "/v1/ports", "/v1/disks"]


@pytest.mark.parametrize("path", LIST_PATHS)
def test_sort_with_sort_key_and_sort_dir_is_accepted_on_every_list(api, path):
    storage = api.post_json("/v1/storages", register_body(), status=201).json
    path = path.format(storage["id"])
    for query in ({"sort": "created_at:desc", "sort_key": "created_at", "sort_dir": "asc"},
                  {"sort": "created_at", "sort_dir": "desc"}, {"sort_dir": "desc"}, {"sort": "created_at:DESC"}):
        api.get(path, query, status=200)


def test_sort_key_comes_after_the_keys_of_sort(api):
    first = api.post_json("/v1/storages", register_body(port=1), status=201).json
    second = api.post_json("/v1/storages", register_body(port=2), status=201).json
    ids = [first["id"], second["id"]]
    # (each registration also queued an alert sync: only the syncs here)
    listed = api.get("/v1/tasks", {"sort": "type", "sort_key": "created_at", "sort_dir": "desc",
                                   "type": "sync"}).json["tasks"]
    assert [t["storage_id"] for t in listed] == ids[::-1]
    listed = api.get("/v1/tasks", {"sort_dir": "asc", "type": "sync"}).json["tasks"]
    assert [t["storage_id"] for t in listed] == ids


def test_task_managers_sort_by_created_at_is_by_start(api, task_manager):
    assert api.get("/v1/task-managers?sort=created_at", status=200).json["task_managers"]
    assert api.get("/v1/task-managers?sort_key=created_at&sort_dir=desc", status=200).json["task_managers"]
