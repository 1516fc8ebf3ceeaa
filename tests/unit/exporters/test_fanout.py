"""The exporter fan-out: stevedore loading, and one failing or slow exporter never blocks the others."""

import threading
import time

import pytest

from delfin_like.conf import CONF
from delfin_like.exporters import base, jsonl, log, notification, prometheus
from delfin_like.sdk import models, perf


def make_batch(n=3, part=0, parts=1, end=1_750_000_010.0) -> base.MetricBatch:
    samples = tuple(
        models.MetricSample("volume", f"vol-{i}", "read_iops", 10.0 * i, end, f"v{i}", 10.0) for i in range(n)
    )
    return base.MetricBatch(
        base.batch_id("s1", "volume", round(end * 1e6), part),
        "s1",
        "array",
        "SN1",
        "volume",
        end - 10,
        end,
        samples,
        {"read_iops": perf.STANDARD_METRICS["read_iops"]},
        part,
        parts,
    )


class Recording(base.Exporter):
    def __init__(self):
        self.batches = []

    def export(self, batch):
        self.batches.append(batch)


class Failing(base.Exporter):
    def export(self, batch):
        raise ConnectionError("destination refused the batch")


class Slow(base.Exporter):
    def __init__(self, seconds):
        self.seconds = seconds
        self.released = threading.Event()

    def export(self, batch):
        self.released.wait(self.seconds)


def test_stevedore_loads_the_enabled_exporters_in_order():
    exporters = base.ExporterSet(["log", "jsonl", "prometheus", "notification"])
    try:
        assert exporters.names == ["log", "jsonl", "prometheus", "notification"]
        kinds = [type(w.exporter) for w in exporters._workers.values()]
        assert kinds == [
            log.LogExporter,
            jsonl.JsonlExporter,
            prometheus.PrometheusExporter,
            notification.NotificationExporter,
        ]
    finally:
        exporters.close()


def test_unknown_exporter_is_reported_and_skipped(caplog):
    exporters = base.ExporterSet(["log", "no-such-exporter"])
    assert exporters.names == ["log"]
    assert "no-such-exporter" in caplog.text
    outcome = exporters.export(make_batch(), only=["no-such-exporter"])["no-such-exporter"]
    assert not outcome.ok and outcome.error == "exporter not enabled"


def test_default_config_enables_prometheus_only():
    assert CONF.exporters.enabled == ["prometheus"]
    assert base.ExporterSet().names == ["prometheus"]


def test_a_failing_exporter_does_not_stop_the_others():
    good, other = Recording(), Recording()
    exporters = base.ExporterSet(exporters={"a": good, "bad": Failing(), "b": other})
    batch = make_batch()
    outcomes = exporters.export(batch)
    assert outcomes["a"].ok and outcomes["b"].ok
    assert not outcomes["bad"].ok and "ConnectionError: destination refused" in outcomes["bad"].error
    assert good.batches == [batch] and other.batches == [batch]
    stats = exporters.stats
    assert (stats["a"].batches, stats["a"].samples, stats["a"].failures) == (1, 3, 0)
    assert (stats["bad"].failures, stats["bad"].timeouts) == (1, 0)
    exporters.close()


def test_a_slow_exporter_is_bounded_and_then_skipped_while_busy():
    CONF.set_override("timeout", 0.3, group="exporters")
    slow, good = Slow(30), Recording()
    exporters = base.ExporterSet(exporters={"slow": slow, "good": good})
    try:
        started = time.monotonic()
        outcomes = exporters.export(make_batch())
        assert time.monotonic() - started < 5  # bounded by the timeout, not by the slow exporter
        assert outcomes["good"].ok and not outcomes["slow"].ok
        assert "no answer within 0.3 s" in outcomes["slow"].error
        # the slow call is still in flight: the next batch skips it at once instead of queueing
        started = time.monotonic()
        outcomes = exporters.export(make_batch(end=1_750_000_020.0))
        assert time.monotonic() - started < 0.3
        assert outcomes["slow"].error == "still busy with an earlier batch"
        assert len(good.batches) == 2 and exporters.stats["slow"].timeouts == 2
        slow.released.set()
        deadline = time.monotonic() + 10
        while not exporters.export(make_batch(end=1_750_000_030.0), only=["slow"])["slow"].ok:
            assert time.monotonic() < deadline, "the slow exporter never came back"
            time.sleep(0.05)
    finally:
        slow.released.set()
        exporters.close()


def test_only_limits_the_targets():
    a, b = Recording(), Recording()
    exporters = base.ExporterSet(exporters={"a": a, "b": b})
    assert list(exporters.export(make_batch(), only=["b"])) == ["b"]
    assert (a.batches, len(b.batches)) == ([], 1)


def test_payload_round_trip_and_stable_batch_ids():
    batch = make_batch(part=1, parts=2)
    again = base.MetricBatch.from_payload(base.MetricBatch.to_payload(batch))
    assert again == batch
    assert batch.batch_id == base.batch_id("s1", "volume", 1_750_000_010_000_000, 1)
    assert batch.batch_id != base.batch_id("s1", "volume", 1_750_000_010_000_000, 0)


@pytest.mark.parametrize("metric", ["read_iops", "custom_thing"])
def test_log_exporter_writes_one_line_per_sample(caplog, metric):
    batch = make_batch(2)
    if metric != "read_iops":
        batch = base.MetricBatch(
            batch.batch_id,
            "s1",
            "array",
            "SN1",
            "volume",
            0.0,
            1.0,
            (models.MetricSample("volume", "v", metric, 1.0, 1.0),),
            {},
        )
    caplog.set_level("INFO")
    log.LogExporter().export(batch)
    assert caplog.text.count("sample storage=s1") == len(batch.samples)
