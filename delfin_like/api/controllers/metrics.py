"""``GET /metrics``: every storage's latest performance samples in the Prometheus text format.

The ``prometheus`` exporter of the task managers writes the latest sample per
series into the database (see :mod:`delfin_like.exporters.prometheus` for why);
this controller renders them with a custom ``prometheus_client`` collector, so
any API process answers for the whole platform. One family per metric and
unit: ``delfin_like_<metric>`` plus the unit (``_bytes_per_second``,
``_seconds``, ``_ratio``, ``_bytes``); rates and averages are gauges, raw
totals counters (``..._total``). Labels: storage_id, storage_name,
serial_number, resource_type, resource_id, resource_name. The collection's
own health is there too: ``delfin_like_perf_last_window_end_timestamp_seconds``,
``delfin_like_perf_gaps_total``, ``delfin_like_perf_gap_seconds_total``,
``delfin_like_perf_consecutive_failures`` and ``delfin_like_perf_pending_batches``.
The alert outbox too: ``delfin_like_alert_deliveries_pending{exporter}`` (deliveries not yet taken)
and ``delfin_like_alert_deliveries_retrying{exporter}`` (those that failed at least once), 0 for an
enabled exporter with nothing queued.
Alerts (issue 14): ``delfin_like_alerts_open`` per storage (storage_id, storage_name,
serial_number) and severity, 0 for the severities a storage has no open alert of.
A process may add its own families (:func:`register_local`): the all-in-one adds its trap
receiver's counters (``delfin_like_trap_*_total``).
"""

import re

import pecan
import webob
from prometheus_client import exposition
from prometheus_client.core import CollectorRegistry, CounterMetricFamily, GaugeMetricFamily

from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.sdk import perf

PREFIX = "delfin_like_"
LABELS = ("storage_id", "storage_name", "serial_number", "resource_type", "resource_id", "resource_name")
SERIES_LABELS = ("storage_id", "storage_name", "serial_number", "resource_type")
_UNIT_SUFFIX = {
    perf.Unit.BYTES_PER_SECOND: "_bytes_per_second",
    perf.Unit.SECONDS: "_seconds",
    perf.Unit.RATIO: "_ratio",
    perf.Unit.BYTES: "_bytes",
}
_INVALID = re.compile(r"[^a-zA-Z0-9_]")


def family_name(metric: str, unit: str, metric_type: str) -> str:
    """The Prometheus name of a metric, unit suffix included (a counter's ``_total`` is added on output)."""
    base = _INVALID.sub("_", metric)
    if metric_type == perf.MetricType.COUNTER and base.endswith("_total"):
        base = base[: -len("_total")]
    suffix = _UNIT_SUFFIX.get(unit, "")
    if suffix and not base.endswith(suffix):
        base += suffix
    return PREFIX + base


def _help(metric: str, unit: str) -> str:
    spec = perf.STANDARD_METRICS.get(metric)
    text = spec.description if spec else metric.replace("_", " ")
    return f"{text} ({unit})" if unit else text


class LatestSamplesCollector:
    """A ``prometheus_client`` collector over ``db.api.metric_latest_rows``; reads at every scrape."""

    def collect(self):
        families = {}
        for metric, unit, mtype, *labels, value in db_api.metric_latest_rows():
            name = family_name(metric, unit, mtype)
            family = families.get(name)
            if family is None:
                cls = CounterMetricFamily if mtype == perf.MetricType.COUNTER else GaugeMetricFamily
                family = families[name] = cls(name, _help(metric, unit), labels=LABELS)
            family.add_metric([v or "" for v in labels], value)
        yield from families.values()
        yield from self._collection_health()
        yield from self._alert_outbox()
        yield self._open_alerts()

    @staticmethod
    def _alert_outbox():
        pending = GaugeMetricFamily(
            PREFIX + "alert_deliveries_pending", "Alert deliveries queued and not yet taken by the exporter",
            labels=("exporter",))
        retrying = GaugeMetricFamily(
            PREFIX + "alert_deliveries_retrying", "Queued alert deliveries that failed at least once",
            labels=("exporter",))
        backlog = db_api.alert_deliveries_backlog()
        for name in sorted({*CONF.alert_exporters.enabled, *backlog}):
            counts = backlog.get(name, {})
            pending.add_metric([name], counts.get("pending", 0))
            retrying.add_metric([name], counts.get("retrying", 0))
        yield from (pending, retrying)

    @staticmethod
    def _open_alerts():
        family = GaugeMetricFamily(PREFIX + "alerts_open", "Open alerts of the storage by severity",
                                   labels=("storage_id", "storage_name", "serial_number", "severity"))
        for row in db_api.alerts_open_counts():
            family.add_metric([row["storage_id"], row["storage_name"] or "", row["serial_number"] or "",
                               row["severity"]], row["open"])
        return family

    @staticmethod
    def _collection_health():
        last = GaugeMetricFamily(
            PREFIX + "perf_last_window_end_timestamp_seconds",
            "End of the last collected window (seconds since the epoch)",
            labels=SERIES_LABELS,
        )
        gaps = CounterMetricFamily(
            PREFIX + "perf_gaps", "Stretches of time given up without samples", labels=SERIES_LABELS
        )
        gap_seconds = CounterMetricFamily(
            PREFIX + "perf_gap_seconds", "Seconds given up without samples", labels=SERIES_LABELS
        )
        failures = GaugeMetricFamily(
            PREFIX + "perf_consecutive_failures", "Windows that failed since the last success", labels=SERIES_LABELS
        )
        pending = GaugeMetricFamily(
            PREFIX + "perf_pending_batches", "Batches not yet delivered to every exporter", labels=SERIES_LABELS
        )
        for row in db_api.perf_collection_states():
            labels = [row["storage_id"], row["storage_name"] or "", row["serial_number"] or "", row["resource_type"]]
            if row["last_end_us"] is not None:
                last.add_metric(labels, row["last_end_us"] / 1_000_000)
            gaps.add_metric(labels, row["gaps"])
            gap_seconds.add_metric(labels, row["gap_us"] / 1_000_000)
            failures.add_metric(labels, row["failures"])
            pending.add_metric(labels, row["pending_batches"])
        yield from (last, gaps, gap_seconds, failures, pending)


# in-process families, e.g. the all-in-one's trap receiver counters: name -> () -> iterable of families
_LOCAL_SOURCES: dict = {}


def register_local(name: str, families) -> None:
    """Add ``families()`` (prometheus_client families) to this process's /metrics; ``None`` removes it."""
    if families is None:
        _LOCAL_SOURCES.pop(name, None)
    else:
        _LOCAL_SOURCES[name] = families


class _LocalCollector:
    def collect(self):
        for families in list(_LOCAL_SOURCES.values()):
            yield from families()


def render() -> bytes:
    """The whole exposition, as bytes in ``exposition.CONTENT_TYPE_LATEST``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LatestSamplesCollector())
    if _LOCAL_SOURCES:
        registry.register(_LocalCollector())
    return exposition.generate_latest(registry)


class MetricsController:
    """``/metrics``."""

    @pecan.expose(generic=True)
    def index(self):
        pecan.abort(405)

    @index.when(method="GET")
    def index_get(self):
        """-> 200 text/plain (Prometheus text format 0.0.4); 503 JSON when the database is down."""
        response = webob.Response(body=render())
        # set as a header: pecan would replace a content_type attribute with its template's
        response.headers["Content-Type"] = exposition.CONTENT_TYPE_PLAIN_0_0_4
        return response
