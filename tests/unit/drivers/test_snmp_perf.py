"""``generic snmp`` performance counters -> samples: pure functions on hand-written walk results."""

import pytest

from delfin_like.sdk import exceptions, models, perf, rates
from delfin_like_drivers.generic import snmp_perf as p
from delfin_like_drivers.generic import snmp_tables as t

M32, M64 = 2**32, 2**64
DISK_STORAGE = t.HR_DEVICE_DISK_STORAGE
PROCESSOR = (1, 3, 6, 1, 2, 1, 25, 3, 1, 3)


def diskio(rows: dict[int, dict]) -> p.Table:
    """{index: {"device": name, column number: value}} -> walked diskIOTable."""
    table: p.Table = {}
    for index, cells in rows.items():
        for column, value in cells.items():
            oid = p.DISKIO_DEVICE if column == "device" else p.DISKIO + (column,)
            table.setdefault(oid, {})[(index,)] = value.encode() if column == "device" else value
    return table


def poll(tracker, ticks, at, readings, metrics, resource_type="volume"):
    elapsed = p.elapsed_seconds(tracker, ticks, at)
    return {(s.resource_id, s.metric): s for s in p.samples(tracker, resource_type, metrics, readings, elapsed, at)}


def test_sysuptime_is_the_time_base_and_its_wrap_is_read_as_such():
    tracker = rates.CounterTracker()
    assert p.elapsed_seconds(tracker, 1_000, at=10.0) is None  # the first poll
    assert p.elapsed_seconds(tracker, 4_000, at=11.0) == 30.0  # array time, not the 1 s between polls
    before_wrap = M32 - 250
    assert p.elapsed_seconds(tracker, before_wrap, at=12.0) == (before_wrap - 4_000) / 100
    assert p.elapsed_seconds(tracker, 750, at=13.0) == 10.0  # 250 + 750 ticks across 2**32
    assert p.elapsed_seconds(tracker, 750, at=14.0) is None  # no time passed: no rate
    assert p.elapsed_seconds(tracker, 5_000, at=15.0) == 42.5
    assert p.elapsed_seconds(tracker, 100, at=16.0) is None  # went back: the agent restarted
    assert p.elapsed_seconds(tracker, 700, at=17.0) == 6.0  # and the chain goes on from there
    state = tracker.state()
    assert p.elapsed_seconds(rates.CounterTracker(state), 1_700, at=18.0) == 10.0  # survives the service's round trip


@pytest.mark.parametrize("value", [None, b"123", -1, M32, True])
def test_a_missing_or_bad_sysuptime_is_a_backend_error(value):
    with pytest.raises(exceptions.BackendError, match="sysUpTime"):
        p.uptime_ticks(value)


def test_diskio_rows_are_matched_to_volumes_and_disks_by_name():
    hr_storage = {
        t.HR_STORAGE + (2,): {(1,): t.HR_STORAGE_FIXED_DISK, (2,): t.HR_STORAGE_FIXED_DISK,
                              (3,): t.HR_STORAGE_FIXED_DISK, (4,): t.HR_STORAGE_FIXED_DISK,
                              (5,): (1, 3, 6, 1, 2, 1, 25, 2, 1, 2), (6,): t.HR_STORAGE_FIXED_DISK},
        t.HR_STORAGE + (3,): {(1,): b"/gold", (2,): b"/gold/vol1", (3,): b"/gold/dup", (4,): b"/silver/dup",
                              (5,): b"/ram/vol9", (6,): b"/silver/vol2"},
    }  # fmt: skip
    assert p.volume_ids(hr_storage) == {"vol1": "gold/vol1", "vol2": "silver/vol2"}  # "dup" is ambiguous
    hr_device = {
        t.HR_DEVICE + (2,): {(10,): DISK_STORAGE, (11,): PROCESSOR, (12,): DISK_STORAGE},
        t.HR_DEVICE + (3,): {(10,): b"drive0", (11,): b"cpu0", (12,): b"drive1"},
    }
    assert p.disk_ids(hr_device) == {"drive0": "drive0", "drive1": "drive1"}
    table = diskio({1: {"device": "drive0"}, 2: {"device": "vol1"}, 3: {"device": "dup"}, 4: {"device": "sda"}})
    assert p.diskio_rows(table, p.volume_ids(hr_storage)) == {(2,): ("gold/vol1", "vol1")}
    assert p.diskio_rows(table, p.disk_ids(hr_device)) == {(1,): ("drive0", "drive0")}


def test_port_rows_follow_the_inventory_and_skip_loopbacks():
    if_table = {
        p.IF_TYPE: {(1,): 24, (2,): 56, (3,): 6},
        p.IF_DESCR: {(1,): b"lo", (2,): b"node-1:fc0", (3,): b""},
    }
    ifx = {p.IFX_NAME: {(2,): b"fc0"}}
    assert p.port_rows(if_table, ifx) == {(2,): ("node-1:fc0", "fc0"), (3,): ("if3", "if3")}


