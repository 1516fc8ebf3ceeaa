"""Helpers of the drivers' perf tests: collection windows through the real platform, a real scrape.

``metrics_url``: the real API served by cheroot on a loopback port (same database as ``platform``),
for ``GET /metrics`` with a real HTTP client. Windows run deterministically: the test fires the
series' schedule as the scheduler would and casts the task to the ``platform``'s task manager.
Expected values are computed here from the simulator's model counters, never from driver code.
"""

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from delfin_like.common.constants import TaskStatus
from delfin_like.rpc import client as rpc_client
from delfin_like_drivers.simulator.model import Counters
from tests.perf_outputs import SAMPLE_NAME, serve_api
from tests.unit.task_manager import perf_helpers

POLLING_KEY = {
    "storage": "array_polling",
    "storage_pool": "pool_polling",
    "volume": "volume_polling",
    "controller": "controller_polling",
    "port": "port_polling",
    "disk": "disk_polling",
}
BYTES_ONLY = ("throughput", "read_throughput", "write_throughput", "read_bytes_total", "write_bytes_total")
NO_LATENCY = tuple(m for m in SAMPLE_NAME if "response_time" not in m)


@pytest.fixture
def metrics_url(platform):
    """``http://127.0.0.1:<port>`` of the real API (cheroot) on the platform's database."""
    with serve_api() as url:
        yield url


def enable(platform, storage_id: str, resource_types, interval: int) -> dict:
    """PUT metrics-config enabling ``resource_types`` every ``interval`` s (all declared metrics)."""
    body = {
        POLLING_KEY[rt]: {"perf_collection": True, "interval": interval, "is_historic": False} for rt in resource_types
    }
    return platform.api.put_json(f"/v1/storages/{storage_id}/metrics-config", body, status=200).json


def window(platform, storage_id: str, resource_type: str) -> dict:
    """Fire the series' schedule, cast its task to the task manager, wait; returns the task's result."""
    task = perf_helpers.fire(storage_id, resource_type)
    rpc_client.TaskAPI().run_task(None, task)
    done = platform.wait_task(task["id"])
    assert done["status"] == TaskStatus.COMPLETED, done
    return done["result"]


def scrape_with_names(url: str, storage_id: str) -> tuple[dict, dict[tuple[str, str], str]]:
    """``{(resource_type, resource_id, sample name): value}`` of one storage on ``GET /metrics``, and
    ``{(resource_type, resource_id): resource_name}`` of the same series."""
    resp = requests.get(f"{url}/metrics", timeout=30)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/plain"), resp.text[:300]
    out, names = {}, {}
    for family in text_string_to_metric_families(resp.text):
        for sample in family.samples:
            labels = sample.labels
            if labels.get("storage_id") == storage_id and "resource_id" in labels:
                key = (labels["resource_type"], labels["resource_id"], sample.name)
                assert key not in out, f"duplicate series {key}"
                out[key] = sample.value
                names[key[:2]] = labels["resource_name"]
    return out, names


def scrape(url: str, storage_id: str) -> dict[tuple[str, str, str], float]:
    """The values :func:`scrape_with_names` gives."""
    return scrape_with_names(url, storage_id)[0]


def windows(platform, storage_id: str, resource_types) -> dict[str, dict]:
    """One :func:`window` of each of ``resource_types``; returns their results by type."""
    return {rt: window(platform, storage_id, rt) for rt in resource_types}


def expected_series(resources, after: dict, before: dict | None, seconds: float, reset=()) -> dict:
    """What :func:`scrape` must give for ``resources`` (``(type, native id, model id, metrics)`` each):
    :func:`expected` of each from the model counters ``after`` and ``before`` (by model id; None for the
    first window), with no ``before`` for the model ids in ``reset``."""
    out = {}
    for rt, native, model_id, metrics in resources:
        prior = None if before is None or model_id in reset else before[model_id]
        for name, value in expected(after[model_id], prior, seconds, metrics).items():
            out[(rt, native, name)] = value
    return out


def expected(after: Counters, before: Counters | None, seconds: float, metrics=tuple(SAMPLE_NAME)) -> dict:
    """``{sample name: value}`` of one resource read at ``after`` and (None: first reading or a reset)
    ``seconds`` earlier at ``before``: totals always, rates only with ``before``."""
    values = {
        "read_ops_total": after.read_ops,
        "write_ops_total": after.write_ops,
        "read_bytes_total": after.read_bytes,
        "write_bytes_total": after.write_bytes,
    }
    if before is not None:
        ro, wo = after.read_ops - before.read_ops, after.write_ops - before.write_ops
        rb, wb = after.read_bytes - before.read_bytes, after.write_bytes - before.write_bytes
        rl = after.read_latency_us - before.read_latency_us
        wl = after.write_latency_us - before.write_latency_us
        values.update(
            iops=(ro + wo) / seconds,
            read_iops=ro / seconds,
            write_iops=wo / seconds,
            throughput=(rb + wb) / seconds,
            read_throughput=rb / seconds,
            write_throughput=wb / seconds,
            response_time=(rl + wl) * 1e-6 / (ro + wo),
            read_response_time=rl * 1e-6 / ro,
            write_response_time=wl * 1e-6 / wo,
        )
    return {SAMPLE_NAME[m]: float(v) for m, v in values.items() if m in metrics}
