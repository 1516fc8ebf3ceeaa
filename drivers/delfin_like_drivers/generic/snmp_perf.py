"""Performance counters of the standard MIBs, as walked, turned into samples: pure functions, no I/O.

What is read (numeric OIDs; the mapping is described in :mod:`delfin_like_drivers.generic.snmp`):

* UCD-DISKIO-MIB diskIOTable (``1.3.6.1.4.1.2021.13.15.1.1``): diskIODevice (2) names the row;
  diskIOReads (5) and diskIOWrites (6) are Counter32 operation counts; diskIONReadX (12) and
  diskIONWrittenX (13) are Counter64 byte counts, and where a row lacks them the Counter32
  diskIONRead (3) / diskIONWritten (4) stand in.
* IF-MIB ifXTable ifHCInOctets (6) / ifHCOutOctets (10), Counter64; where a row lacks them,
  ifTable ifInOctets (10) / ifOutOctets (16), Counter32. In = written by hosts, out = read by them.
* SNMPv2-MIB sysUpTime (``1.3.6.1.2.1.1.3.0``): TimeTicks (hundredths of a second, wrapping at
  2**32), the time base of every rate, so rates are over the array's time, not the poll's.

Rates come from :class:`~delfin_like.sdk.rates.CounterTracker`: the counters of one resource are
observed in groups by kind (operations, bytes) and width (32 or 64 bits wrap at their own
modulus), and the deltas are divided by the sysUpTime seconds between the two readings. A
decrease is a wrap only if the wrapped growth is plausible: at most half the counter's range
and at most :data:`MAX_RATE` per second of sysUpTime; otherwise it is a reset. A reset of any
counter of a resource voids all its rates of that poll (a device resets its counters together;
that catches a reset a Counter32 alone would read as a wrap).
"""

import dataclasses
import math
from collections.abc import Iterable, Iterator

from delfin_like.sdk import exceptions, models, perf, rates
from delfin_like_drivers.generic import snmp_tables as tables

Oid = tuple[int, ...]
Table = dict[Oid, dict[Oid, object]]

SYS_UPTIME = tables.SYS + (3, 0)
TICKS_PER_SECOND = 100
TICKS_WIDTH = 32
UPTIME_KEY = "agent:sysUpTime"  # the tracker entry of the time base

DISKIO = (1, 3, 6, 1, 4, 1, 2021, 13, 15, 1, 1)
DISKIO_DEVICE = DISKIO + (2,)
# counter -> (column, width): the preferred column first, then the one that stands in for it
DISKIO_COUNTERS = {
    "read_ops": ((DISKIO + (5,), 32),),  # diskIOReads
    "write_ops": ((DISKIO + (6,), 32),),  # diskIOWrites
    "read_bytes": ((DISKIO + (12,), 64), (DISKIO + (3,), 32)),  # diskIONReadX, diskIONRead
    "write_bytes": ((DISKIO + (13,), 64), (DISKIO + (4,), 32)),  # diskIONWrittenX, diskIONWritten
}
IF_DESCR, IF_TYPE = tables.IF + (2,), tables.IF + (3,)
IFX_NAME = tables.IFX + (1,)
PORT_COUNTERS = {
    "read_bytes": ((tables.IFX + (10,), 64), (tables.IF + (16,), 32)),  # ifHCOutOctets, ifOutOctets
    "write_bytes": ((tables.IFX + (6,), 64), (tables.IF + (10,), 32)),  # ifHCInOctets, ifInOctets
}
_SOFTWARE_LOOPBACK = 24
# the most a counter can plausibly grow per second (a decrease needing more is a reset, not a wrap):
# far above any one device or port, far below what makes a reset of a Counter32 look like a wrap
MAX_RATE = {"ops": 10**7, "bytes": 10**11}

