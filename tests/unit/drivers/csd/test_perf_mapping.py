"""The csd nvme driver's perf mapping without an agent: SMART I/O counters -> standard counters,
disk and node readings, samples and rates; the agent's growing fixture counters."""

import json
import pathlib

import pytest

from delfin_like.sdk import exceptions, models, rates
from delfin_like_drivers.csd import driver as csd_driver
from delfin_like_drivers.csd import nvme_source
from delfin_like_drivers.csd.grpc_api import pb, set_time

FIXTURES = pathlib.Path(nvme_source.FIXTURES_DIR)
BIG = 2**100 + 7  # a 128-bit counter beyond 64 bits: must stay exact


def _counters(controller, nqn, at, dur="0", duw="0", hrc="0", hwc="0", busy="0"):
    msg = pb.IoCounters(
        controller=controller,
        subsystem_nqn=nqn,
        data_units_read=dur,
        data_units_written=duw,
        host_read_commands=hrc,
        host_write_commands=hwc,
        controller_busy_time=busy,
    )
    set_time(msg.read_at, at)
    return msg


def _subsystems():
    return [
        pb.Subsystem(nqn="nqn.a", serial_number="SN-A", controllers=["nvme0", "nvme2"]),
        pb.Subsystem(nqn="nqn.b", serial_number="", controllers=["nvme1"]),
        pb.Subsystem(nqn="nqn.c", serial_number="SN-C", controllers=[]),
    ]


def test_io_counters_map_to_standard_names_exactly():
    msg = _counters("nvme0", "nqn.a", 100.0, dur=str(BIG), duw="3", hrc=str(BIG + 1), hwc="", busy="2")
    assert csd_driver.io_counters(msg) == {
        "read_ops": BIG + 1,
        "write_ops": 0,
        "read_bytes": BIG * 512_000,
        "write_bytes": 3 * 512_000,
        "busy_us": 120_000_000,
    }


def test_disk_and_node_readings():
    counters = [
        _counters("nvme0", "nqn.a", 100.0, dur="10", duw="1", hrc="40", hwc="20", busy="1"),
        _counters("nvme2", "nqn.a", 100.0, dur="999", hrc="999"),  # second controller: not the disk's
        _counters("nvme1", "nqn.b", 101.0, dur="5", duw="2", hrc="7", hwc="3"),
    ]
    disks = csd_driver.disk_readings(_subsystems(), counters)
    assert [(d.resource_id, d.name, d.at) for d in disks] == [("SN-A", "nvme0", 100.0), ("nqn.b", "nvme1", 101.0)]
    assert disks[0].counters["read_ops"] == 40 and disks[1].counters["read_bytes"] == 5 * 512_000
    node = csd_driver.node_reading("node-id", "node", disks)
    assert (node.resource_id, node.name, node.at) == ("node-id", "node", 101.0)
    assert node.counters == {
        "read_ops": 47,
        "write_ops": 23,
        "read_bytes": 15 * 512_000,
        "write_bytes": 3 * 512_000,
        "busy_us": 60_000_000,
    }


def _samples(tracker, reading, metrics=csd_driver.PERF_METRICS["disk"]):
    return {s.metric: s for s in csd_driver.reading_samples(tracker, "disk", reading, metrics)}


def test_first_reading_gives_totals_then_exact_rates_then_a_reset_gives_none():
    tracker = rates.CounterTracker()
    first = csd_driver.IoReading("SN-A", "nvme0", 1000.0, {"read_ops": BIG, "write_ops": 10, "read_bytes": 512_000,
                                                          "write_bytes": 0, "busy_us": 0})  # fmt: skip
    got = _samples(tracker, first)
    assert set(got) == {"read_ops_total", "write_ops_total", "read_bytes_total", "write_bytes_total"}
    assert got["read_ops_total"].value == BIG and got["read_ops_total"].interval is None
    assert got["read_ops_total"].timestamp == 1000.0 and got["read_ops_total"].resource_name == "nvme0"

    later = {"read_ops": BIG + 700, "write_ops": 45, "read_bytes": 3 * 512_000, "write_bytes": 512_000,
             "busy_us": 60_000_000}  # fmt: skip
    got = _samples(tracker, csd_driver.IoReading("SN-A", "nvme0", 1007.0, later))
    assert got["read_iops"].value == 700 / 7.0 and got["write_iops"].value == 35 / 7.0
    assert got["iops"].value == 735 / 7.0
    assert got["read_throughput"].value == 2 * 512_000 / 7.0
    assert got["throughput"].value == 3 * 512_000 / 7.0
    assert got["utilization"].value == 60_000_000 * 1e-6 / 7.0
    assert got["iops"].interval == 7.0 and got["iops"].timestamp == 1007.0
    assert got["read_ops_total"].value == BIG + 700
    # 128-bit counters never wrap: a decrease is a reset (a new device, a cleared log): totals only
    reset = dict(later, read_ops=5)
    got = _samples(tracker, csd_driver.IoReading("SN-A", "nvme0", 1010.0, reset))
    assert "read_iops" not in got and "iops" not in got and got["read_ops_total"].value == 5
    assert got["write_iops"].value == 0.0  # the other counters still have their rate
    assert tracker.state()["disk:SN-A"] == [1010.0, reset]


