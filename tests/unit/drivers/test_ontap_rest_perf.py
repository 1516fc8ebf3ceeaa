"""``netapp ontap_rest`` performance pieces: statistics parsing, counters to samples, capabilities."""

import pytest

from delfin_like.sdk import exceptions, models, rates
from delfin_like_drivers.netapp import ontap_perf
from delfin_like_drivers.netapp.ontap_rest import OntapRestDriver


def _stats(at: str, ops=(10, 20), bytes_=(4096, 8192), latency=(1000, 4000), status="ok") -> dict:
    def trio(read, write):
        return {"read": read, "write": write, "other": 7, "total": read + write + 7}

    stats = {"timestamp": at, "status": status, "throughput_raw": trio(*bytes_)}
    if ops is not None:
        stats["iops_raw"] = trio(*ops)
        stats["latency_raw"] = trio(*latency)
    return stats


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-05-01T10:00:00Z", 1714557600.0),
        ("2024-05-01T12:00:00+02:00", 1714557600.0),
        ("2024-05-01T10:00:00", 1714557600.0),  # no offset: UTC
        ("2024-05-01T10:00:00.250000Z", 1714557600.25),
    ],
)
def test_timestamps_are_read_in_utc(text, expected):
    assert ontap_perf.parse_timestamp(text, "volume") == expected


def test_readings_a_whole_number_of_seconds_apart_differ_by_exactly_that():
    a = ontap_perf.parse_timestamp("2026-11-24T09:43:36.725844Z", "volume")
    b = ontap_perf.parse_timestamp("2026-11-24T09:44:06.725844Z", "volume")
    assert b - a == 30.0


@pytest.mark.parametrize("text", [None, 17, "yesterday", "2024-13-01T00:00:00Z", ""])
def test_a_malformed_timestamp_is_a_backend_error(text):
    with pytest.raises(exceptions.BackendError, match="malformed timestamp"):
        ontap_perf.parse_timestamp(text, "volume")


def test_reading_takes_read_and_write_of_each_raw_counter():
    at, counters = ontap_perf.reading({"uuid": "u", "statistics": _stats("2024-05-01T10:00:00Z")}, "volume")
    assert at == 1714557600.0
    assert counters == {
        "read_ops": 10,
        "write_ops": 20,
        "read_bytes": 4096,
        "write_bytes": 8192,
        "read_latency_us": 1000,
        "write_latency_us": 4000,
    }


def test_an_ethernet_port_has_byte_counters_only():
    _, counters = ontap_perf.reading({"uuid": "u", "statistics": _stats("2024-05-01T10:00:00Z", ops=None)}, "port")
    assert counters == {"read_bytes": 4096, "write_bytes": 8192}


@pytest.mark.parametrize(
    "record",
    [
        {"uuid": "u"},
        {"uuid": "u", "statistics": None},
        {"uuid": "u", "statistics": _stats("2024-05-01T10:00:00Z", status="partial_no_data")},
        {"uuid": "u", "statistics": {"timestamp": "2024-05-01T10:00:00Z", "status": "ok"}},
        {"uuid": "u", "statistics": {"status": "ok", "iops_raw": {"read": 1, "write": 2}}},
    ],
)
def test_records_without_sound_statistics_give_no_reading(record):
    assert ontap_perf.reading(record, "volume") is None


@pytest.mark.parametrize("bad", [-1, "12", 1.5, True])
def test_a_malformed_counter_is_a_backend_error(bad):
    stats = _stats("2024-05-01T10:00:00Z")
    stats["iops_raw"]["write"] = bad
    with pytest.raises(exceptions.BackendError, match="iops_raw.write"):
        ontap_perf.reading({"uuid": "u", "statistics": stats}, "volume")


def _collect(tracker, *records, wanted=ontap_perf.IO_METRICS, rt="volume"):
    return {(s.resource_id, s.metric): s for s in ontap_perf.samples(rt, records, wanted, tracker)}


