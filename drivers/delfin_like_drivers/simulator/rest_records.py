"""How the ONTAP-style REST front end shows a simulated array: pure formatting of a snapshot.

Records follow the public NetApp ONTAP REST API's shapes for clusters, nodes, aggregates,
volumes, Ethernet and FC ports and disks. Keys are UUIDs (:func:`ontap_uuid` of the model's ids);
disks are keyed by name and carry :func:`disk_uid`. Statistics are added per request
(:func:`statistics`), since the counters move with the array's clock.
"""

import dataclasses
import datetime
import re
import uuid

from delfin_like_drivers.simulator.model import Counters, Snapshot

_NAMESPACE = uuid.UUID("1b5d2c6e-7f1a-4c35-9a53-4f1f4e0a6d21")
_DISK_TYPES = {"ssd": "ssd", "nvme": "ssd_nvm", "hdd": "fsas"}
_DISK_CLASSES = {"ssd": "solid_state", "nvme": "solid_state", "hdd": "capacity"}
_AGGR_STATES = {"online": "online", "offline": "offline", "degraded": "restricted"}
_FC_STATES = {"up": "online", "down": "link_disconnected"}


def ontap_uuid(native_id: str) -> str:
    """The ONTAP key of a model id: the id itself when it is a UUID, else a UUID derived from it."""
    try:
        return str(uuid.UUID(native_id))
    except ValueError:
        return str(uuid.uuid5(_NAMESPACE, native_id))


def disk_uid(native_id: str) -> str:
    """The ONTAP ``uid`` of a model disk (eight colon-separated groups of four hex digits)."""
    digits = uuid.uuid5(_NAMESPACE, "disk/" + native_id).hex.upper()
    return ":".join(digits[i : i + 4] for i in range(0, 32, 4))


def _version(text: str) -> dict:
    parts = [int(p) for p in re.findall(r"\d+", text)[:3]] + [0, 0, 0]
    return {"full": f"NetApp Release {text} (simulated)", "generation": parts[0], "major": parts[1], "minor": parts[2]}


def _ref(record: dict) -> dict:
    return {"uuid": record["uuid"], "name": record["name"]}


@dataclasses.dataclass
class Listing:
    """One collection formatted from one snapshot, sorted by its key (without statistics)."""

    key: str
    fields: frozenset[str]
    keys: list[str] = dataclasses.field(default_factory=list)
    records: list[dict] = dataclasses.field(default_factory=list)
    counter_ids: list[str | None] = dataclasses.field(default_factory=list)
    statistics: str | None = "full"  # "full" (iops, throughput, latency), "throughput" or None

    def add(self, record: dict, counter_id: str | None) -> None:
        self.records.append(record)
        self.counter_ids.append(counter_id)

    def sort(self) -> None:
        order = sorted(range(len(self.records)), key=lambda i: self.records[i][self.key])
        self.records = [self.records[i] for i in order]
        self.counter_ids = [self.counter_ids[i] for i in order]
        self.keys = [r[self.key] for r in self.records]


FIELDS = {
    path: frozenset(names.split())
    for path, names in {
        "/api/cluster": "name uuid version location contact statistics",
        "/api/cluster/nodes": "uuid name serial_number model location state membership version "
        "management_interfaces controller statistics",
        "/api/storage/aggregates": "uuid name node state space block_storage statistics",
        "/api/storage/volumes": "uuid name state type style svm aggregates space guarantee statistics",
        "/api/network/ethernet/ports": "uuid name node type mac_address speed state enabled mtu statistics",
        "/api/network/fc/ports": "uuid name node wwpn wwnn enabled state physical_protocol speed fabric statistics",
        "/api/storage/disks": "name uid serial_number model vendor firmware_version usable_size rpm type class "
        "container_type state aggregates home_node shelf bay",
    }.items()
}


