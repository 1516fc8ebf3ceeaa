"""The OpenAPI document: valid 3.1, served at /v1/openapi.json, and in step with the code.

Routes are listed by walking the pecan controller tree the way pecan dispatches
(plain attributes, ``pecan.route()`` hyphenated names, generic ``index``
handlers, RestController methods, custom actions and sub-controllers), so a new
controller without documentation, or documentation without a controller, fails here.
"""

import importlib.resources
import inspect
import pathlib
import re
import tomllib

import pytest
from openapi_spec_validator import validate
from pecan import rest

from delfin_like.api import utils, views
from delfin_like.api.controllers import openapi, root
from delfin_like.api.schemas.v1 import alert_source as alert_source_schemas
from delfin_like.api.schemas.v1 import jobs as job_schemas
from delfin_like.api.schemas.v1 import storages as body_schemas
from delfin_like.api.schemas.v1 import sync_policy as sync_policy_schemas
from delfin_like.common import constants
from delfin_like.db.sqlalchemy import alerts as alert_db
from delfin_like.db.sqlalchemy import api as sql_api
from delfin_like.db.sqlalchemy import inventory, members

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# RestController's conventional methods: name -> (HTTP method, takes its own id)
REST_METHODS = {
    "get_all": ("GET", False),
    "get_one": ("GET", True),
    "post": ("POST", False),
    "put": ("PUT", True),
    "delete": ("DELETE", True),
}
ID = "{}"


@pytest.fixture(scope="module")
def doc():
    return openapi.document()


def _exposed(attr) -> bool:
    return callable(attr) and getattr(attr, "exposed", False)


def _positional(func) -> tuple[int, bool]:
    """(number of positional parameters after self, whether it takes *args)."""
    params = list(inspect.signature(func).parameters.values())[1:]
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
    return len(positional), varargs


def _generic_methods(func) -> list[str]:
    handlers = func._pecan.get("generic_handlers", {})
    return sorted(m for m in handlers if m != "DEFAULT")


def _is_controller(attr) -> bool:
    return not callable(attr) and not isinstance(attr, (str, bytes, int, float, dict, list, tuple, type(None)))


def _walk_object(controller, path: str, routes: set) -> None:
    cls = type(controller)
    for name in dir(cls):
        if name.startswith("_"):
            continue
        attr = getattr(controller, name)
        if _exposed(attr):
            if name.endswith("_get") or not attr._pecan.get("generic"):
                continue  # a handler registered through a generic function's .when()
            target = path if name == "index" else f"{path.rstrip('/')}/{name}"
            routes.update((m, target or "/") for m in _generic_methods(attr))
        elif _is_controller(attr):
            _walk(attr, f"{path.rstrip('/')}/{name}", routes, parent_ids=0)


def _walk_rest(controller: rest.RestController, path: str, routes: set, parent_ids: int) -> None:
    cls = type(controller)
    for name, (method, own_id) in REST_METHODS.items():
        func = getattr(cls, name, None)
        if func is None or not _exposed(getattr(controller, name)):
            continue
        count, _ = _positional(func)
        # pecan passes ids of enclosing RestControllers first
        takes_id = count > parent_ids
        assert takes_id == own_id or name in ("put", "delete"), f"{cls.__name__}.{name} takes {count} ids"
        routes.add((method, f"{path}/{ID}" if takes_id else path))
    for action, methods in getattr(cls, "_custom_actions", {}).items():
        count, varargs = _positional(getattr(cls, action))
        targets = []
        if varargs or count == parent_ids:
            targets.append(f"{path}/{action}")
        if varargs or count > parent_ids:
            targets.append(f"{path}/{ID}/{action}")
        routes.update((m.upper(), t) for m in methods for t in targets)
    custom = set(getattr(cls, "_custom_actions", {}))
    for name in dir(cls):
        if name.startswith("_") or name in REST_METHODS or name in custom:
            continue
        attr = getattr(controller, name)
        if _is_controller(attr):
            # a RestController's child hangs under one of its items: /parent/{id}/child
            _walk(attr, f"{path}/{ID}/{name}", routes, parent_ids=parent_ids + 1)


def _walk(controller, path: str, routes: set, parent_ids: int) -> None:
    if isinstance(controller, rest.RestController):
        _walk_rest(controller, path, routes, parent_ids)
    else:
        _walk_object(controller, path, routes)


def implemented_routes() -> set[tuple[str, str]]:
    routes: set[tuple[str, str]] = set()
    _walk(root.RootController(), "", routes, parent_ids=0)
    return routes


