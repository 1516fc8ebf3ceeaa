"""Helpers of the perf tests (unit, functional, e2e): enable collection, fire its schedule, expected values."""

import datetime

from delfin_like.db import api as db_api
from delfin_like.sdk import models
from delfin_like_drivers.fake import driver as fake_driver


def enable(storage_id: str, resource_type: str, interval: int = 5, metrics=None, enabled: bool = True) -> dict:
    return db_api.perf_config_set(
        storage_id,
        {resource_type: {"perf_collection": enabled, "interval": interval, "is_historic": False, "metrics": metrics}},
    )


def fire(storage_id: str, resource_type: str) -> dict:
    """Fire the series' schedule as the scheduler would (whatever its due time); returns the task."""
    horizon = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) + datetime.timedelta(days=3650)
    due = [
        s
        for s in db_api.schedules_due(horizon, limit=10_000)
        if s["storage_id"] == storage_id and s["kind"] == f"perf_{resource_type}"
    ]
    assert due, f"no due perf schedule for {resource_type} of {storage_id}"
    outcome = db_api.schedule_fire(due[0], due[0]["next_run_at"])  # fired at its due time
    assert outcome is not None
    return outcome["task"]


def fake_driver_of(extra_attributes: dict, host: str, port: int) -> fake_driver.FakeStorageDriver:
    """The fake driver a storage registered with these attributes and endpoint runs."""
    return fake_driver.FakeStorageDriver(
        models.AccessInfo(
            vendor="fake_storage",
            model="fake_driver",
            extra_attributes=extra_attributes,
            rest=models.AccessEndpoint(host=host, port=port, username="admin", password="x"),
        )
    )


def expected_values(drv, resource_type: str, start_us: int, end_us: int, first: bool = False, totals_as=float) -> dict:
    """``{(resource_id, metric): value}`` the window (start, end] must yield, computed from the counters.

    The same float operations as the driver (division by the window's seconds), so equality is exact.
    Totals are doubles as Prometheus holds them (``totals_as=int``: exact, as notifications carry them).
    """
    start, end = start_us / 1_000_000, end_us / 1_000_000
    seconds = end - start
    out = {}
    for rid, _ in drv.perf_resources(resource_type):
        after = drv.perf_counters(resource_type, rid, end)
        for name in ("read_ops", "write_ops", "read_bytes", "write_bytes"):
            out[(rid, f"{name}_total")] = totals_as(after[name])
        if first:
            continue
        before = drv.perf_counters(resource_type, rid, start)
        d = {k: after[k] - before[k] for k in after}
        ops = d["read_ops"] + d["write_ops"]
        out.update(
            {
                (rid, "iops"): ops / seconds,
                (rid, "read_iops"): d["read_ops"] / seconds,
                (rid, "write_iops"): d["write_ops"] / seconds,
                (rid, "throughput"): (d["read_bytes"] + d["write_bytes"]) / seconds,
                (rid, "read_throughput"): d["read_bytes"] / seconds,
                (rid, "write_throughput"): d["write_bytes"] / seconds,
                (rid, "response_time"): (d["read_latency_us"] + d["write_latency_us"]) * 1e-6 / ops,
                (rid, "read_response_time"): d["read_latency_us"] * 1e-6 / d["read_ops"],
                (rid, "write_response_time"): d["write_latency_us"] * 1e-6 / d["write_ops"],
            }
        )
        if resource_type in ("controller", "disk"):
            out[(rid, "utilization")] = d["busy_us"] * 1e-6 / seconds
    return out


def latest(storage_id: str, resource_type: str) -> dict:
    """``{(resource_id, metric): value}`` of the prometheus exporter's rows of a series."""
    return {(r[7], r[0]): r[9] for r in db_api.metric_latest_rows() if r[3] == storage_id and r[6] == resource_type}
