"""Driver -> perf job -> exporters on PostgreSQL and RabbitMQ: a real HTTP scrape of /metrics checked against
the fake driver's counters exactly, notifications consumed by a real oslo.messaging listener (at-least-once)."""

import json
import time
import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from delfin_like import coordination, rpc  # noqa: F401 - rpc selects the threading backend
from delfin_like.common.constants import TaskStatus
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.rpc import transport as rpc_transport
from delfin_like.task_manager import manager as tm_manager
from delfin_like.task_manager.jobs import perf
from tests.perf_outputs import SAMPLE_NAME, NotificationConsumer, serve_api
from tests.unit.task_manager import fakes, perf_helpers

pytestmark = pytest.mark.services

TYPES = ("storage", "volume", "port", "disk")
# metric -> the gauge /metrics shows it under (the fake driver also reports a utilization ratio)
METRIC_SAMPLE = {**SAMPLE_NAME, "utilization": "delfin_like_utilization_ratio"}


@pytest.fixture
def env(postgresql_db, rabbit_bus, tmp_path):
    # the tests run the perf tasks directly; the manager's lanes and the notifications are on RabbitMQ
    CONF.set_override("transport_url", rabbit_bus, group="oslo_messaging_notifications")
    topic = f"delfin_test_notifications.{uuid.uuid4().hex[:10]}"
    CONF.set_override("topics", [topic], group="oslo_messaging_notifications")
    CONF.set_override("enabled", ["prometheus", "notification"], group="exporters")
    consumer = NotificationConsumer(topic)
    consumer.listener.start()
    mgr = tm_manager.TaskManager(fakes.RecordingTaskAPI())
    mgr.start()
    yield mgr, consumer
    mgr.stop(5)
    consumer.listener.stop()
    consumer.listener.wait()
    perf.close_exporters()
    coordination.stop()
    rpc_transport.cleanup()


@pytest.fixture
def api_url(postgresql_db):
    with serve_api() as url:
        yield url


def _storage(mgr, **extra):
    storage, sync_task = fakes.register_fake_storage(pools=2, volumes=4, disks=3, **extra)
    assert mgr.run_task(None, sync_task["id"]) == TaskStatus.COMPLETED
    rest = db_api.access_info_get(storage["id"])["rest"]
    drv = perf_helpers.fake_driver_of(
        db_api.access_info_get(storage["id"])["extra_attributes"], rest["host"], rest["port"]
    )
    return storage, drv


def _window(mgr, storage_id, rt):
    task = perf_helpers.fire(storage_id, rt)
    assert mgr.run_task(None, task["id"]) == TaskStatus.COMPLETED, db_api.task_get(task["id"])["error"]
    return db_api.task_get(task["id"])["result"]


def _scrape(url) -> tuple[str, dict]:
    resp = requests.get(f"{url}/metrics", timeout=30)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return resp.text, {f.name: f for f in text_string_to_metric_families(resp.text)}