def test_capabilities_declare_what_is_collected():
    caps = csd_driver.CsdNvmeDriver.get_capabilities(None)
    assert set(caps["resource_metrics"]) == {"disk", "storage"}
    disk, storage = caps["resource_metrics"]["disk"], caps["resource_metrics"]["storage"]
    assert set(disk) == {
        "iops", "read_iops", "write_iops", "throughput", "read_throughput", "write_throughput", "utilization",
        "read_ops_total", "write_ops_total", "read_bytes_total", "write_bytes_total",
    }  # fmt: skip
    assert set(storage) == set(disk) - {"utilization"}
    assert not [m for m in disk if "response_time" in m]
    assert disk["utilization"] == {
        "unit": "ratio",
        "type": "gauge",
        "description": "Share of the interval the controller was busy (SMART, minute resolution)",
    }
    assert caps["collection"]["disk"] == {"min_interval": 60, "is_historic": False}
    assert caps["jobs"] == {"command": True, "image": False}


def test_volumes_have_no_counters():
    drv = csd_driver.CsdNvmeDriver(
        models.AccessInfo(
            vendor="csd", model="nvme", rest=models.AccessEndpoint(host="127.0.0.1", port=1, username="u", password="p")
        )
    )
    try:
        with pytest.raises(exceptions.NotSupported):
            drv.collect_perf_metrics({"volume": ["iops"]}, 0.0, 60.0)
    finally:
        drv.close()


class _Clock:
    def __init__(self):
        self.now = 500.25

    def __call__(self):
        return self.now


def test_fixture_counters_grow_per_whole_second_of_the_agent_clock():
    clock = _Clock()
    source = nvme_source.FixtureSource(str(FIXTURES), io_rate=3, clock=clock)
    reader = nvme_source.NvmeReader(source)
    start_at, elapsed = reader.reading_time()
    assert elapsed == 0 and start_at == int(start_at)
    raw = {c: json.loads((FIXTURES / f"{c}-smart-log.json").read_text()) for c in ("nvme0", "nvme1")}
    clock.now += 61.9  # 61 whole seconds
    at, elapsed = reader.reading_time()
    assert (elapsed, at - start_at) == (61, 61.0)
    for controller, factor in (("nvme0", 1), ("nvme1", 2)):
        smart = reader.smart_log(controller, elapsed=elapsed)
        raw_c = raw[controller]
        assert smart.host_read_commands == raw_c["host_read_commands"] + 4 * 3 * factor * 61
        assert smart.host_write_commands == raw_c["host_write_commands"] + 2 * 3 * factor * 61
        assert smart.data_units_read == raw_c["data_units_read"] + 2 * 3 * factor * 61
        assert smart.data_units_written == raw_c["data_units_written"] + 3 * factor * 61
        assert smart.controller_busy_time == raw_c["controller_busy_time"] + 1
        assert smart.power_on_hours == raw_c["power_on_hours"]  # only the I/O counters move
    # without a rate nothing moves
    still = nvme_source.NvmeReader(nvme_source.FixtureSource(str(FIXTURES)))
    assert still.smart_log("nvme0").host_read_commands == raw["nvme0"]["host_read_commands"]
    with pytest.raises(nvme_source.NvmeUnavailable):
        nvme_source.make_source(None, io_rate=1)
    with pytest.raises(nvme_source.NvmeUnavailable):
        nvme_source.FixtureSource(str(FIXTURES), io_rate=-1)
