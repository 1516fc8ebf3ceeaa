"""GET/PUT /v1/storages/{id}/metrics-config: Delfin's body, checked against the capabilities; GET /metrics."""

import pytest

from delfin_like.common.constants import TaskStatus
from delfin_like.db import api as db_api
from delfin_like.db.sqlalchemy.utils import utcnow
from delfin_like.sdk import perf
from tests.unit.api.conftest import register_body

ON = {"perf_collection": True, "interval": 30, "is_historic": False}


@pytest.fixture
def storage(api):
    return api.post_json("/v1/storages", register_body(perf_min_interval=10), status=201).json


def _url(storage):
    return f"/v1/storages/{storage['id']}/metrics-config"


def _due_kinds(storage_id):
    return sorted(s["kind"] for s in db_api.schedules_due(utcnow(), 1000) if s["storage_id"] == storage_id)


def test_nothing_configured_at_first(api, storage):
    assert api.get(_url(storage)).json == {}


def test_put_stores_per_resource_type_and_schedules_at_once(api, storage):
    body = {"array_polling": ON, "volume_polling": {**ON, "interval": 60, "metrics": ["iops", "read_bytes_total"]}}
    resp = api.put_json(_url(storage), body)
    expected = {
        "array_polling": {**ON, "metrics": None},
        "volume_polling": {**ON, "interval": 60, "metrics": ["iops", "read_bytes_total"]},
    }
    assert resp.json == expected
    assert api.get(_url(storage)).json == expected
    assert _due_kinds(storage["id"]) == ["perf_storage", "perf_volume"]

    # another PUT changes only the entries it names
    api.put_json(_url(storage), {"array_polling": {**ON, "perf_collection": False}})
    now = api.get(_url(storage)).json
    assert now["array_polling"]["perf_collection"] is False and now["volume_polling"] == expected["volume_polling"]
    assert _due_kinds(storage["id"]) == ["perf_volume"]


@pytest.mark.parametrize(
    "body, message",
    [
        ({"array_polling": {**ON, "interval": 5}}, "array_polling.interval: must be at least 10 s"),
        ({"volume_polling": {**ON, "is_historic": True}}, "volume_polling.is_historic: the driver cannot collect"),
        (
            {"disk_polling": {**ON, "metrics": ["iops", "temperature"]}},
            "disk_polling.metrics: the driver collects only",
        ),
        ({"volume_polling": {**ON, "metrics": ["utilization"]}}, "volume_polling.metrics: the driver collects only"),
        ({"lun_polling": ON}, "unknown field(s) 'lun_polling'"),
        ({"array_polling": {"perf_collection": True, "interval": 30}}, "'is_historic' is a required property"),
        ({"array_polling": {**ON, "interval": 0}}, "array_polling.interval: must be between 1 and 86400"),
        ({"array_polling": {**ON, "interval": "60"}}, "array_polling.interval: must be of type integer"),
        ({"array_polling": {**ON, "extra": 1}}, "unknown field(s) 'extra'"),
        ({}, "does not satisfy 'minProperties'"),
    ],
)
def test_bad_bodies_are_400_and_change_nothing(api, storage, body, message):
    api.put_json(_url(storage), {"port_polling": ON})
    before = api.get(_url(storage)).json
    resp = api.put_json(_url(storage), body, status=400)
    assert resp.json["error_code"] == "InvalidInput"
    assert message in resp.json["error_msg"]
    assert api.get(_url(storage)).json == before
    assert _due_kinds(storage["id"]) == ["perf_port"]


def test_a_storage_without_declared_metrics_refuses_every_type(api, storage):
    from delfin_like.db.sqlalchemy import engine, models

    with engine.write() as conn:
        conn.execute(models.Storage.__table__.update().values(capabilities=None))
    resp = api.put_json(_url(storage), {"array_polling": ON}, status=400)
    assert resp.json["error_msg"] == "Invalid input: array_polling: the storage's driver collects no storage metrics"


def test_unknown_and_deleting_storages(api, storage):
    missing = "/v1/storages/0b5d6a4e-0000-0000-0000-000000000000/metrics-config"
    assert api.get(missing, status=404).json["error_code"] == "StorageNotFound"
    assert api.put_json(missing, {"array_polling": ON}, status=404).json["error_code"] == "StorageNotFound"
    assert api.put(_url(storage), "not json", status=400).json["error_code"] == "MalformedRequestBody"
    db_api.storage_mark_deleting(storage["id"])
    assert api.put_json(_url(storage), {"array_polling": ON}, status=409).json["error_code"] == "StorageBeingDeleted"


def test_capabilities_show_the_metric_declarations(api, storage):
    caps = api.get(f"/v1/storages/{storage['id']}/capabilities").json["capabilities"]
    assert caps["resource_metrics"]["volume"]["read_throughput"] == perf.STANDARD_METRICS["read_throughput"].as_dict()
    assert set(caps["resource_metrics"]) == {"storage", "storage_pool", "volume", "controller", "port", "disk"}
    assert caps["collection"]["volume"] == {"min_interval": 10, "is_historic": False}


def test_disabling_cancels_a_queued_task(api, storage):
    api.put_json(_url(storage), {"volume_polling": ON})
    from tests.unit.task_manager import perf_helpers

    task = perf_helpers.fire(storage["id"], "volume")
    api.put_json(_url(storage), {"volume_polling": {**ON, "perf_collection": False}})
    assert db_api.task_get(task["id"])["status"] == TaskStatus.CANCELLED


def test_metrics_endpoint_is_prometheus_text(api, storage):
    resp = api.get("/metrics")
    assert resp.status_int == 200 and resp.content_type == "text/plain"
    assert "version=0.0.4" in resp.headers["Content-Type"]
    # nothing collected yet (the storage's open alert counts, all 0, are the only samples)
    samples = [line for line in resp.text.splitlines() if not line.startswith("#")]
    assert samples and all(line.startswith("delfin_like_alerts_open{") and line.endswith(" 0.0") for line in samples)
    api.put_json(_url(storage), {"array_polling": ON})
    text = api.get("/metrics").text
    assert text.count("# TYPE delfin_like_perf_gaps_total counter\n") == 1
    assert f'delfin_like_perf_gaps_total{{resource_type="storage",serial_number="{storage["serial_number"]}"' in text
    api.post("/metrics", status=405)


def test_the_documented_body_is_the_validated_one():
    from delfin_like.api.controllers import openapi
    from delfin_like.api.schemas.v1 import metrics_config as schema

    documented = openapi.document()["components"]["schemas"]["MetricsConfigUpdate"]

    def bare(value):
        if isinstance(value, dict):
            return {k: bare(v) for k, v in value.items() if k not in ("description", "$schema")}
        return [bare(v) for v in value] if isinstance(value, list) else value

    assert bare(documented) == bare(schema.update)
