"""Performance samples of the ``netapp ontap_rest`` driver, from ONTAP's raw counters.

ONTAP shows, on the cluster, nodes, aggregates, volumes and ports, a ``statistics`` object of
cumulative counters that only grow: ``iops_raw`` (operations), ``throughput_raw`` (bytes) and
``latency_raw`` (microseconds summed over operations), each as ``{read, write, other, total}``,
with the ``timestamp`` (ISO-8601) at which the array read them and a ``status`` (``ok`` when the
values are sound). Rates need two readings: the driver keeps each resource's last reading in its
counter tracker (the service carries it from window to window), and the rate of a window is the
counters' increase over the increase of the array's ``timestamp`` (never the poll's clock).
Rates count read and write operations (``other`` is metadata traffic the standard metrics do not
name). Ethernet ports have byte counters only, so they yield throughputs and byte totals.
"""

import datetime
from collections.abc import Iterable, Iterator

from delfin_like.sdk import exceptions, models, rates

RT = models.ResourceType
# ONTAP counters are 64-bit: a decrease is a reset (a node reboot, a takeover), not a wrap
COUNTER_BITS = 64
IO_METRICS = (
    "iops",
    "read_iops",
    "write_iops",
    "throughput",
    "read_throughput",
    "write_throughput",
    "response_time",
    "read_response_time",
    "write_response_time",
    "read_ops_total",
    "write_ops_total",
    "read_bytes_total",
    "write_bytes_total",
)
# resource type -> the collections whose records carry its counters (the cluster is one record)
COLLECTIONS = {
    RT.STORAGE: ("/api/cluster",),
    RT.STORAGE_POOL: ("/api/storage/aggregates",),
    RT.VOLUME: ("/api/storage/volumes",),
    RT.CONTROLLER: ("/api/cluster/nodes",),
    RT.PORT: ("/api/network/ethernet/ports", "/api/network/fc/ports"),
}
# counter name -> (statistics object, side)
_RAW = {
    "read_ops": ("iops_raw", "read"),
    "write_ops": ("iops_raw", "write"),
    "read_bytes": ("throughput_raw", "read"),
    "write_bytes": ("throughput_raw", "write"),
    "read_latency_us": ("latency_raw", "read"),
    "write_latency_us": ("latency_raw", "write"),
}
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_US = datetime.timedelta(microseconds=1)


def parse_timestamp(text: object, what: str) -> float:
    """Seconds since the epoch of an ISO-8601 time (``2024-05-01T10:00:00.5Z``, ``...+02:00``; UTC if
    no offset), computed from whole microseconds so two readings a whole number of seconds apart
    differ by exactly that number. :raises BackendError: not such a time."""
    try:
        moment = datetime.datetime.fromisoformat(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise exceptions.BackendError(
            f"the array's {what} statistics have a malformed timestamp", detail=f"{what}: {str(text)[:60]!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return ((moment - _EPOCH) // _US) / 1_000_000


def reading(record: dict, what: str) -> tuple[float, dict[str, int]] | None:
    """``(timestamp, counters)`` of a record's ``statistics``; None when it has none or they are not
    sound (``status`` other than ``ok``). Counters absent from the record are left out.

    :raises BackendError: a counter that is not a non-negative integer, or a bad timestamp.
    """
    stats = record.get("statistics")
    if not isinstance(stats, dict) or stats.get("status", "ok") != "ok" or "timestamp" not in stats:
        return None
    counters = {}
    for name, (group, side) in _RAW.items():
        values = stats.get(group)
        value = values.get(side) if isinstance(values, dict) else None
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise exceptions.BackendError(
                f"the array's {what} statistics have a malformed {group}.{side}",
                detail=f"{what} {record.get('uuid')!r}: {group}.{side}={str(value)[:40]!r}",
            )
        counters[name] = value
    if not counters:
        return None
    return parse_timestamp(stats["timestamp"], what), counters


_RW_OPS = ("read_ops", "write_ops")
_RW_LATENCY = ("read_latency_us", "write_latency_us")


def metric_value(metric: str, counters: dict[str, int], d: rates.CounterDeltas | None) -> float | None:
    """One standard metric from the counters now and their deltas since the previous reading.

    :returns: the value, or None when it cannot be told (no previous reading, a reset, a counter
        this resource does not have, no operation in the interval for a response time).
    """
    if metric.endswith("_total"):
        return counters.get(metric[: -len("_total")])
    if d is None:
        return None
    if metric == "iops":
        return d.sum_rate(*_RW_OPS)
    if metric == "throughput":
        return d.sum_rate("read_bytes", "write_bytes")
    if metric in ("read_iops", "write_iops"):
        return d.rate(f"{metric[:-5]}_ops")
    if metric in ("read_throughput", "write_throughput"):
        return d.rate(f"{metric[:-11]}_bytes")
    if metric == "response_time":
        return d.per(_RW_LATENCY, _RW_OPS, 1e-6)
    if metric in ("read_response_time", "write_response_time"):
        side = metric[: -len("_response_time")]
        return d.per((f"{side}_latency_us",), (f"{side}_ops",), 1e-6)
    return None


def samples(
    resource_type: str, records: Iterable[dict], wanted: tuple[str, ...], tracker: rates.CounterTracker
) -> Iterator[models.MetricSample]:
    """The samples of ``records`` (each with ``uuid`` and ``statistics``) for the ``wanted`` metrics.

    Each record's counters go through ``tracker`` under ``"<resource type>:<uuid>"``; a sample's
    timestamp is the array's, its interval the seconds since the previous reading (None for totals).
    """
    what = resource_type.replace("_", " ")
    for record in records:
        uuid = record.get("uuid")
        if not isinstance(uuid, str) or not uuid:
            raise exceptions.BackendError(f"the array's {what} record has no uuid", detail=f"{what}: no uuid")
        got = reading(record, what)
        if got is None:
            continue
        at, counters = got
        deltas = tracker.observe(f"{resource_type}:{uuid}", at, counters, width=COUNTER_BITS)
        name = record.get("name") if isinstance(record.get("name"), str) else None
        for metric in wanted:
            value = metric_value(metric, counters, deltas)
            if value is not None:
                interval = None if metric.endswith("_total") else deltas.seconds
                yield models.MetricSample(resource_type, uuid, metric, value, at, name, interval)