def test_first_reading_gives_totals_then_rates_over_the_arrays_time():
    tracker = rates.CounterTracker()
    first = _collect(tracker, {"uuid": "v1", "name": "vol1", "statistics": _stats("2024-05-01T10:00:00Z")})
    assert {m for _, m in first} == {"read_ops_total", "write_ops_total", "read_bytes_total", "write_bytes_total"}
    assert first[("v1", "read_ops_total")] == models.MetricSample(
        "volume", "v1", "read_ops_total", 10, 1714557600.0, "vol1", None
    )
    later = _stats("2024-05-01T10:00:20Z", ops=(50, 100), bytes_=(4096 + 2048, 8192 + 20480), latency=(9000, 8000))
    second = _collect(tracker, {"uuid": "v1", "statistics": later})
    values = {m: s.value for (_, m), s in second.items()}
    assert values == {
        "iops": 120 / 20,
        "read_iops": 40 / 20,
        "write_iops": 80 / 20,
        "throughput": (2048 + 20480) / 20,
        "read_throughput": 2048 / 20,
        "write_throughput": 20480 / 20,
        "response_time": (8000 + 4000) * 1e-6 / 120,
        "read_response_time": 8000 * 1e-6 / 40,
        "write_response_time": 4000 * 1e-6 / 80,
        "read_ops_total": 50,
        "write_ops_total": 100,
        "read_bytes_total": 6144,
        "write_bytes_total": 28672,
    }
    assert second[("v1", "iops")].interval == 20.0 and second[("v1", "iops")].timestamp == 1714557620.0
    assert second[("v1", "iops")].resource_name is None  # a record without a name: no name label


def test_a_reset_counter_gives_no_rate_that_window_and_a_right_one_after():
    tracker = rates.CounterTracker()
    _collect(tracker, {"uuid": "v1", "statistics": _stats("2024-05-01T10:00:00Z", ops=(1000, 1000))})
    reset = _collect(tracker, {"uuid": "v1", "statistics": _stats("2024-05-01T10:00:10Z", ops=(5, 1500))})
    assert ("v1", "read_iops") not in reset and ("v1", "iops") not in reset
    assert reset[("v1", "write_iops")].value == 50.0  # the counters that did not go down still tell
    after = _collect(tracker, {"uuid": "v1", "statistics": _stats("2024-05-01T10:00:20Z", ops=(105, 1600))})
    assert after[("v1", "read_iops")].value == 10.0


def test_an_ethernet_port_yields_byte_metrics_only():
    tracker = rates.CounterTracker()
    for at, b in (("2024-05-01T10:00:00Z", (0, 0)), ("2024-05-01T10:00:10Z", (100, 300))):
        got = _collect(tracker, {"uuid": "p", "statistics": _stats(at, ops=None, bytes_=b)}, rt="port")
    assert {m: s.value for (_, m), s in got.items()} == {
        "throughput": 40.0,
        "read_throughput": 10.0,
        "write_throughput": 30.0,
        "read_bytes_total": 100,
        "write_bytes_total": 300,
    }


def test_a_record_without_uuid_is_a_backend_error():
    with pytest.raises(exceptions.BackendError, match="no uuid"):
        _collect(rates.CounterTracker(), {"name": "x", "statistics": _stats("2024-05-01T10:00:00Z")})


def _driver():
    rest = models.AccessEndpoint(host="array1", port=443, username="admin", password="pw", extra={"verify": False})
    return OntapRestDriver(models.AccessInfo(vendor="netapp", model="ontap_rest", rest=rest))


def test_capabilities_declare_exactly_what_is_collected():
    caps = _driver().get_capabilities()
    assert (
        set(caps["resource_metrics"])
        == set(ontap_perf.COLLECTIONS)
        == {
            "storage",
            "storage_pool",
            "volume",
            "controller",
            "port",
        }
    )
    for metrics in caps["resource_metrics"].values():
        assert tuple(metrics) == ontap_perf.IO_METRICS
    assert caps["is_historic"] is False
    assert {c["min_interval"] for c in caps["collection"].values()} == {15}


def test_disks_have_no_counters():
    drv = _driver()
    with pytest.raises(exceptions.NotSupported):
        list(drv.collect_perf_metrics({"disk": ["iops"]}, 0, 1))
