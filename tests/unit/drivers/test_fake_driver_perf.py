"""The fake driver's performance metrics: counters that grow with time, exact rates, wraps and resets."""

import pytest

from delfin_like.sdk import exceptions as sdk_exc
from delfin_like.sdk import models, perf
from delfin_like_drivers.fake import driver as fake

T0 = 1_750_000_000.0


def _driver(**attrs) -> fake.FakeStorageDriver:
    return fake.FakeStorageDriver(
        models.AccessInfo(
            vendor="fake_storage",
            model="fake_driver",
            rest=models.AccessEndpoint(host="127.0.0.1", port=8443, username="u", password="p"),
            extra_attributes={"pools": 2, "volumes": 3, **attrs},
        )
    )


def _by_key(samples):
    return {(s.resource_id, s.metric): s for s in samples}


def test_capabilities_declare_every_resource_type():
    caps = _driver(perf_min_interval=7).get_capabilities()
    parsed = perf.parse(caps)
    assert set(parsed) == set(models.ResourceType.ALL)
    cap, specs = parsed["volume"]
    assert cap.min_interval == 7 and not cap.is_historic
    assert "utilization" not in specs and "utilization" in parsed["disk"][1]
    assert specs["read_bytes_total"].type == "counter" and specs["response_time"].unit == "s"


def test_first_window_has_totals_only_then_exact_rates():
    drv = _driver()
    wanted = {"volume": ["iops", "read_throughput", "response_time", "write_response_time", "read_ops_total"]}
    first = list(drv.collect_perf_metrics(wanted, T0 - 10, T0))
    assert {s.metric for s in first} == {"read_ops_total"}
    assert len(first) == 3
    state = drv.counters.state()

    # a new driver (the next task) continues from the stored readings
    nxt = _driver()
    nxt.counters.load(state)
    samples = _by_key(nxt.collect_perf_metrics(wanted, T0, T0 + 12.5))
    assert len(samples) == 3 * 5
    for vol, _ in drv.perf_resources("volume"):
        before = drv.perf_counters("volume", vol, T0)
        after = drv.perf_counters("volume", vol, T0 + 12.5)
        ops = after["read_ops"] - before["read_ops"] + after["write_ops"] - before["write_ops"]
        assert samples[(vol, "iops")].value == ops / 12.5
        assert samples[(vol, "iops")].interval == 12.5 and samples[(vol, "iops")].timestamp == T0 + 12.5
        assert samples[(vol, "read_throughput")].value == (after["read_bytes"] - before["read_bytes"]) / 12.5
        lat = (
            after["read_latency_us"]
            - before["read_latency_us"]
            + after["write_latency_us"]
            - before["write_latency_us"]
        )
        assert samples[(vol, "response_time")].value == lat * 1e-6 / ops
        assert samples[(vol, "read_ops_total")].value == after["read_ops"]
        assert samples[(vol, "read_ops_total")].interval is None
        assert samples[(vol, "iops")].resource_name.startswith("volume_0_")


def test_counters_grow_with_time_exactly():
    drv = _driver()
    a, b = drv.perf_counters("port", "port-0-1", T0), drv.perf_counters("port", "port-0-1", T0 + 1)
    assert all(b[k] >= a[k] for k in a)
    assert b["read_ops"] > a["read_ops"]
    assert drv.perf_counters("port", "port-0-1", T0) == a  # a pure function of time
    assert _driver(seed=1).perf_counters("port", "port-0-1", T0) != a


def test_32_bit_counters_wrap_and_rates_stay_exact():
    drv = _driver(counter_bits=32)
    wanted = {"storage_pool": ["read_throughput", "read_bytes_total"]}
    list(drv.collect_perf_metrics(wanted, T0 - 5, T0))
    wrapped = 0
    for step in range(1, 30):
        start, end = T0 + (step - 1) * 3, T0 + step * 3
        samples = _by_key(drv.collect_perf_metrics(wanted, start, end))
        for pool, _ in drv.perf_resources("storage_pool"):
            before, after = drv.perf_counters("storage_pool", pool, start), drv.perf_counters("storage_pool", pool, end)
            assert after["read_bytes"] < 2**32
            delta = after["read_bytes"] - before["read_bytes"]
            if delta < 0:
                wrapped += 1
                delta += 2**32
            assert samples[(pool, "read_throughput")].value == delta / 3
    assert wrapped > 0, "the test must cross at least one wrap"


def test_a_reset_yields_no_rate_for_one_window():
    drv = _driver()
    wanted = {"disk": ["iops", "utilization"]}
    list(drv.collect_perf_metrics(wanted, T0 - 5, T0))
    rebooted = _driver(perf_epoch=int(T0) + 1)  # counters restarted one second after T0
    rebooted.counters.load(drv.counters.state())
    assert list(rebooted.collect_perf_metrics(wanted, T0, T0 + 5)) == []
    samples = _by_key(rebooted.collect_perf_metrics(wanted, T0 + 5, T0 + 10))
    busy = (
        rebooted.perf_counters("disk", "disk-0", T0 + 10)["busy_us"]
        - rebooted.perf_counters("disk", "disk-0", T0 + 5)["busy_us"]
    )
    assert samples[("disk-0", "utilization")].value == busy * 1e-6 / 5
    assert 0 <= samples[("disk-0", "utilization")].value <= 1


def test_every_resource_type_is_collected():
    drv = _driver(controllers=1, ports_per_controller=2, disks=2)
    wanted = {rt: ["write_ops_total"] for rt in models.ResourceType.ALL}
    samples = list(drv.collect_perf_metrics(wanted, T0 - 1, T0))
    by_type = {}
    for s in samples:
        by_type.setdefault(s.resource_type, set()).add(s.resource_id)
    assert by_type == {
        "storage": {drv.serial_number},
        "storage_pool": {"pool-0", "pool-1"},
        "volume": {"vol-0", "vol-1", "vol-2"},
        "controller": {"ctrl-0"},
        "port": {"port-0-0", "port-0-1"},
        "disk": {"disk-0", "disk-1"},
    }


def test_collection_errors_and_bad_options():
    with pytest.raises(sdk_exc.BackendUnreachable):
        list(_driver(perf_error="unreachable").collect_perf_metrics({"volume": ["iops"]}, 0, 1))
    for attrs in ({"counter_bits": 16}, {"counter_bits": 48}, {"perf_min_interval": 0}, {"perf_delay": "x"}):
        with pytest.raises(sdk_exc.InvalidAccessInfo):
            _driver(**attrs)