def format_snapshot(snap: Snapshot) -> tuple[dict, dict[str, Listing]]:
    """The cluster record (without statistics) and every listing of ``snap``."""
    cluster = {
        "name": snap.name,
        "uuid": ontap_uuid(snap.serial),
        "version": _version(snap.version),
        "location": snap.location,
        "contact": "",
    }
    listings = {
        path: Listing("name" if path.endswith("disks") else "uuid", fields)
        for path, fields in FIELDS.items()
        if path != "/api/cluster"
    }
    nodes = {}
    for node in snap.nodes:
        rec = {
            "uuid": ontap_uuid(node.id),
            "name": node.name,
            "serial_number": f"{snap.serial}-{node.id}",
            "model": snap.model,
            "location": node.location,
            "state": "up" if node.status == "online" else "down",
            "membership": "member",
            "version": _version(node.version),
            "management_interfaces": [{"name": f"{node.name}_mgmt1", "ip": {"address": node.mgmt_ip}}],
            "controller": {"cpu": {"count": node.cpu_count}, "memory_size": node.memory},
        }
        nodes[node.id] = rec
        listings["/api/cluster/nodes"].add(rec, node.id)
    node_refs = [_ref(n) for n in nodes.values()]
    used: dict[str, int] = {}
    for vol in snap.volumes:
        used[vol.pool_id] = used.get(vol.pool_id, 0) + vol.used
    aggregates, disks_in = {}, {}
    for disk in snap.disks:
        disks_in.setdefault(disk.pool_id, []).append(disk)
    for i, pool in enumerate(snap.pools):
        pool_used = used.get(pool.id, 0)
        members = disks_in.get(pool.id, [])
        rec = {
            "uuid": ontap_uuid(pool.id),
            "name": pool.name,
            "state": _AGGR_STATES.get(pool.status, "unknown"),
            "space": {
                "block_storage": {"size": pool.total, "used": pool_used, "available": max(0, pool.total - pool_used)}
            },
            "block_storage": {
                "primary": {"disk_count": len(members), "disk_type": _DISK_TYPES[members[0].kind] if members else None}
            },
        }
        if node_refs:
            rec["node"] = node_refs[i % len(node_refs)]
        aggregates[pool.id] = rec
        listings["/api/storage/aggregates"].add(rec, pool.id)
    svm = {"name": f"{snap.name}_svm0", "uuid": ontap_uuid(snap.serial + "/svm0")}
    volumes = listings["/api/storage/volumes"]
    for vol in snap.volumes:
        aggr = aggregates.get(vol.pool_id)
        volumes.add(
            {
                "uuid": vol.id,
                "name": vol.name,
                "state": vol.status,
                "type": "rw",
                "style": "flexvol",
                "svm": svm,
                "aggregates": [_ref(aggr)] if aggr else [],
                "space": {"size": vol.size, "used": vol.used, "available": vol.size - vol.used},
                "guarantee": {"type": "none" if vol.thin else "volume"},
            },
            vol.id,
        )
    listings["/api/network/ethernet/ports"].statistics = "throughput"
    for port in snap.ports:
        node = nodes.get(port.node_id)
        rec = {"uuid": ontap_uuid(port.id), "name": port.name, "enabled": True}
        if node:
            rec["node"] = _ref(node)
        if port.kind == "fc":
            up = port.status == "up"
            rec.update(
                wwpn=port.wwn,
                wwnn=f"{port.wwn[:-5]}00:00" if port.wwn else None,
                state=_FC_STATES.get(port.status, "unknown"),
                physical_protocol="fibre_channel",
                speed={"configured": "auto", "maximum": str(port.speed // 10**9)},
                fabric={"connected": up, "connected_speed": port.speed // 10**9 if up else None},
            )
            listings["/api/network/fc/ports"].add(rec, port.id)
        else:
            rec.update(type="physical", mac_address=port.mac, speed=port.speed // 10**6, state=port.status, mtu=1500)
            listings["/api/network/ethernet/ports"].add(rec, port.id)
    listings["/api/storage/disks"].statistics = None
    for disk in snap.disks:
        place = re.search(r"(\d+)\D+(\d+)$", disk.location or "")
        state = {"failed": "broken", "offline": "removed"}.get(disk.status, "present" if disk.pool_id else "spare")
        container = "broken" if disk.status == "failed" else ("aggregate" if disk.pool_id else "spare")
        rec = {
            "name": disk.name,
            "uid": disk_uid(disk.id),
            "serial_number": disk.serial,
            "model": disk.model,
            "vendor": disk.vendor,
            "firmware_version": disk.firmware,
            "usable_size": disk.capacity,
            "type": _DISK_TYPES.get(disk.kind, "unknown"),
            "class": _DISK_CLASSES.get(disk.kind, "unknown"),
            "container_type": container,
            "state": state,
            "aggregates": [_ref(aggregates[disk.pool_id])] if disk.pool_id in aggregates else [],
        }
        if disk.rpm:
            rec["rpm"] = disk.rpm
        if place:
            rec["shelf"] = {"uid": place.group(1)}
            rec["bay"] = int(place.group(2))
        if node_refs:
            rec["home_node"] = node_refs[0]
        listings["/api/storage/disks"].add(rec, None)
    for listing in listings.values():
        listing.sort()
    return cluster, listings


def statistics(c: Counters, timestamp: str, kind: str) -> dict:
    def trio(read: int, write: int) -> dict:
        return {"read": read, "write": write, "other": 0, "total": read + write}

    stats = {"timestamp": timestamp, "status": "ok", "throughput_raw": trio(c.read_bytes, c.write_bytes)}
    if kind == "full":
        stats["iops_raw"] = trio(c.read_ops, c.write_ops)
        stats["latency_raw"] = trio(c.read_latency_us, c.write_latency_us)
    return stats


def _pick(src: dict, path: list[str], dst: dict) -> None:
    head, rest = path[0], path[1:]
    if head not in src:
        return
    value = src[head]
    if not rest or value is None:
        dst[head] = value
    elif isinstance(value, dict):
        _pick(value, rest, dst.setdefault(head, {}))
    elif isinstance(value, list):
        out = dst.setdefault(head, [{} for _ in value])
        for item, into in zip(value, out, strict=True):
            if isinstance(item, dict):
                _pick(item, rest, into)


def select(record: dict, paths: list[list[str]] | None, key: str) -> dict:
    """The fields of ``record`` named by ``paths`` (None: all), always with its key."""
    if paths is None:
        return record
    out: dict = {key: record[key]} if key in record else {}
    taken: list[list[str]] = []
    for path in sorted(paths, key=len):
        # a whole subtree already copied is never written into (it is the cached record's)
        if any(path[: len(t)] == t for t in taken):
            continue
        _pick(record, path, out)
        taken.append(path)
    return out


# -- the event log: /api/support/ems/events -------------------------------------------------------

EMS_PATH = "/api/support/ems/events"
EMS_FIELDS = frozenset("index time node message log_message parameters".split())
# model severity -> EMS severity (a node's errors are alerts: the cluster lost a member)
_EMS_SEVERITY = {"error": "error", "warning": "notice", "informational": "informational"}


def ems_time(unix_seconds: float) -> str:
    """An EMS ``time``: ISO 8601 with the offset (the simulator's cluster time zone is UTC)."""
    return datetime.datetime.fromtimestamp(int(unix_seconds), datetime.UTC).isoformat()


def ems_records(snap: Snapshot) -> list[dict]:
    """Every event of ``snap`` as an EMS record, by ``index``. A node's own events are reported by
    that node, the others by the first node (the array has one event log; EMS has one per node)."""
    nodes = {n.id: n for n in snap.nodes}
    first = min(nodes) if nodes else None
    out = []
    for e in sorted(snap.events, key=lambda e: e.sequence):
        node = nodes.get(e.resource_id) if e.kind == "node" else nodes.get(first)
        severity = "alert" if e.kind == "node" and e.severity == "error" else _EMS_SEVERITY[e.severity]
        record = {
            "index": e.sequence,
            "time": ems_time(e.time),
            "message": {"name": e.ems_name, "severity": severity},
            "log_message": e.message,
            "parameters": [{"name": "object_name", "value": e.resource_name}],
        }
        if node is not None:
            record["node"] = {"name": node.name, "uuid": ontap_uuid(node.id)}
        out.append(record)
    return out