def test_the_64_bit_columns_are_preferred_and_the_32_bit_ones_walked_only_for_rows_without_them():
    counters = p.counters_for(["iops", "read_throughput"])
    assert counters == {"read_ops", "write_ops", "read_bytes"}
    preferred = p.preferred_columns(p.DISKIO_COUNTERS, counters)
    assert sorted(preferred) == [p.DISKIO + (5,), p.DISKIO + (6,), p.DISKIO + (12,)]
    full = diskio({1: {5: 1, 6: 2, 12: 3}, 2: {5: 1, 6: 2, 12: 3}})
    assert p.standin_columns(p.DISKIO_COUNTERS, counters, full, [(1,), (2,)]) == []
    partial = diskio({1: {5: 1, 6: 2, 12: 3}, 2: {5: 1, 6: 2}})
    assert p.standin_columns(p.DISKIO_COUNTERS, counters, partial, [(1,), (2,)]) == [p.DISKIO + (3,)]
    # a missing ops cell has nothing to stand in for it: no extra walk
    no_ops = diskio({1: {12: 3}})
    assert p.standin_columns(p.DISKIO_COUNTERS, counters, no_ops, [(1,)]) == []
    assert p.preferred_columns(p.PORT_COUNTERS, {"write_bytes"}) == [t.IFX + (6,)]
    assert p.standin_columns(p.PORT_COUNTERS, {"write_bytes"}, {}, [(7,)]) == [t.IF + (10,)]

    partial.update(diskio({1: {3: 99}, 2: {3: 7}}))
    got = p.readings(partial, {(1,): ("v/1", "1"), (2,): ("v/2", "2")}, counters, p.DISKIO_COUNTERS, "diskIO")
    assert got[0].counters == {"read_ops": (1, 32), "write_ops": (2, 32), "read_bytes": (3, 64)}
    assert got[1].counters == {"read_ops": (1, 32), "write_ops": (2, 32), "read_bytes": (7, 32)}


@pytest.mark.parametrize("cell", [b"12", -5, M32, True])
def test_a_cell_that_is_not_a_counter_of_its_width_is_a_backend_error(cell):
    table = diskio({4: {5: cell}})
    with pytest.raises(exceptions.BackendError, match=r"13\.15\.1\.1\.5 of diskIO row 4 \(vol4\) .*Counter32"):
        p.readings(table, {(4,): ("p/vol4", "vol4")}, {"read_ops"}, p.DISKIO_COUNTERS, "diskIO")


def reading(rid, read_ops, write_ops, read_bytes, write_bytes, byte_width=64):
    counters = {"read_ops": (read_ops, 32), "write_ops": (write_ops, 32)}
    counters.update({"read_bytes": (read_bytes, byte_width), "write_bytes": (write_bytes, byte_width)})
    return p.Reading(rid, rid.split("/")[-1], counters)


def test_rates_are_exact_across_32_and_64_bit_wraps_and_a_reset_gives_none():
    tracker, metrics = rates.CounterTracker(), p.DISKIO_METRICS
    # a: ops close to 2**32, bytes close to 2**64; b: 32-bit byte columns close to 2**32; c: will be reset
    first = [
        reading("p/a", M32 - 100, 5, M64 - 1000, 10),
        reading("p/b", 1, 2, M32 - 10, M32 - 20, byte_width=32),
        reading("p/c", 5_000, 6_000, 7_000, 8_000),
    ]
    got = poll(tracker, 100, 1.0, first, metrics)
    assert {m for _, m in got} == set(p.TOTAL_METRICS)  # the first poll: totals only
    assert got[("p/a", "read_bytes_total")].value == M64 - 1000 and got[("p/a", "read_bytes_total")].interval is None

    second = [
        reading("p/a", 400, 35, 2000, 70),  # read_ops +500 over 2**32, read_bytes +3000 over 2**64
        reading("p/b", 31, 62, 50, 40, byte_width=32),  # bytes +60 each over 2**32
        reading("p/c", 10, 20, 30, 40),  # reset to nearly zero
    ]
    got = poll(tracker, 100 + 2_000, 2.0, second, metrics)  # 20 s of sysUpTime
    seconds = 2_000 / 100
    want_a = {
        "iops": (500 + 30) / seconds, "read_iops": 500 / seconds, "write_iops": 30 / seconds,
        "throughput": (3000 + 60) / seconds, "read_throughput": 3000 / seconds, "write_throughput": 60 / seconds,
    }  # fmt: skip
    assert {m: got[("p/a", m)].value for m in want_a} == want_a
    assert {got[("p/a", m)].interval for m in want_a} == {seconds}
    assert got[("p/b", "throughput")].value == 120 / seconds and got[("p/b", "iops")].value == 90 / seconds
    assert {m for rid, m in got if rid == "p/c"} == set(p.TOTAL_METRICS)  # reset: no rate, totals as read
    assert got[("p/c", "read_ops_total")].value == 10
    assert {s.timestamp for s in got.values()} == {2.0} and got[("p/a", "iops")].resource_name == "a"

    tracker = rates.CounterTracker(tracker.state())  # as the service hands it to the next window's driver
    third = [reading("p/c", 40, 50, 60, 70)]
    got = poll(tracker, 100 + 2_000 + 500, 3.0, third, ["iops", "write_throughput"])
    assert got == {
        ("p/c", "iops"): models.MetricSample("volume", "p/c", "iops", (30 + 30) / 5.0, 3.0, "c", 5.0),
        ("p/c", "write_throughput"): models.MetricSample("volume", "p/c", "write_throughput", 30 / 5.0, 3.0, "c", 5.0),
    }
    assert set(tracker.state()) == {p.UPTIME_KEY, "volume:p/c/ops32", "volume:p/c/bytes64"}  # a and b dropped out


