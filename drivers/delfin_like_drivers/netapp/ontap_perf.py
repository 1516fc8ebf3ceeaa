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

from collections.abc import Iterable, Iterator

from delfin_like.sdk import exceptions, models, rates

RT = models.ResourceType
# ONTAP counters are 64-bit: a decrease is a reset (a node reboot, a takeover), not a wrap
COUNTER_BITS = 64
IO_METRICS = rates.IO_METRICS
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
parse_timestamp = rates.parse_timestamp


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


metric_value = rates.io_metric_value


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
        name = record.get("name") if isinstance(record.get("name"), str) else None
        yield from rates.io_samples(tracker, resource_type, uuid, name, at, counters, wanted, width=COUNTER_BITS)