def test_scrape_matches_the_counters_exactly(env, api_url):
    mgr, consumer = env
    storages = [_storage(mgr, seed=s) for s in (1, 2)]
    windows = {}
    for storage, _ in storages:
        for rt in TYPES:
            perf_helpers.enable(storage["id"], rt, interval=5)
            _window(mgr, storage["id"], rt)  # the first window: totals only
            windows[(storage["id"], rt)] = _window(mgr, storage["id"], rt)
    text, families = _scrape(api_url)

    # one HELP and one TYPE per family, units in the names, rates gauges and totals counters
    type_lines = [line for line in text.splitlines() if line.startswith("# TYPE ")]
    assert len(type_lines) == len(set(type_lines)) == text.count("# HELP ")
    assert families["delfin_like_iops"].type == "gauge"
    assert families["delfin_like_read_throughput_bytes_per_second"].type == "gauge"
    assert families["delfin_like_response_time_seconds"].type == "gauge"
    assert families["delfin_like_utilization_ratio"].type == "gauge"
    assert families["delfin_like_read_bytes"].type == "counter"
    assert families["delfin_like_write_ops"].type == "counter"

    checked = 0
    for storage, drv in storages:
        for rt in TYPES:
            w = windows[(storage["id"], rt)]
            expected = perf_helpers.expected_values(drv, rt, w["window_start_us"], w["window_end_us"])
            names = dict(drv.perf_resources(rt))
            got = {}
            for family in families.values():
                for sample in family.samples:
                    labels = sample.labels
                    if labels.get("storage_id") != storage["id"] or labels.get("resource_type") != rt:
                        continue
                    if "resource_id" not in labels:
                        continue
                    assert labels == {
                        "storage_id": storage["id"],
                        "storage_name": storage["name"],
                        "serial_number": storage["serial_number"],
                        "resource_type": rt,
                        "resource_id": labels["resource_id"],
                        "resource_name": names[labels["resource_id"]],
                    }
                    got[(labels["resource_id"], sample.name)] = sample.value
            want = {}
            for (rid, metric), value in expected.items():
                # counters keep their _total sample name
                spec_family = METRIC_SAMPLE.get(metric, f"delfin_like_{metric}")
                want[(rid, spec_family)] = value
            assert got == want
            checked += len(want)
    assert checked == 2 * (1 * 13 + 4 * 13 + 8 * 13 + 3 * 14)

    # the collection's own health, per series
    last = {
        (s.labels["storage_id"], s.labels["resource_type"]): s.value
        for s in families["delfin_like_perf_last_window_end_timestamp_seconds"].samples
    }
    assert last[(storages[0][0]["id"], "volume")] == windows[(storages[0][0]["id"], "volume")]["window_end_us"] / 1e6
    assert {s.value for s in families["delfin_like_perf_gaps"].samples} == {0.0}

    # every batch reached RabbitMQ once, with the same samples
    expected_batches = 2 * 2 * len(TYPES)
    received = consumer.wait_for(expected_batches)
    time.sleep(0.5)
    assert len(consumer.received) == expected_batches
    assert len({message_id for message_id, _, _ in received}) == expected_batches
    assert {event for _, event, _ in received} == {"delfin_like.metrics"}
    for message_id, _, payload in received:
        assert message_id == payload["batch_id"]
        key = (payload["storage_id"], payload["resource_type"])
        if payload["window_end"] * 1e6 != pytest.approx(windows[key]["window_end_us"], abs=1):
            continue
        drv = dict((s["id"], d) for s, d in storages)[payload["storage_id"]]
        expected = perf_helpers.expected_values(
            drv, payload["resource_type"], windows[key]["window_start_us"], windows[key]["window_end_us"], totals_as=int
        )
        assert {(rid, metric): value for rid, _, metric, value, _, _ in payload["samples"]} == expected


def test_notifications_are_at_least_once_when_the_broker_is_unreachable(env, rabbit_url):
    mgr, consumer = env
    storage, _ = _storage(mgr)
    perf_helpers.enable(storage["id"], "volume", interval=5)
    CONF.set_override("transport_url", "rabbit://guest:guest@127.0.0.1:1/", group="oslo_messaging_notifications")
    CONF.set_override("notification_retry", 0, group="exporters")
    perf.close_exporters()
    first = _window(mgr, storage["id"], "volume")
    second = _window(mgr, storage["id"], "volume")
    assert first["exporters"]["notification"]["failed"] == 1
    assert "Connection refused" in first["exporters"]["notification"]["error"]
    # the second window tries the backlog first; after that failure its own batch waits behind it
    assert second["backlog"]["exporters"]["notification"]["failed"] == 1
    assert "notification" not in second["exporters"]
    for result in (first, second):
        assert result["exporters"]["prometheus"] == {"delivered": 1, "failed": 0, "error": None}
    pending = db_api.perf_batches_pending(storage["id"], "volume")
    assert [p["exporters"] for p in pending] == [["notification"], ["notification"]]
    assert consumer.received == []

    CONF.set_override("transport_url", rabbit_url, group="oslo_messaging_notifications")
    perf.close_exporters()  # the broker is back: a fresh transport
    third = _window(mgr, storage["id"], "volume")
    assert third["backlog"]["exporters"]["notification"] == {"delivered": 2, "failed": 0, "error": None}
    received = consumer.wait_for(3)
    time.sleep(0.5)
    assert len(consumer.received) == 3 and db_api.perf_batches_pending(storage["id"], "volume") == []
    windows = [(p["window_start"], p["window_end"]) for _, _, p in received]
    assert windows == sorted(windows)  # the backlog first, in order
    assert [round(w * 1e6) for w in (windows[0][1], windows[1][1])] == [windows_end(first), windows_end(second)]
    assert windows[1][0] == windows[0][1] and windows[2][0] == windows[1][1]  # contiguous, each once
    assert json.dumps(received[2][2]["metrics"]["iops"]) == json.dumps(
        {"unit": "ops/s", "type": "gauge", "description": "Read and write operations per second"}
    )


def windows_end(result):
    return result["window_end_us"]