def test_a_counter_that_changes_width_restarts_only_its_own_rates():
    tracker = rates.CounterTracker()
    poll(tracker, 0, 1.0, [reading("p/a", 10, 10, 1_000, 1_000)], ["iops", "read_throughput"])
    # the agent now serves only the 32-bit byte columns: ops keep their chain, bytes start a new one
    got = poll(tracker, 1_000, 2.0, [reading("p/a", 110, 10, 2_000, 1_000, byte_width=32)], ["iops", "read_throughput"])
    assert set(got) == {("p/a", "iops")} and got[("p/a", "iops")].value == 100 / 10.0
    got = poll(tracker, 2_000, 3.0, [reading("p/a", 110, 10, 2_500, 1_000, byte_width=32)], ["read_throughput"])
    assert got[("p/a", "read_throughput")].value == 500 / 10.0


def test_no_rates_when_the_agent_restarted_even_if_counters_grew():
    tracker = rates.CounterTracker()
    poll(tracker, 50_000, 1.0, [reading("p/a", 10, 10, 10, 10)], ["iops"])
    got = poll(tracker, 300, 2.0, [reading("p/a", 20, 20, 20, 20)], ["iops", "read_ops_total"])
    assert set(got) == {("p/a", "read_ops_total")}
    got = poll(tracker, 1_300, 3.0, [reading("p/a", 30, 40, 20, 20)], ["iops"])
    assert got[("p/a", "iops")].value == 30 / 10.0


def test_capabilities_declare_exactly_what_samples_yields():
    caps = p.capabilities()
    parsed = perf.parse(caps)
    assert set(parsed) == {"volume", "disk", "port"} and caps["is_historic"] is False
    full = [reading("r/x", 1, 1, 1, 1)]
    for resource_type, (cap, specs) in parsed.items():
        assert (cap.min_interval, cap.is_historic) == (15, False)
        for name, spec in specs.items():
            standard = perf.STANDARD_METRICS[name]
            assert (spec.unit, spec.type) == (standard.unit, standard.type)
        # everything declared comes out of two polls with every counter present, and nothing else
        tracker = rates.CounterTracker()
        poll(tracker, 0, 1.0, full, cap.metrics, resource_type)
        later = [reading("r/x", 2, 3, 4, 5)]
        assert {m for _, m in poll(tracker, 100, 2.0, later, cap.metrics, resource_type)} == set(cap.metrics)
    assert "iops" not in parsed["port"][1]  # packets are not I/O operations
    assert caps["resource_metrics"]["port"]["read_throughput"]["description"].startswith(
        "Bytes sent to hosts per second (ifHCOutOctets"
    )
    # the port's counters are only bytes
    assert p.counters_for(parsed["port"][0].metrics) == set(p.PORT_COUNTERS)


def test_a_counter32_decrease_beyond_any_plausible_rate_is_a_reset_not_a_wrap():
    tracker = rates.CounterTracker()
    before = 3_000_000_000
    poll(tracker, 0, 1.0, [reading("p/a", before, 0, before, 0, byte_width=32)], ["iops", "read_throughput"])
    # read as a wrap this would be ~1.3e9 more operations (under half of 2**32) in 10 s: 1.3e8 ops/s
    assert M32 - before + 1_000 < M32 // 2 and (M32 - before + 1_000) / 10 > p.MAX_RATE["ops"]
    got = poll(tracker, 1_000, 2.0, [reading("p/a", 1_000, 10, 1_000, 10, byte_width=32)], ["iops", "read_iops"])
    assert set(got) == set()
    got = poll(tracker, 2_000, 3.0, [reading("p/a", 2_000, 10, 1_000, 10, byte_width=32)], ["read_iops"])
    assert got[("p/a", "read_iops")].value == 1_000 / 10.0


def test_a_reset_seen_on_the_64_bit_counters_voids_the_32_bit_rates_too():
    tracker = rates.CounterTracker()
    poll(tracker, 0, 1.0, [reading("p/a", M32 - 100, 7, 10**12, 10**12)], p.DISKIO_METRICS)
    # the operations alone would read as a plain wrap (+150); the bytes went back: the device was reset
    got = poll(tracker, 1_000, 2.0, [reading("p/a", 50, 9, 500, 600)], p.DISKIO_METRICS)
    assert {m for _, m in got} == set(p.TOTAL_METRICS)
