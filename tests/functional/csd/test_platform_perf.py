"""``csd nvme`` perf collection through the real platform, against a running agent on loopback.

The agent serves the shipped fixtures with ``fixture_io_rate`` (``--fixture-io-rate``): its counters
grow by fixed steps per whole second of its own clock, and every reading is stamped with that second.
Registration and sync go through the API and the task manager; ``PUT metrics-config`` and
``GET /metrics`` over real HTTP; each window is a perf task fired as the scheduler would. What
/metrics shows must equal what the agent reported: the step count of each reading is read back from
one counter and must lie between the agent's own answers before and after the window; every other
total must then be exactly the fixture value plus its steps, and rates the deltas over the agent's
seconds, with the driver's float operations (so equality is exact). The first window has totals only.
"""

import json
import pathlib
import time

import pytest
import requests

from delfin_like_drivers.csd import nvme_source
from delfin_like_drivers.csd.grpc_api import pb
from tests.functional.csd.conftest import csd_body
from tests.functional.drivers import perf_fixtures
from tests.functional.drivers.conftest import platform  # noqa: F401 - fixture
from tests.functional.drivers.perf_fixtures import scrape_with_names, window
from tests.perf_outputs import SAMPLE_NAME

metrics_url = perf_fixtures.metrics_url
pytestmark = pytest.mark.services

RATE = 1000
FIXTURES = pathlib.Path(nvme_source.FIXTURES_DIR)
UNIT = 512_000  # bytes per SMART data unit
MINUTE_US = 60_000_000
CONTROLLERS = ("nvme0", "nvme1")
# per second and rate unit, as the agent documents it: field -> step
STEPS = {"host_read_commands": 4, "data_units_read": 2, "host_write_commands": 2, "data_units_written": 1}
RATES = ("iops", "read_iops", "write_iops", "throughput", "read_throughput", "write_throughput")


def _smart(controller: str) -> dict:
    return json.loads((FIXTURES / f"{controller}-smart-log.json").read_text())


