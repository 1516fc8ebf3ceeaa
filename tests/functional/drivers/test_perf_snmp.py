"""``generic snmp`` performance collection through the real platform, against snmpd serving the simulator.

Registration, ``PUT metrics-config`` and ``GET /metrics`` go over real HTTP (cheroot on loopback);
each collection window is a perf task fired as the scheduler would and run by the platform's task
manager, with the simulator's clock moved a known amount between windows. Every value scraped must
equal what the simulator's counters give at the two instants, over the sysUpTime seconds between
them, with the same float operations (so equality is exact): no rate in the first window, none for
a counter reset, the right one across a Counter32 wrap, and across a wrap of sysUpTime itself.
"""

import pytest
import requests

from tests.functional.drivers import perf_fixtures
from tests.functional.drivers.perf_fixtures import scrape_with_names, window
from tests.functional.drivers.snmp_fixtures import COMMUNITY, require_snmpd, snmp_body

pytestmark = pytest.mark.services

M32, M64 = 2**32, 2**64
TICKS = 100  # sysUpTime: hundredths of a second
# what an SNMP agent gives: no latencies
SAMPLE_NAME = {m: perf_fixtures.SAMPLE_NAME[m] for m in perf_fixtures.NO_LATENCY}


def _enable(metrics_url: str, storage_id: str, resource_types) -> None:
    body = {
        perf_fixtures.POLLING_KEY[rt]: {"perf_collection": True, "interval": 15, "is_historic": False}
        for rt in resource_types
    }
    resp = requests.put(f"{metrics_url}/v1/storages/{storage_id}/metrics-config", json=body, timeout=30)
    assert resp.status_code == 200, resp.text
    assert {k: v["perf_collection"] for k, v in resp.json().items()} == dict.fromkeys(body, True)


def _resources(snap) -> dict[str, dict[str, tuple[str, str]]]:
    """resource type -> {model id: (native id, name)} as the inventory names them."""
    pools = {p.id: p.name for p in snap.pools}
    return {
        "volume": {v.id: (f"{pools[v.pool_id]}/{v.name}", v.name) for v in snap.volumes},
        "disk": {d.id: (d.name, d.name) for d in snap.disks},
        "port": {p.id: (p.id, p.name) for p in snap.ports},
    }


def _expected(resource_type, ids, before, after, byte_bits=64, reset=()) -> dict:
    """What /metrics must show after a window: totals as the agent serves them (ops are Counter32,
    bytes ``byte_bits`` wide) and, with ``before`` (the previous window's snapshot), rates from the
    model's true counters over the sysUpTime seconds; no rate for the ids in ``reset``."""
    out = {}
    seconds = None
    if before is not None:
        seconds = ((int(after.clock * TICKS) - int(before.clock * TICKS)) % M32) / TICKS
    for rid, (native, _) in ids.items():
        now = after.counters[rid]
        totals = {"read_bytes_total": now.read_bytes, "write_bytes_total": now.write_bytes}
        if resource_type != "port":
            totals |= {"read_ops_total": now.read_ops, "write_ops_total": now.write_ops}
        for metric, value in totals.items():
            modulus = M32 if "_ops_" in metric or byte_bits == 32 else M64
            out[(resource_type, native, SAMPLE_NAME[metric])] = float(value % modulus)
        if seconds is None or rid in reset:
            continue
        was = before.counters[rid]
        d_rb, d_wb = now.read_bytes - was.read_bytes, now.write_bytes - was.write_bytes
        rates = {"throughput": (d_rb + d_wb) / seconds, "read_throughput": d_rb / seconds}
        rates["write_throughput"] = d_wb / seconds
        if resource_type != "port":
            d_ro, d_wo = now.read_ops - was.read_ops, now.write_ops - was.write_ops
            rates |= {"iops": (d_ro + d_wo) / seconds, "read_iops": d_ro / seconds, "write_iops": d_wo / seconds}
        out.update({(resource_type, native, SAMPLE_NAME[m]): v for m, v in rates.items()})
    return out


