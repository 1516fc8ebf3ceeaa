"""``ibm svc_ssh`` performance collection end to end against the simulator's SSH CLI on loopback.

The counters come from ``lsiostatscounters``, the simulator's extension modeled on SVC's iostats
dumps. Registration and metrics-config go through the API; each window is a real perf task run by
the in-process task manager on PostgreSQL; ``GET /metrics`` is scraped over real HTTP and must equal
what the model's counters give, exactly, with the simulator's clock moved a known amount between
windows: totals only in the first window, no rate across a counter reset, a right one after it.
An array without the command (a real SVC) declares no metrics.
"""

import pytest

from delfin_like_drivers.simulator import svc_views
from tests.functional.drivers.perf_fixtures import NO_LATENCY, SAMPLE_NAME, enable, expected_series, scrape, windows
from tests.functional.drivers.ssh_fixtures import svc_body

pytestmark = pytest.mark.services

TYPES = ("storage", "storage_pool", "volume", "controller", "port", "disk")


def _no(resource_id: str) -> str:
    return str(int(resource_id.rsplit("-", 1)[1]))


def _resources(array) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """``(resource type, SVC native id, model id, metrics)`` of everything with counters, from the model."""
    snap = array.snapshot()
    every = tuple(SAMPLE_NAME)
    out = [("storage", snap.serial, snap.serial, every)]
    out += [("storage_pool", _no(p.id), p.id, every) for p in snap.pools]
    out += [("volume", str(v.number), v.id, every) for v in snap.volumes]
    out += [("controller", _no(n.id), n.id, every) for n in snap.nodes]
    for p in snap.ports:
        n, i = int(_no(p.node_id)), int(p.name[-1]) if p.kind == "fc" else "ab".index(p.name[-1])
        native = f"fc-{(n - 1) * 8 + i}" if p.kind == "fc" else f"eth-{n}-{i + 1}"
        out.append(("port", native, p.id, NO_LATENCY))
    out += [("disk", _no(d.id), d.id, every) for d in snap.disks]
    return out


def test_rates_on_metrics_follow_the_simulator_counters_exactly(platform, metrics_url, svc_array, ssh_sim):
    svc_array.advance(100)  # counters well above zero, so a reset is a visible decrease
    sid = platform.register_and_sync(svc_body(ssh_sim))["id"]
    caps = platform.api.get(f"/v1/storages/{sid}/capabilities").json["capabilities"]
    assert set(caps["resource_metrics"]) == set(TYPES)
    assert set(caps["resource_metrics"]["port"]) == set(NO_LATENCY)
    assert set(caps["resource_metrics"]["volume"]) == set(SAMPLE_NAME)
    enable(platform, sid, TYPES, interval=5)

    resources = _resources(svc_array)
    ids = [r[2] for r in resources]
    _, first = svc_array.counters_many(ids)
    results = windows(platform, sid, TYPES)
    assert results["volume"]["samples"] == 4 * 120
    assert scrape(metrics_url, sid) == expected_series(resources, first, None, 0)

    svc_array.advance(30)
    _, second = svc_array.counters_many(ids)
    windows(platform, sid, TYPES)
    got = scrape(metrics_url, sid)
    assert got == expected_series(resources, second, first, 30)
    assert len(got) == 13 * (1 + 3 + 120 + 2 + 10) + 10 * 8

    # one volume and one pool's mdisk reset: no rate for them in that window, rates elsewhere
    victims = {resources[10][2], resources[1][2]}
    for victim in victims:
        svc_array.reset_counters(victim)
    svc_array.advance(10)
    _, third = svc_array.counters_many(ids)
    windows(platform, sid, TYPES)
    assert scrape(metrics_url, sid) == expected_series(resources, third, second, 10, reset=victims)

    svc_array.advance(20)
    _, fourth = svc_array.counters_many(ids)
    windows(platform, sid, TYPES)
    assert scrape(metrics_url, sid) == expected_series(resources, fourth, third, 20)


def test_an_array_without_the_counters_command_declares_no_metrics(platform, start_ssh_sim):
    front = start_ssh_sim("real-svc", disabled_commands=(svc_views.STATS_COMMAND,))
    sid = platform.register_and_sync(svc_body(front))["id"]
    assert platform.api.get(f"/v1/storages/{sid}/capabilities").json["capabilities"]["resource_metrics"] == {}
    body = {"volume_polling": {"perf_collection": True, "interval": 60, "is_historic": False}}
    resp = platform.api.put_json(f"/v1/storages/{sid}/metrics-config", body, status=400).json
    assert resp["error_code"] == "InvalidInput" and "collects no volume metrics" in resp["error_msg"]
    assert platform.api.get(f"/v1/storages/{sid}/metrics-config").json == {}
