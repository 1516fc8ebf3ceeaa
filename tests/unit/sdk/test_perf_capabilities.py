"""delfin_like.sdk.perf: the capability declaration drivers return, and reading it back."""

import pytest

from delfin_like.sdk import driver, exceptions, models, perf


def test_capabilities_keep_delfins_shape_and_add_collection():
    caps = perf.capabilities(
        {
            "volume": perf.ResourceCapability(("iops", "read_bytes_total"), 10),
            "storage": perf.ResourceCapability(("throughput",), 60, is_historic=True),
        }
    )
    assert caps["is_historic"] is True
    assert caps["resource_metrics"]["volume"]["iops"] == {
        "unit": "ops/s",
        "type": "gauge",
        "description": "Read and write operations per second",
    }
    assert caps["resource_metrics"]["volume"]["read_bytes_total"]["type"] == "counter"
    assert caps["collection"] == {
        "volume": {"min_interval": 10, "is_historic": False},
        "storage": {"min_interval": 60, "is_historic": True},
    }


@pytest.mark.parametrize(
    "resources, custom",
    [
        ({"lun": perf.ResourceCapability(("iops",), 10)}, ()),
        ({"volume": perf.ResourceCapability(("iops",), 0)}, ()),
        ({"volume": perf.ResourceCapability(("speed",), 10)}, ()),
        ({"volume": perf.ResourceCapability((), 10)}, ()),
        ({}, (perf.MetricSpec("Bad-Name", "s", "gauge", "x"),)),
        ({}, (perf.MetricSpec("temp", "celsius", "gauge", "x"),)),
        ({}, (perf.MetricSpec("errors", "ops", "counter", "x"),)),
    ],
)
def test_invalid_declarations_are_refused(resources, custom):
    with pytest.raises(perf.InvalidCapabilities):
        perf.capabilities(resources, custom)


def test_custom_metrics_and_parse_round_trip():
    custom = perf.MetricSpec("errors_total", perf.Unit.OPS, perf.MetricType.COUNTER, "I/O errors")
    caps = perf.capabilities({"port": perf.ResourceCapability(("errors_total", "iops"), 5)}, [custom])
    parsed = perf.parse(caps)
    cap, specs = parsed["port"]
    assert cap == perf.ResourceCapability(("errors_total", "iops"), 5, False)
    assert specs["errors_total"] == custom
    assert specs["iops"] == perf.STANDARD_METRICS["iops"]


def test_parse_tolerates_delfin_style_declarations():
    parsed = perf.parse(
        {
            "is_historic": True,
            "resource_metrics": {"storage": {"iops": {"unit": "IOPS"}, "vendorThing": {}}, "storagePool": {"iops": {}}},
        }
    )
    assert list(parsed) == ["storage"]  # Delfin's camelCase types are not ours
    cap, specs = parsed["storage"]
    assert cap.min_interval == perf.DEFAULT_MIN_INTERVAL and cap.is_historic is True
    assert specs["iops"].unit == "IOPS" and specs["vendorThing"].type == "gauge"
    assert perf.parse(None) == {} and perf.parse({"resource_metrics": {}}) == {}


def test_the_default_driver_collects_nothing_honestly():
    class Minimal(driver.StorageDriver):
        def get_storage(self):
            return models.Storage(name="s", vendor="v", model="m", serial_number="1")

        def list_storage_pools(self):
            return []

        def list_volumes(self):
            return []

    drv = Minimal(models.AccessInfo(vendor="v", model="m"))
    assert drv.get_capabilities() == {"is_historic": False, "resource_metrics": {}}
    with pytest.raises(exceptions.NotSupported):
        list(drv.collect_perf_metrics({"volume": ["iops"]}, 0.0, 1.0))
    assert drv.counters is drv.counters  # one tracker per driver


def test_metric_samples_are_frozen():
    sample = models.MetricSample("volume", "v1", "iops", 1.5, 100.0, "vol", 10.0)
    with pytest.raises(AttributeError):
        sample.value = 2