def documented_routes(doc: dict) -> set[tuple[str, str]]:
    return {
        (method.upper(), re.sub(r"\{[^}]+\}", ID, path))
        for path, item in doc["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def test_document_is_valid_openapi_3_1(doc):
    assert doc["openapi"].startswith("3.1.")
    validate(doc)


def test_every_route_is_documented_and_every_documented_route_exists(doc):
    implemented, documented = implemented_routes(), documented_routes(doc)
    assert implemented - documented == set(), "implemented but not documented"
    assert documented - implemented == set(), "documented but not implemented"


def test_route_walker_sees_the_known_shapes():
    routes = implemented_routes()
    for route in [("GET", "/"), ("GET", "/healthz"), ("GET", "/v1"), ("GET", "/v1/openapi.json"),
                  ("POST", "/v1/storages"), ("POST", "/v1/storages/sync"), ("POST", "/v1/storages/{}/sync"),
                  ("DELETE", "/v1/storages/{}"), ("GET", "/v1/storage-pools/{}"),
                  ("PUT", "/v1/storages/{}/access-info"), ("GET", "/v1/storages/{}/capabilities"),
                  ("DELETE", "/v1/storages/{}/sync-policy"), ("GET", "/v1/task-managers")]:
        assert route in routes


def _schema(doc, name):
    return doc["components"]["schemas"][name]


@pytest.mark.parametrize("schema, fields", [
    ("Storage", views.STORAGE_FIELDS),
    ("StoragePool", views.STORAGE_POOL_FIELDS),
    ("Volume", views.VOLUME_FIELDS),
    ("Task", views.TASK_FIELDS),
    ("Controller", "CONTROLLER_FIELDS"),
    ("Port", "PORT_FIELDS"),
    ("Disk", "DISK_FIELDS"),
    ("SyncPolicy", "SYNC_POLICY_FIELDS"),
    ("TaskManager", "TASK_MANAGER_FIELDS"),
    ("Alert", "ALERT_FIELDS"),
    ("AlertSource", "ALERT_SOURCE_FIELDS"),
])
def test_resource_schemas_match_the_views(doc, schema, fields):
    """Each view is an allow-list; the schema names exactly those fields, all required."""
    if isinstance(fields, str):
        fields = getattr(views, fields)
    body = _schema(doc, schema)
    assert set(body["properties"]) == set(fields)
    assert set(body["required"]) == set(fields)
    assert body["additionalProperties"] is False


def _list_parameters(doc, path) -> set[str]:
    names = set()
    for param in doc["paths"][path]["get"].get("parameters", []):
        if "$ref" in param:
            param = doc["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
        names.add(param["name"])
    return names


CONTROLS = {"limit", "offset", "marker", "sort", "sort_key", "sort_dir", "with_count"}


@pytest.mark.parametrize("resource_type", sorted(inventory.RESOURCE_TABLES))
def test_inventory_filters_are_documented(doc, resource_type):
    path = "/v1/" + resource_type.replace("_", "-")
    table = inventory.RESOURCE_TABLES[resource_type]
    assert _list_parameters(doc, path) == CONTROLS | set(inventory.filter_keys(table))


@pytest.mark.parametrize("path, keys", [
    ("/v1/task-managers", members.TASK_MANAGER_FILTERS),
    ("/v1/storages", sql_api.STORAGE_FILTERS),
    ("/v1/tasks", sql_api.TASK_FILTERS),
    ("/v1/access-infos", getattr(sql_api, "ACCESS_INFO_FILTERS", ("storage_id", "vendor", "model"))),
    ("/v1/alerts", (*alert_db.ALERT_FILTERS, "since", "until")),
    ("/v1/storages/{storage_id}/alerts", (*(k for k in alert_db.ALERT_FILTERS if k != "storage_id"),
                                          "since", "until", "begin_time", "end_time")),
])
def test_storage_and_task_filters_are_documented(doc, path, keys):
    assert _list_parameters(doc, path) == CONTROLS | set(keys)


def test_platform_enums_match_the_constants(doc):
    task = _schema(doc, "Task")["properties"]
    assert set(task["status"]["enum"]) == set(constants.TaskStatus.ALL)
    assert set(task["type"]["enum"]) == set(constants.TaskType.ALL)
    assert set(task["priority"]["enum"]) == set(constants.Lane.ALL)
    sync = _schema(doc, "Storage")["properties"]["sync_status"]["enum"]
    assert set(sync) == {v for k, v in vars(constants.SyncStatus).items() if k.isupper()}


def test_every_error_response_uses_the_error_schema(doc):
    """Every 4xx/5xx is a shared response whose body is the Error (or, for /readyz, a superset of it)."""
    error = _schema(doc, "Error")
    for name, response in doc["components"]["responses"].items():
        schema_ref = response["content"]["application/json"]["schema"]["$ref"]
        body = _schema(doc, schema_ref.rsplit("/", 1)[1])
        assert set(error["required"]) <= set(body["required"]), name
        for field, spec in error["properties"].items():
            assert body["properties"][field] == spec, (name, field)
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert response["$ref"].startswith("#/components/responses/"), (method, path, status)


def test_openapi_json_is_served(api, doc):
    resp = api.get("/v1/openapi.json")
    assert resp.content_type == "application/json"
    assert resp.json == openapi.served_document()
    assert api.post("/v1/openapi.json", status=405).json["error_code"] == "MethodNotAllowed"


def test_document_is_package_data():
    """Read through importlib.resources and declared as package data, so a wheel install serves it too."""
    package, name = openapi.DOCUMENT
    assert importlib.resources.files(package).joinpath(name).is_file()
    pyproject = tomllib.loads((pathlib.Path(__file__).parents[3] / "pyproject.toml").read_text())
    assert name in pyproject["tool"]["setuptools"]["package-data"][package]
    assert openapi.document() is openapi.document()  # parsed once per process


def _without_descriptions(schema):
    if isinstance(schema, dict):
        return {k: _without_descriptions(v) for k, v in schema.items() if k not in ("description", "$schema")}
    if isinstance(schema, list):
        return [_without_descriptions(v) for v in schema]
    return schema


@pytest.mark.parametrize("name, validator_schema", [
    ("StorageRegistration", body_schemas.register),
    ("AccessInfoUpdate", body_schemas.update_access_info),
    ("SyncPolicyUpdate", sync_policy_schemas.update),
    ("SyncRequest", body_schemas.sync),
    ("JobSubmission", job_schemas.submit),
    ("SnmpConfigUpdate", alert_source_schemas.put),
])
def test_request_body_schemas_match_what_the_api_validates(doc, name, validator_schema):
    assert _without_descriptions(_schema(doc, name)) == _without_descriptions(validator_schema)


def _list_routes_of(listing: str) -> list[str]:
    if listing == "jobs":
        return ["/v1/jobs", "/v1/storages/{storage_id}/jobs"]
    if listing == "alerts":
        return ["/v1/alerts", "/v1/storages/{storage_id}/alerts"]
    return ["/v1/" + listing.replace("_", "-")]


@pytest.mark.parametrize("listing", sorted(utils.FILTER_ENUMS))
def test_enum_filters_are_documented_with_their_values(doc, listing):
    for path in _list_routes_of(listing):
        params = {}
        for param in doc["paths"][path]["get"]["parameters"]:
            if "$ref" in param:
                param = doc["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
            params[param["name"]] = param["schema"]
        documented = {name: tuple(schema["enum"]) for name, schema in params.items()
                      if "enum" in schema and name not in ("sort_dir", "sort_key")}
        assert documented == utils.FILTER_ENUMS[listing], path


def _sort_keys_of(path: str) -> tuple[str, ...]:
    from delfin_like.db.sqlalchemy import alerts, jobs

    by_path = {
        "/v1/storages": sql_api.STORAGE_SORTS, "/v1/tasks": sql_api.TASK_SORTS,
        "/v1/access-infos": sql_api.ACCESS_INFO_SORTS, "/v1/jobs": jobs._SORT_KEYS,
        "/v1/storages/{storage_id}/jobs": jobs._SORT_KEYS,
        "/v1/alerts": alerts.ALERT_SORTS, "/v1/storages/{storage_id}/alerts": alerts.ALERT_SORTS,
        "/v1/snmp-configs": alerts.SNMP_CONFIG_SORTS,
        # created_at, Delfin's default key, is the task manager's start
        "/v1/task-managers": ("created_at", *members.TASK_MANAGER_SORTS),
    }
    for resource_type, table in inventory.RESOURCE_TABLES.items():
        by_path["/v1/" + resource_type.replace("_", "-")] = inventory.sort_keys(table)
    return by_path[path]


def test_every_list_documents_exactly_the_sort_keys_it_takes(doc):
    lists = [path for path, item in doc["paths"].items()
             if "get" in item and "sort" in _list_parameters(doc, path)]
    assert len(lists) == 14
    for path in lists:
        params = {p["name"]: p for p in doc["paths"][path]["get"]["parameters"] if "name" in p}
        keys = _sort_keys_of(path)
        assert tuple(params["sort_key"]["schema"]["enum"]) == keys, path
        pattern = params["sort"]["schema"]["pattern"]
        for key in keys:
            assert re.fullmatch(pattern, f"{key}:desc,{keys[0]}"), (path, key)
        assert not re.fullmatch(pattern, "nope"), path
        assert "created_at" in keys, path  # the example and sort_dir alone use it


def test_every_list_documents_with_count_and_its_count_field(doc):
    """Each list (the routes that take sort) takes with_count and may answer an integer count."""
    lists = [path for path, item in doc["paths"].items()
             if "get" in item and "sort" in _list_parameters(doc, path)]
    assert len(lists) == 14
    for path in lists:
        assert "with_count" in _list_parameters(doc, path), path
        body = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert body["properties"]["count"]["type"] == "integer", path
        assert "count" not in body["required"], path