def _counters(controllers, steps: int) -> dict[str, int]:
    """The standard counters of ``controllers`` (summed) after ``steps`` whole seconds, from the raw JSON."""

    def field(name):
        return sum(_smart(c)[name] + STEPS[name] * RATE * (int(c[4:]) + 1) * steps for c in controllers)

    return {
        "read_ops": field("host_read_commands"),
        "write_ops": field("host_write_commands"),
        "read_bytes": field("data_units_read") * UNIT,
        "write_bytes": field("data_units_written") * UNIT,
        "busy_us": sum(_smart(c)["controller_busy_time"] + steps // 60 for c in controllers) * MINUTE_US,
    }


def _steps_from_read_ops(controllers, read_ops: float) -> int:
    """The steps a reading of ``controllers`` shows, from its read commands total."""
    base = sum(_smart(c)["host_read_commands"] for c in controllers)
    per_step = sum(4 * RATE * (int(c[4:]) + 1) for c in controllers)
    steps, rest = divmod(int(read_ops) - base, per_step)
    assert rest == 0 and steps >= 0, read_ops
    return steps


def _agent_steps(agent) -> int:
    """The steps of the agent's own reading now (GetIoCounters of nvme0)."""
    c = agent.stub.GetIoCounters(pb.GetIoCountersRequest(controller="nvme0"), timeout=10).counters[0]
    return _steps_from_read_ops(("nvme0",), int(c.host_read_commands))


def _expected(resources, now: dict, before: dict | None, metrics) -> dict:
    """``{(type, id, sample name): value}``: totals of ``now`` (type -> (steps, controllers) by id) and,
    with ``before``, rates over the steps between, computed as the driver does."""
    out = {}
    for rt, rid, controllers in resources:
        steps = now[(rt, rid)]
        c = _counters(controllers, steps)
        for m in ("read_ops", "write_ops", "read_bytes", "write_bytes"):
            out[(rt, rid, SAMPLE_NAME[f"{m}_total"])] = float(c[m])
        if before is None:
            continue
        p, seconds = _counters(controllers, before[(rt, rid)]), float(steps - before[(rt, rid)])
        d = {k: c[k] - p[k] for k in c}
        values = {
            "iops": (d["read_ops"] + d["write_ops"]) / seconds,
            "read_iops": d["read_ops"] * 1.0 / seconds,
            "write_iops": d["write_ops"] * 1.0 / seconds,
            "throughput": (d["read_bytes"] + d["write_bytes"]) / seconds,
            "read_throughput": d["read_bytes"] * 1.0 / seconds,
            "write_throughput": d["write_bytes"] * 1.0 / seconds,
        }
        if rt == "disk":
            values["utilization"] = d["busy_us"] * 1e-6 / seconds
        out.update({(rt, rid, metrics[m]): v for m, v in values.items()})
    return out


def _window_steps(platform, url, agent, storage_id, resources) -> tuple[dict, dict, dict]:  # noqa: F811
    """Run a disk and a storage window; returns (steps of each resource's reading, scraped, names)."""
    low = _agent_steps(agent)
    window(platform, storage_id, "disk")
    window(platform, storage_id, "storage")
    high = _agent_steps(agent)
    got, names = scrape_with_names(url, storage_id)
    steps = {}
    for rt, rid, controllers in resources:
        steps[(rt, rid)] = _steps_from_read_ops(controllers, got[(rt, rid, SAMPLE_NAME["read_ops_total"])])
        assert low <= steps[(rt, rid)] <= high, (rt, rid, low, steps, high)
    return steps, got, names


def test_metrics_equal_the_agents_counters(platform, metrics_url, start_agent):  # noqa: F811
    agent = start_agent("csd-perf", fixture_io_rate=RATE)
    storage = platform.register_and_sync(csd_body(agent.port))
    sid = storage["id"]
    caps = requests.get(f"{metrics_url}/v1/storages/{sid}/capabilities", timeout=30).json()["capabilities"]
    assert set(caps["resource_metrics"]) == {"disk", "storage"}
    assert not [m for m in caps["resource_metrics"]["disk"] if "response_time" in m]

    body = {
        key: {"perf_collection": True, "interval": 60, "is_historic": False}
        for key in ("disk_polling", "array_polling")
    }
    resp = requests.put(f"{metrics_url}/v1/storages/{sid}/metrics-config", json=body, timeout=30)
    assert resp.status_code == 200, resp.text

    node = agent.stub.ListNodes(pb.ListNodesRequest(), timeout=10).nodes[0]
    disks = {
        s.controllers[0]: s.serial_number
        for s in agent.stub.ListSubsystems(pb.ListSubsystemsRequest(), timeout=10).subsystems
    }
    resources = [("disk", disks[c], (c,)) for c in CONTROLLERS] + [("storage", node.id, CONTROLLERS)]
    metrics = dict(SAMPLE_NAME, utilization="delfin_like_utilization_ratio")

    first, got, names = _window_steps(platform, metrics_url, agent, sid, resources)
    assert got == _expected(resources, first, None, metrics)
    assert not [k for k in got if not k[2].endswith("_total")]  # the first window: totals only, no rate
    assert names == {("disk", disks[c]): c for c in CONTROLLERS} | {("storage", node.id): node.name}

    # the agent's counters move on: wait (bounded) until its clock is past every first reading
    deadline = time.monotonic() + 10
    while _agent_steps(agent) <= max(first.values()):
        assert time.monotonic() < deadline, "the agent's fixture counters did not grow"
        time.sleep(0.1)
    second, got, _ = _window_steps(platform, metrics_url, agent, sid, resources)
    assert all(second[k] > first[k] for k in first)
    assert got == _expected(resources, second, first, metrics)
    disk0 = ("disk", disks["nvme0"])
    assert got[(*disk0, SAMPLE_NAME["read_iops"])] == 4.0 * RATE  # the documented fixture rate, exactly
    assert got[(*disk0, SAMPLE_NAME["write_throughput"])] == 1.0 * RATE * UNIT
    assert {k[2] for k in got if k[:2] == disk0} == {metrics[m] for m in caps["resource_metrics"]["disk"]}