def _collect_and_check(platform, metrics_url, storage_id, array, types, before, **expect) -> tuple:
    """Run one window of every type, scrape, compare exactly; returns (the snapshot of this window, scraped)."""
    for rt in types:
        window(platform, storage_id, rt)
    snap = array.snapshot()
    got, names = scrape_with_names(metrics_url, storage_id)
    resources = _resources(snap)
    want = {}
    for rt in types:
        want.update(_expected(rt, resources[rt], before, snap, **expect))
    assert got == want
    assert names == {(rt, native): name for rt in types for native, name in resources[rt].values()}
    return snap, got


def test_rates_on_metrics_match_the_simulator_exactly(platform, metrics_url, snmp_sim, snmp_array):
    storage = platform.register_and_sync(snmp_body(snmp_sim))
    caps = requests.get(f"{metrics_url}/v1/storages/{storage['id']}/capabilities", timeout=30).json()["capabilities"]
    assert set(caps["resource_metrics"]["port"]) == {
        "throughput", "read_throughput", "write_throughput", "read_bytes_total", "write_bytes_total",
    }  # fmt: skip
    assert set(caps["resource_metrics"]["volume"]) == {m for m in SAMPLE_NAME}
    _enable(metrics_url, storage["id"], ("volume", "disk", "port"))

    # put one volume's read operations just below 2**32, so its Counter32 wraps in the second window
    wrapping, reset = sorted(snmp_array.volumes)[:2]
    snmp_array.advance(1)
    per_second = snmp_array.counters(wrapping).read_ops  # int(rate * 1)
    snmp_array.advance(M32 // per_second - 11)
    types = ("volume", "disk", "port")

    first, got = _collect_and_check(platform, metrics_url, storage["id"], snmp_array, types, None)
    assert not [k for k in got if not k[2].endswith("_total")]  # the first window: totals only, no rate

    snmp_array.advance(30)
    snmp_array.reset_counters(reset)  # as a controller reboot: starts again from zero now
    snmp_array.advance(7)
    second, got = _collect_and_check(platform, metrics_url, storage["id"], snmp_array, types, first, reset={reset})
    assert first.counters[wrapping].read_ops % M32 > second.counters[wrapping].read_ops % M32  # it did wrap
    assert got[("volume", _resources(second)["volume"][wrapping][0], "delfin_like_read_iops")] == per_second
    native_reset = _resources(second)["volume"][reset][0]
    assert {k[2] for k in got if k[1] == native_reset} == {SAMPLE_NAME[m] for m in SAMPLE_NAME if m.endswith("_total")}

    snmp_array.advance(15)  # after the reset the chain goes on: the reset volume has rates again
    _collect_and_check(platform, metrics_url, storage["id"], snmp_array, types, second)


def test_a_counter32_only_agent_across_a_sysuptime_wrap(platform, metrics_url, snmp_array, tmp_path):
    require_snmpd()
    from delfin_like_drivers.simulator.snmp import SnmpFrontEnd

    front = SnmpFrontEnd(snmp_array, community=COMMUNITY, state_dir=str(tmp_path / "snmp-32"), counters64=False).start()
    try:
        storage = platform.register_and_sync(snmp_body(front))
        _enable(metrics_url, storage["id"], ("volume", "port"))
        snmp_array.advance(M32 // TICKS - 2)  # sysUpTime 2 s (and some ticks) before it wraps
        types = ("volume", "port")
        first, got = _collect_and_check(platform, metrics_url, storage["id"], snmp_array, types, None, byte_bits=32)
        assert got and not [k for k in got if not k[2].endswith("_total")]

        snmp_array.advance(4)  # under 2 GiB moves at the simulator's rates: every 32-bit wrap is plain
        second, got = _collect_and_check(platform, metrics_url, storage["id"], snmp_array, types, first, byte_bits=32)
        assert int(second.clock * TICKS) % M32 < int(first.clock * TICKS) % M32  # sysUpTime wrapped
        wrapped = [
            rid
            for rid, c in second.counters.items()
            if c.read_bytes % M32 < first.counters[rid].read_bytes % M32 and rid in snmp_array.volumes
        ]
        assert wrapped  # some volume's diskIONRead wrapped in the window, and its rate is still exact
        assert any(k[2] == "delfin_like_iops" for k in got)
    finally:
        front.stop()