# metric -> the counters whose deltas (summed) over the seconds give it
RATE_METRICS = {
    "iops": ("read_ops", "write_ops"),
    "read_iops": ("read_ops",),
    "write_iops": ("write_ops",),
    "throughput": ("read_bytes", "write_bytes"),
    "read_throughput": ("read_bytes",),
    "write_throughput": ("write_bytes",),
}
# metric -> the counter it reports raw
TOTAL_METRICS = {f"{name}_total": name for name in ("read_ops", "write_ops", "read_bytes", "write_bytes")}
DISKIO_METRICS = tuple(RATE_METRICS) + tuple(TOTAL_METRICS)
PORT_METRICS = ("throughput", "read_throughput", "write_throughput", "read_bytes_total", "write_bytes_total")


@dataclasses.dataclass(frozen=True)
class Reading:
    """One resource's counters as read: ``{counter: (value, width in bits)}``."""

    resource_id: str
    name: str
    counters: dict[str, tuple[int, int]]


def counters_for(metrics: Iterable[str]) -> set[str]:
    """The counter names (``read_ops``, ``write_bytes``, ...) the metrics need."""
    out = set()
    for metric in metrics:
        out.update(RATE_METRICS.get(metric, ()))
        if metric in TOTAL_METRICS:
            out.add(TOTAL_METRICS[metric])
    return out


