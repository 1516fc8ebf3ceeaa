"""Performance samples of the ``ibm svc_ssh`` driver, from cumulative I/O counters.

Storwize/SVC keeps cumulative counters per vdisk, mdisk, drive, node and port, but shows them
only in its iostats dump files (``/dumps/iostats``: ``Nv_stats``, ``Nm_stats``, ``Nd_stats``,
``Nn_stats`` XML); ``lsnodestats``/``lssystemstats`` give current rates, not counters, so they
cannot chain exact rates from window to window. The simulator serves the dumps' counters through
:data:`STATS_COMMAND` (``lsiostatscounters <type> -delim :``), an extension that is NOT a real SVC
command: one row per object with ``timestamp`` (ISO-8601, the array's clock) and ``read_ops``,
``write_ops``, ``read_bytes``, ``write_bytes``, ``read_latency_us``, ``write_latency_us`` (ports:
no latency). An array that refuses the command (every real one) collects nothing, and the driver
declares no capabilities for it.

Rates come from two readings through the driver's counter tracker, over the array's timestamps.
A pool's counters are the sum of its mdisks'; ports are keyed as the inventory keys them
(``fc-<lsportfc id>``, ``eth-<node id>-<port id>``).
"""

from collections.abc import Iterable, Iterator

from delfin_like.sdk import exceptions, models, rates
from delfin_like_drivers.ibm import svc_output as out

RT = models.ResourceType
STATS_COMMAND = "lsiostatscounters"
COUNTER_BITS = 64
_IO = ("read_ops", "write_ops", "read_bytes", "write_bytes", "read_latency_us", "write_latency_us")
_PORT_IO = _IO[:4]
IO_METRICS = rates.IO_METRICS
# a port has no latency counters: no response times
PORT_METRICS = tuple(m for m in IO_METRICS if "response_time" not in m)
# resource type -> the object types of the counters command that carry its counters
OBJECTS = {
    RT.STORAGE: ("system",),
    RT.STORAGE_POOL: ("mdisk",),
    RT.VOLUME: ("vdisk",),
    RT.CONTROLLER: ("node",),
    RT.PORT: ("fcport", "ipport"),
    RT.DISK: ("drive",),
}
METRICS = {rt: PORT_METRICS if rt == RT.PORT else IO_METRICS for rt in OBJECTS}


def _counters(row: dict[str, str], names: tuple[str, ...], command: str) -> dict[str, int]:
    counters = {}
    for name in names:
        value = out.integer(out.need(row, name, command), name, command)
        if value is None or value < 0:
            raise out.malformed(command, f"{name} is not a counter")
        counters[name] = value
    return counters


def readings(kind: str, rows: Iterable[dict[str, str]]) -> Iterator[tuple[str, str | None, float, dict[str, int]]]:
    """``(native id, name, timestamp, counters)`` of each resource in the rows of ``<command> <kind>``.

    Native ids and names are the inventory's (a pool: its mdisk group, counters summed over its
    mdisks, stamped with the latest of their readings).

    :raises BackendError: a missing column, a counter that is not a non-negative integer, a bad time.
    """
    command = f"{STATS_COMMAND} {kind}"
    names = _PORT_IO if kind.endswith("port") else _IO
    pools: dict[str, tuple[str | None, float, dict[str, int]]] = {}
    for row in rows:
        at = rates.parse_timestamp(out.need(row, "timestamp", command), command)
        counters = _counters(row, names, command)
        object_id = out.need(row, "id", command)
        if kind == "mdisk":
            pool = out.need(row, "mdisk_grp_id", command)
            if not pool or pool == "many":
                continue  # an unmanaged mdisk belongs to no pool
            name, before_at, before = pools.get(pool, (row.get("mdisk_grp_name") or None, at, {}))
            pools[pool] = (name, max(at, before_at), {k: before.get(k, 0) + v for k, v in counters.items()})
        elif kind == "fcport":
            node = row.get("node_name") or out.need(row, "node_id", command)
            yield f"fc-{object_id}", f"{node}_fc{out.need(row, 'port_id', command)}", at, counters
        elif kind == "ipport":
            node_id = out.need(row, "node_id", command)
            yield f"eth-{node_id}-{object_id}", f"{row.get('node_name') or node_id}_eth{object_id}", at, counters
        elif kind == "drive":
            yield object_id, f"drive{object_id}", at, counters
        else:
            yield object_id, row.get("name") or None, at, counters
    for pool, (name, at, counters) in pools.items():
        yield pool, name, at, counters


def samples(
    resource_type: str,
    kind: str,
    rows: Iterable[dict[str, str]],
    wanted: tuple[str, ...],
    tracker: rates.CounterTracker,
) -> Iterator[models.MetricSample]:
    """The samples of one object type's counter rows for the ``wanted`` metrics (see the module docstring)."""
    if resource_type not in OBJECTS:
        raise exceptions.NotSupported(f"no counters for {resource_type} resources")
    for native_id, name, at, counters in readings(kind, rows):
        yield from rates.io_samples(tracker, resource_type, native_id, name, at, counters, wanted, width=COUNTER_BITS)
