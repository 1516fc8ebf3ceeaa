"""``netapp ontap_rest`` performance collection end to end against the simulator's REST API on loopback.

Registration and metrics-config go through the API; each window is a real perf task run by the
in-process task manager on PostgreSQL; ``GET /metrics`` is scraped over real HTTP. Between windows
the simulator's clock moves a known number of seconds, so every value on /metrics must equal what
the model's counters give, exactly: totals only in the first window, rates over the array's time
after that, none for a counter that was reset in the window, and a right one again after it.
"""

import pytest

from delfin_like_drivers.netapp import ontap_perf
from delfin_like_drivers.simulator.rest import ontap_uuid
from tests.functional.drivers.conftest import ontap_body
from tests.functional.drivers.perf_fixtures import (
    BYTES_ONLY,
    SAMPLE_NAME,
    enable,
    expected_series,
    scrape,
    scrape_with_names,
    windows,
)

pytestmark = pytest.mark.services

TYPES = ("storage", "storage_pool", "volume", "controller", "port")


def _resources(array) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """``(resource type, ONTAP key, model id, metrics)`` of everything with counters, from the model."""
    snap = array.snapshot()
    every = tuple(SAMPLE_NAME)
    out = [("storage", ontap_uuid(snap.serial), snap.serial, every)]
    out += [("storage_pool", ontap_uuid(p.id), p.id, every) for p in snap.pools]
    out += [("volume", v.id, v.id, every) for v in snap.volumes]
    out += [("controller", ontap_uuid(n.id), n.id, every) for n in snap.nodes]
    out += [("port", ontap_uuid(p.id), p.id, every if p.kind == "fc" else BYTES_ONLY) for p in snap.ports]
    return out


def test_rates_on_metrics_follow_the_simulator_counters_exactly(platform, metrics_url, sim_array, rest_sim):
    sim_array.advance(100)  # counters well above zero, so a reset is a visible decrease
    sid = platform.register_and_sync(ontap_body(rest_sim))["id"]
    caps = platform.api.get(f"/v1/storages/{sid}/capabilities").json["capabilities"]
    assert {rt: set(m) for rt, m in caps["resource_metrics"].items()} == {
        rt: set(ontap_perf.IO_METRICS) for rt in TYPES
    }
    assert {rt: c["min_interval"] for rt, c in caps["collection"].items()} == {rt: 15 for rt in TYPES}
    # finer than the driver supports: refused, nothing enabled
    body = {"volume_polling": {"perf_collection": True, "interval": 5, "is_historic": False}}
    assert platform.api.put_json(f"/v1/storages/{sid}/metrics-config", body, status=400).json["error_code"]
    enable(platform, sid, TYPES, interval=15)

    resources = _resources(sim_array)
    ids = [r[2] for r in resources]
    requests_before = rest_sim.requests_served
    _, first = sim_array.counters_many(ids)
    results = windows(platform, sid, TYPES)
    # one GET per listing page (all fit one page of 1000) and one for the cluster
    assert rest_sim.requests_served - requests_before == len(TYPES) + 1
    assert results["volume"]["samples"] == 4 * 150
    got, names = scrape_with_names(metrics_url, sid)
    assert got == expected_series(resources, first, None, 0)
    # the samples carry the array's names (the resource_name label)
    volume_names = {rid: name for (rt, rid), name in names.items() if rt == "volume"}
    assert volume_names == {v.id: v.name for v in sim_array.snapshot().volumes}

    sim_array.advance(30)
    _, second = sim_array.counters_many(ids)
    windows(platform, sid, TYPES)
    got = scrape(metrics_url, sid)
    assert got == expected_series(resources, second, first, 30)
    assert len(got) == 13 * (1 + 3 + 150 + 2 + 4) + 5 * 4  # FC ports everything, Ethernet ports bytes only

    # a counter reset on one volume: no rate for it in that window (totals restart), rates elsewhere
    victim = resources[10][2]
    sim_array.reset_counters(victim)
    sim_array.advance(10)
    _, third = sim_array.counters_many(ids)
    assert third[victim].read_ops < second[victim].read_ops
    windows(platform, sid, TYPES)
    assert scrape(metrics_url, sid) == expected_series(resources, third, second, 10, reset={victim})

    sim_array.advance(20)
    _, fourth = sim_array.counters_many(ids)
    windows(platform, sid, TYPES)
    got = scrape(metrics_url, sid)
    assert got == expected_series(resources, fourth, third, 20)
    assert got[("volume", victim, "delfin_like_iops")] > 0