def uptime_ticks(value) -> int:
    """sysUpTime as walked -> its ticks; BackendError when the agent gave none."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << TICKS_WIDTH:
        raise exceptions.BackendError(
            f"no usable sysUpTime ({tables.dotted(SYS_UPTIME)}): the time base of the rates is missing"
        )
    return value


def elapsed_seconds(tracker: rates.CounterTracker, ticks: int, at: float) -> float | None:
    """Record this poll's sysUpTime; returns the array's seconds since the previous poll.

    :param ticks: sysUpTime now (hundredths of a second, modulo 2**32).
    :param at: when this poll runs (seconds since the epoch): it only orders the readings.
    :returns: seconds of the array's time, a wrap of sysUpTime included; None on the first
        poll, when the agent restarted (sysUpTime went back) or when no time passed.
    """
    deltas = tracker.observe(UPTIME_KEY, at, {"ticks": ticks}, width=TICKS_WIDTH)
    delta = None if deltas is None else deltas.deltas.get("ticks")
    return delta / TICKS_PER_SECOND if delta else None


def volume_ids(hr_storage: Table) -> dict[str, str]:
    """hrStorageTable (type and descr) -> ``{volume name: native volume id}``.

    Fixed-disk entries ``/<pool>/<volume>`` are volumes; a name used by two volumes is left
    out, as its diskIOTable row could be either.
    """
    out: dict[str, str | None] = {}
    kinds = hr_storage.get(tables.HR_STORAGE + (2,), {})
    for index, descr in hr_storage.get(tables.HR_STORAGE + (3,), {}).items():
        if kinds.get(index) != tables.HR_STORAGE_FIXED_DISK or not isinstance(descr, bytes):
            continue
        parts = descr.decode("utf-8", errors="replace")[1:].split("/")
        if descr.startswith(b"/") and len(parts) == 2 and all(parts):
            out[parts[1]] = None if parts[1] in out else "/".join(parts)
    return {name: native for name, native in out.items() if native is not None}


def disk_ids(hr_device: Table) -> dict[str, str]:
    """hrDeviceTable (type and descr) -> ``{disk name: native disk id}`` (the same string)."""
    kinds = hr_device.get(tables.HR_DEVICE + (2,), {})
    out = {}
    for index, descr in hr_device.get(tables.HR_DEVICE + (3,), {}).items():
        if kinds.get(index) == tables.HR_DEVICE_DISK_STORAGE and isinstance(descr, bytes) and descr:
            name = descr.decode("utf-8", errors="replace")
            out[name] = name
    return out


def diskio_rows(diskio: Table, ids: dict[str, str]) -> dict[Oid, tuple[str, str]]:
    """diskIOTable rows of the resources in ``ids``: ``{index: (native id, name)}``."""
    out = {}
    for index, device in diskio.get(DISKIO_DEVICE, {}).items():
        name = device.decode("utf-8", errors="replace") if isinstance(device, bytes) else None
        if name in ids:
            out[index] = (ids[name], name)
    return out


def preferred_columns(choices: dict, counters: Iterable[str]) -> list[Oid]:
    """The columns to walk first for ``counters`` (``choices``: :data:`DISKIO_COUNTERS` or :data:`PORT_COUNTERS`)."""
    return [choices[name][0][0] for name in sorted(counters)]


def standin_columns(choices: dict, counters: Iterable[str], table: Table, rows: Iterable[Oid]) -> list[Oid]:
    """The Counter32 columns to walk too: those standing in for a preferred column some row lacks."""
    rows = list(rows)
    out = []
    for name in sorted(counters):
        (column, _), *standins = choices[name]
        cells = table.get(column, {})
        if standins and any(index not in cells for index in rows):
            out.extend(c for c, _ in standins)
    return out


def _counter(table: Table, choices, index: Oid, what: str) -> tuple[int, int] | None:
    for column, width in choices:
        value = table.get(column, {}).get(index)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << width:
            raise exceptions.BackendError(f"{tables.dotted(column)} of {what} is not a Counter{width}")
        return value, width
    return None


def readings(
    table: Table, rows: dict[Oid, tuple[str, str]], counters: Iterable[str], choices: dict, what: str
) -> list[Reading]:
    """Walked counter columns -> one reading per row of ``rows`` (``{index: (native id, name)}``),
    each counter from its preferred column, else from a stand-in; a counter in neither is absent.

    :raises BackendError: a cell that is not a counter of its width (naming the row and column).
    """
    counters = sorted(counters)
    out = []
    for index, (resource_id, name) in rows.items():
        found = {}
        for counter in counters:
            cell = _counter(table, choices[counter], index, f"{what} row {tables.dotted(index)} ({name})")
            if cell is not None:
                found[counter] = cell
        out.append(Reading(resource_id, name, found))
    return out


def port_rows(if_table: Table, ifx: Table) -> dict[Oid, tuple[str, str]]:
    """IF-MIB interfaces that are ports (software loopbacks left out): ``{index: (native id, name)}``,
    with the native id and name the inventory gives them (ifDescr, ifName)."""
    out = {}
    descrs, names = if_table.get(IF_DESCR, {}), ifx.get(IFX_NAME, {})
    for index, if_type in if_table.get(IF_TYPE, {}).items():
        if if_type == _SOFTWARE_LOOPBACK:
            continue
        descr, name = descrs.get(index), names.get(index)
        descr = descr.decode("utf-8", errors="replace") if isinstance(descr, bytes) and descr else None
        descr = descr or f"if{tables.dotted(index)}"
        name = name.decode("utf-8", errors="replace") if isinstance(name, bytes) and name else descr
        out[index] = (descr, name)
    return out


def _groups(counters: dict[str, tuple[int, int]]) -> dict[tuple[str, int], dict[str, int]]:
    # one tracker entry per kind and width: each wraps at its own modulus and has its own plausible growth
    out: dict[tuple[str, int], dict[str, int]] = {}
    for name, (value, width) in counters.items():
        out.setdefault((name.rsplit("_", 1)[1], width), {})[name] = value
    return out


def samples(
    tracker: rates.CounterTracker,
    resource_type: str,
    metrics: Iterable[str],
    readings: Iterable[Reading],
    elapsed: float | None,
    at: float,
) -> Iterator[models.MetricSample]:
    """The samples of one poll: totals always, rates when there is a previous reading.

    :param elapsed: the array's seconds since the previous poll (:func:`elapsed_seconds`), or None.
    :param at: this poll's time (seconds since the epoch): the tracker's order and the samples' timestamp.
    """
    metrics = tuple(metrics)
    for reading in readings:
        merged: dict[str, int | None] = {}
        reset = False
        for (kind, width), group in sorted(_groups(reading.counters).items()):
            limit = None if not elapsed else min(1 << (width - 1), math.ceil(elapsed * MAX_RATE[kind]))
            key = f"{resource_type}:{reading.resource_id}/{kind}{width}"
            deltas = tracker.observe(key, at, group, width=width, max_delta=limit)
            if deltas is None:  # the first reading of this group: no rate yet
                merged.update(dict.fromkeys(group))
            else:
                merged.update(deltas.deltas)
                reset = reset or any(d is None for d in deltas.deltas.values())
        # a device resets all its counters at once: one that reads as reset voids the others' deltas
        deltas = rates.CounterDeltas(elapsed, merged) if elapsed and not reset else None
        for metric in metrics:
            if metric in TOTAL_METRICS:
                cell = reading.counters.get(TOTAL_METRICS[metric])
                value, interval = (None, None) if cell is None else (cell[0], None)
            elif metric in RATE_METRICS and deltas is not None:
                value, interval = deltas.sum_rate(*RATE_METRICS[metric]), elapsed
            else:
                continue
            if value is not None:
                yield models.MetricSample(resource_type, reading.resource_id, metric, value, at, reading.name, interval)


_DESCRIPTIONS = {
    "iops": "Read and write operations per second (diskIOReads + diskIOWrites)",
    "read_iops": "Read operations per second (diskIOReads)",
    "write_iops": "Write operations per second (diskIOWrites)",
    "throughput": "Bytes read and written per second (diskIONReadX + diskIONWrittenX, else the 32-bit ones)",
    "read_throughput": "Bytes read per second (diskIONReadX, else diskIONRead)",
    "write_throughput": "Bytes written per second (diskIONWrittenX, else diskIONWritten)",
    "read_ops_total": "Read operations since the counter started (diskIOReads, a Counter32)",
    "write_ops_total": "Write operations since the counter started (diskIOWrites, a Counter32)",
    "read_bytes_total": "Bytes read since the counter started (diskIONReadX, else diskIONRead)",
    "write_bytes_total": "Bytes written since the counter started (diskIONWrittenX, else diskIONWritten)",
}
_PORT_DESCRIPTIONS = {
    "throughput": "Bytes in and out per second (ifHCInOctets + ifHCOutOctets, else ifInOctets + ifOutOctets)",
    "read_throughput": "Bytes sent to hosts per second (ifHCOutOctets, else ifOutOctets)",
    "write_throughput": "Bytes received from hosts per second (ifHCInOctets, else ifInOctets)",
    "read_bytes_total": "Bytes sent since the counter started (ifHCOutOctets, else ifOutOctets)",
    "write_bytes_total": "Bytes received since the counter started (ifHCInOctets, else ifInOctets)",
}
# SNMP serves counters "now": rates need two readings, nothing is historic; any interval works
MIN_INTERVAL = 15
METRICS_OF = {
    models.ResourceType.VOLUME: DISKIO_METRICS,
    models.ResourceType.DISK: DISKIO_METRICS,
    models.ResourceType.PORT: PORT_METRICS,
}


def capabilities() -> dict:
    """What :func:`samples` yields per resource type, in :mod:`delfin_like.sdk.perf`'s format,
    with descriptions naming the MIB columns (units and types are the standard metrics')."""
    out = {"is_historic": False, "resource_metrics": {}, "collection": {}}
    for resource_type, metrics in METRICS_OF.items():
        texts = _PORT_DESCRIPTIONS if resource_type == models.ResourceType.PORT else _DESCRIPTIONS
        out["resource_metrics"][resource_type] = {
            m: {**perf.STANDARD_METRICS[m].as_dict(), "description": texts[m]} for m in metrics
        }
        out["collection"][resource_type] = {"min_interval": MIN_INTERVAL, "is_historic": False}
    return out
