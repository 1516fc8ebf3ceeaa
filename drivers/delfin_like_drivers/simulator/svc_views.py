"""What each simulated IBM Storwize/SVC ``ls`` command shows of a model snapshot.

Every function takes a :class:`~delfin_like_drivers.simulator.model.Snapshot`
and the parsed :class:`~delfin_like_drivers.simulator.svc_cli.Options` and
returns a concise :class:`Table` or, for ``lsX <id>``, a :class:`Detail`.
Rows are dicts by column name (absent columns print empty), so each view
names only what it fills.

How the model maps onto SVC objects (what the ``ibm svc_ssh`` driver reads back):

- system: ``id`` = the array serial, ``product_name`` = its model;
- pool ``pool-000N`` = mdisk group ``N`` with one array mdisk ``N``;
- volume = vdisk ``number`` (thin volumes also appear in ``lssevdiskcopy``);
- node ``node-N`` = node ``N`` in enclosure 1, canister ``N``;
- FC port ``fcP`` of node ``N`` = ``lsportfc`` id ``(N-1)*8+P``, port_id ``P+1``;
- Ethernet port ``e0a``/``e0b`` = ``lsportip`` port ``1``/``2`` of its node (two rows each, failover no/yes);
- disk ``disk-000N`` = drive ``N`` in enclosure 1, slot ``N`` (spares have no mdisk).
"""

import dataclasses
import datetime

from delfin_like_drivers.simulator import model

GIB = 1024**3
_UNITS = (("PB", 1024**5), ("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2))
POOL_STATUS = {"online": "online", "offline": "offline", "degraded": "degraded_paths"}
TECH_TYPE = {"ssd": "tier1_flash", "hdd": "tier_nearline", "nvme": "tier0_flash"}
BUILD = "(build 0.0.2400000000)"
NO_OBJECT = "CMMVC5753E The specified object does not exist or is not a suitable candidate."


class CliError(Exception):
    """A command the CLI refuses; ``str()`` is the line it prints on stderr."""


@dataclasses.dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]


@dataclasses.dataclass
class Detail:
    items: list[tuple[str, str]]  # ("", "") is the blank line between sections


@dataclasses.dataclass
class Message:
    """The one line a change command prints (``Virtual Disk, id [0], successfully created``)."""

    text: str


def table(columns: str, rows: list[dict[str, object]]) -> Table:
    """A Table of the space-separated ``columns``; each row dict may leave columns out."""
    names = columns.split()
    return Table(names, [[str(row.get(c, "")) for c in names] for row in rows])


def detail(columns: str, row: dict[str, object], *more: tuple[str, object]) -> Detail:
    """The detailed view of one row (in ``columns`` order), then ``more`` (name, value) pairs."""
    items = [(c, str(row.get(c, ""))) for c in columns.split()]
    return Detail(items + [(k, str(v)) for k, v in more])


def number(resource_id: str) -> int:
    """The numeric SVC id of a model resource (``pool-0003`` -> 3, ``node-1`` -> 1)."""
    return int(resource_id.rsplit("-", 1)[1])


def capacity(value: int, in_bytes: bool) -> str:
    """A capacity as the CLI prints it: bytes with ``-bytes``, else two decimals of the largest unit."""
    if in_bytes:
        return str(value)
    for unit, size in _UNITS:
        if value >= size:
            return f"{value / size:.2f}{unit}"
    return f"{value / 1024**2:.2f}MB"


def find(items, obj: str, keys):
    """The item whose ``keys(item)`` holds ``obj``; CliError otherwise."""
    for item in items:
        if obj in keys(item):
            return item
    raise CliError(NO_OBJECT)


def lssystem(snap: model.Snapshot, opts) -> Detail:
    subscribed = sum(v.size for v in snap.volumes)
    total, used = snap.total, snap.used
    first_ip = snap.nodes[0].mgmt_ip if snap.nodes else ""

    def cap(v: int) -> str:
        return capacity(v, opts.bytes)

    row = {
        "id": snap.serial, "name": snap.name, "location": "local",
        "total_mdisk_capacity": cap(total), "space_in_mdisk_grps": cap(total),
        "space_allocated_to_vdisks": cap(used), "total_free_space": cap(total - used),
        "total_vdiskcopy_capacity": cap(subscribed), "total_used_capacity": cap(used),
        "total_overallocation": subscribed * 100 // total if total else 0,
        "total_vdisk_capacity": cap(subscribed), "total_allocated_extent_capacity": cap(used),
        "statistics_status": "on", "statistics_frequency": 5, "cluster_locale": "en_US", "time_zone": "522 UTC",
        "code_level": f"{snap.version} {BUILD}", "console_IP": f"{first_ip}:443", "id_alias": snap.serial,
        "layer": "storage", "product_name": snap.model, "total_drive_raw_capacity": cap(snap.raw),
    }  # fmt: skip
    return detail(" ".join(row), row)


MDISKGRP = (
    "id name status mdisk_count vdisk_count capacity extent_size free_capacity virtual_capacity used_capacity "
    "real_capacity overallocation warning easy_tier easy_tier_status compression_active compression_virtual_capacity "
    "compression_compressed_capacity compression_uncompressed_capacity parent_mdisk_grp_id parent_mdisk_grp_name "
    "child_mdisk_grp_count child_mdisk_grp_capacity type encrypt owner_type site_id site_name data_reduction"
)


def lsmdiskgrp(snap: model.Snapshot, opts) -> Table | Detail:
    used: dict[str, int] = {}
    subscribed: dict[str, int] = {}
    count: dict[str, int] = {}
    for v in snap.volumes:
        used[v.pool_id] = used.get(v.pool_id, 0) + v.used
        subscribed[v.pool_id] = subscribed.get(v.pool_id, 0) + v.size
        count[v.pool_id] = count.get(v.pool_id, 0) + 1
    zero = capacity(0, opts.bytes)
    rows = []
    for p in sorted(snap.pools, key=lambda p: number(p.id)):
        u, s = used.get(p.id, 0), subscribed.get(p.id, 0)
        rows.append({
            "id": number(p.id), "name": p.name, "status": POOL_STATUS.get(p.status, p.status), "mdisk_count": 1,
            "vdisk_count": count.get(p.id, 0), "capacity": capacity(p.total, opts.bytes), "extent_size": 1024,
            "free_capacity": capacity(p.total - u, opts.bytes), "virtual_capacity": capacity(s, opts.bytes),
            "used_capacity": capacity(u, opts.bytes), "real_capacity": capacity(u, opts.bytes),
            "overallocation": s * 100 // p.total if p.total else 0, "warning": 80, "easy_tier": "auto",
            "easy_tier_status": "balanced", "compression_active": "no", "compression_virtual_capacity": zero,
            "compression_compressed_capacity": zero, "compression_uncompressed_capacity": zero,
            "parent_mdisk_grp_id": number(p.id), "parent_mdisk_grp_name": p.name, "child_mdisk_grp_count": 0,
            "child_mdisk_grp_capacity": zero, "type": "parent", "encrypt": "no", "owner_type": "none",
            "data_reduction": "no",
        })  # fmt: skip
    return _one_or_all(table(MDISKGRP, rows), opts)


def lsmdisk(snap: model.Snapshot, opts) -> Table | Detail:
    columns = ("id name status mode mdisk_grp_id mdisk_grp_name capacity ctrl_LUN_# controller_name UID tier encrypt "
               "site_id site_name distributed dedupe")  # fmt: skip
    rows = [{"id": number(p.id), "name": f"mdisk{number(p.id)}", "status": POOL_STATUS.get(p.status, p.status),
             "mode": "array", "mdisk_grp_id": number(p.id), "mdisk_grp_name": p.name,
             "capacity": capacity(p.total, opts.bytes), "tier": "tier1_flash", "encrypt": "no", "distributed": "yes",
             "dedupe": "no"}
            for p in sorted(snap.pools, key=lambda p: number(p.id))]  # fmt: skip
    return _one_or_all(table(columns, rows), opts)


VDISK = (
    "id name IO_group_id IO_group_name status mdisk_grp_id mdisk_grp_name capacity type FC_id FC_name RC_id RC_name "
    "vdisk_UID fc_map_count copy_count fast_write_state se_copy_count RC_change compressed_copy_count "
    "parent_mdisk_grp_id parent_mdisk_grp_name formatting encrypt volume_id volume_name function "
    "deduplicated_copy_count"
)


def _vdisk(v: model.SimVolume, pools: dict[str, model.SimPool], in_bytes: bool) -> dict[str, object]:
    pool = pools.get(v.pool_id)
    pool_no, pool_name = (number(pool.id), pool.name) if pool else ("", "")
    return {
        "id": v.number, "name": v.name, "IO_group_id": 0, "IO_group_name": "io_grp0", "status": v.status,
        "mdisk_grp_id": pool_no, "mdisk_grp_name": pool_name, "capacity": capacity(v.size, in_bytes),
        "type": "striped", "vdisk_UID": v.wwn.upper(), "fc_map_count": 0, "copy_count": 1,
        "fast_write_state": "empty", "se_copy_count": 1 if v.thin else 0, "RC_change": "no",
        "compressed_copy_count": 0, "parent_mdisk_grp_id": pool_no, "parent_mdisk_grp_name": pool_name,
        "formatting": "no", "encrypt": "no", "volume_id": v.number, "volume_name": v.name, "deduplicated_copy_count": 0,
    }  # fmt: skip


def lsvdisk(snap: model.Snapshot, opts) -> Table | Detail:
    pools = {p.id: p for p in snap.pools}
    if opts.obj is None:
        return table(VDISK, [_vdisk(v, pools, opts.bytes) for v in snap.volumes])
    v = find(snap.volumes, opts.obj, lambda v: (str(v.number), v.name))
    row = _vdisk(v, pools, opts.bytes)
    real = capacity(v.used, opts.bytes)
    return detail(VDISK, row, ("", ""), ("copy_id", 0), ("status", v.status), ("sync", "yes"), ("primary", "yes"),
                  ("mdisk_grp_id", row["mdisk_grp_id"]), ("type", "striped"), ("used_capacity", real),
                  ("real_capacity", real), ("free_capacity", capacity(0, opts.bytes)),
                  ("se_copy", "yes" if v.thin else "no"), ("compressed_copy", "no"))  # fmt: skip


def lssevdiskcopy(snap: model.Snapshot, opts) -> Table:
    columns = ("vdisk_id vdisk_name copy_id mdisk_grp_id mdisk_grp_name capacity used_capacity real_capacity "
               "free_capacity overallocation autoexpand warning grainsize se_copy compressed_copy "
               "uncompressed_used_capacity")  # fmt: skip
    pools = {p.id: p for p in snap.pools}
    rows = []
    for v in snap.volumes:
        if not v.thin:
            continue
        used = capacity(v.used, opts.bytes)
        row = _vdisk(v, pools, opts.bytes)
        rows.append({
            "vdisk_id": v.number, "vdisk_name": v.name, "copy_id": 0, "mdisk_grp_id": row["mdisk_grp_id"],
            "mdisk_grp_name": row["mdisk_grp_name"], "capacity": row["capacity"], "used_capacity": used,
            "real_capacity": used, "free_capacity": capacity(0, opts.bytes),
            "overallocation": v.size * 100 // v.used if v.used else 0, "autoexpand": "on", "warning": 80,
            "grainsize": 256, "se_copy": "yes", "compressed_copy": "no", "uncompressed_used_capacity": used,
        })  # fmt: skip
    return table(columns, rows)


NODE = (
    "id name UPS_serial_number WWNN status IO_group_id IO_group_name config_node UPS_unique_id hardware iscsi_name "
    "iscsi_alias panel_name enclosure_id canister_id enclosure_serial_number site_id site_name"
)


def _node(snap: model.Snapshot, node: model.SimNode) -> dict[str, object]:
    n = number(node.id)
    return {
        "id": n, "name": node.name, "WWNN": f"500507680C00{n:04X}", "status": node.status, "IO_group_id": 0,
        "IO_group_name": "io_grp0", "config_node": "yes" if n == 1 else "no", "hardware": "SV3",
        "iscsi_name": f"iqn.1986-03.com.ibm:2145.{snap.name}.{node.name}".lower(),
        "panel_name": f"{snap.serial}-{n}", "enclosure_id": 1, "canister_id": n, "enclosure_serial_number": snap.serial,
    }  # fmt: skip


def lsnode(snap: model.Snapshot, opts) -> Table | Detail:
    nodes = sorted(snap.nodes, key=lambda n: number(n.id))
    if opts.obj is None:
        return table(NODE, [_node(snap, n) for n in nodes])
    node = find(nodes, opts.obj, lambda n: (str(number(n.id)), n.name))
    partner = next((n for n in nodes if n.id != node.id), node)
    return detail(NODE, _node(snap, node), ("partner_node_id", number(partner.id)),
                  ("partner_node_name", partner.name), ("service_IP_address", node.mgmt_ip),
                  ("service_gateway", ""), ("service_subnet_mask", "255.255.255.0"), ("product_mtm", "2145-SV3"),
                  ("code_level", f"{node.version} {BUILD}"),
                  ("serial_number", f"{snap.serial}{number(node.id)}"))  # fmt: skip


def lsnodehw(snap: model.Snapshot, opts) -> Table | Detail:
    nodes = sorted(snap.nodes, key=lambda n: number(n.id))
    rows = [{"id": number(n.id), "name": n.name, "status": n.status, "IO_group_id": 0, "IO_group_name": "io_grp0",
             "hardware": "SV3", "actual_different": "no", "actual_valid": "yes"} for n in nodes]  # fmt: skip
    columns = "id name status IO_group_id IO_group_name hardware actual_different actual_valid"
    if opts.obj is None:
        return table(columns, rows)
    node = find(nodes, opts.obj, lambda n: (str(number(n.id)), n.name))
    cpu = f"{node.cpu_count} core Simulated(R) CPU @ 2.40GHz"
    memory = node.memory // GIB
    return detail(columns, rows[nodes.index(node)], ("memory_configured", memory), ("memory_actual", memory),
                  ("memory_valid", "yes"), ("cpu_count", 1), ("cpu_socket", 1), ("cpu_configured", cpu),
                  ("cpu_actual", cpu), ("cpu_valid", "yes"), ("adapter_count", 2))  # fmt: skip


def port_index(port: model.SimPort) -> int:
    """``fc1`` -> 1, ``e0a`` -> 0, ``e0b`` -> 1."""
    return int(port.name[-1]) if port.kind == "fc" else "ab".index(port.name[-1])


def lsportfc(snap: model.Snapshot, opts) -> Table | Detail:
    columns = ("id fc_io_port_id port_id type port_speed node_id node_name WWPN nportid status attachment "
               "cluster_use adapter_location adapter_port_id")  # fmt: skip
    nodes = {n.id: n for n in snap.nodes}
    rows = []
    for p in snap.ports:
        if p.kind != "fc":
            continue
        n, i, up = number(p.node_id), port_index(p), p.status == "up"
        rows.append({
            "id": (n - 1) * 8 + i, "fc_io_port_id": i + 1, "port_id": i + 1, "type": "fc",
            "port_speed": f"{p.speed // 10**9}Gb" if up else "N/A", "node_id": n, "node_name": nodes[p.node_id].name,
            "WWPN": (p.wwn or "").replace(":", "").upper(), "nportid": f"0{n}0{i}00" if up else "000000",
            "status": "active" if up else "inactive_configured", "attachment": "switch" if up else "none",
            "cluster_use": "local_partner", "adapter_location": 1, "adapter_port_id": i + 1,
        })  # fmt: skip
    rows.sort(key=lambda r: r["id"])
    return _one_or_all(table(columns, rows), opts)


def lsportip(snap: model.Snapshot, opts) -> Table:
    columns = ("id node_id node_name IP_address mask gateway IP_address_6 prefix_6 gateway_6 MAC duplex state speed "
               "failover link_state host remote_copy host_6 remote_copy_6 remote_copy_status remote_copy_status_6 "
               "vlan vlan_6 adapter_location adapter_port_id")  # fmt: skip
    nodes = {n.id: n for n in snap.nodes}
    rows = []
    for p in snap.ports:
        if p.kind != "eth":
            continue
        up = p.status == "up"
        common = {"id": port_index(p) + 1, "node_id": number(p.node_id), "node_name": nodes[p.node_id].name,
                  "MAC": p.mac or "", "duplex": "Full" if up else "", "speed": f"{p.speed // 10**9}Gb/s" if up else "",
                  "link_state": "active" if up else "inactive", "adapter_location": 1,
                  "adapter_port_id": port_index(p) + 1}  # fmt: skip
        rows.append({**common, "IP_address": p.ipv4 or "", "mask": p.ipv4_mask or "", "state": "configured",
                     "failover": "no", "host": "yes", "remote_copy": 0})  # fmt: skip
        # the partner's configuration this port takes over on failover: no addresses of its own
        rows.append({**common, "state": "unconfigured", "failover": "yes"})
    rows.sort(key=lambda r: (r["node_id"], r["id"], r["failover"]))
    return table(columns, rows)


DRIVE = (
    "id status error_sequence_number use tech_type capacity mdisk_id mdisk_name member_id enclosure_id slot_id "
    "node_id node_name auto_manage drive_class_id"
)


def lsdrive(snap: model.Snapshot, opts) -> Table | Detail:
    members: dict[str, int] = {}
    rows, disks = [], sorted(snap.disks, key=lambda d: number(d.id))
    for d in disks:
        pool_no = number(d.pool_id) if d.pool_id else ""
        member = members.get(d.pool_id, 0) if d.pool_id else ""
        if d.pool_id:
            members[d.pool_id] = member + 1
        rows.append({
            "id": number(d.id), "status": "online" if d.status == "online" else "offline",
            "use": "failed" if d.status == "failed" else ("member" if d.pool_id else "spare"),
            "tech_type": TECH_TYPE.get(d.kind, "tier1_flash"), "capacity": capacity(d.capacity, opts.bytes),
            "mdisk_id": pool_no, "mdisk_name": f"mdisk{pool_no}" if d.pool_id else "", "member_id": member,
            "enclosure_id": 1, "slot_id": number(d.id), "auto_manage": "inactive", "drive_class_id": 0,
        })  # fmt: skip
    if opts.obj is None:
        return table(DRIVE, rows)
    d = find(disks, opts.obj, lambda d: (str(number(d.id)),))
    return detail(DRIVE, rows[disks.index(d)], ("UID", f"5000c500{number(d.id):08x}"), ("block_size", 512),
                  ("vendor_id", d.vendor), ("product_id", d.model), ("FRU_part_number", "01CM517"),
                  ("FRU_identity", d.serial), ("RPM", d.rpm or ""), ("firmware_level", d.firmware),
                  ("FPGA_level", ""), ("quorum_id", ""), ("port_1_status", "online"), ("port_2_status", "online"),
                  ("interface_speed", "12Gb"), ("protection_enabled", "yes"),
                  ("transport_protocol", "nvme" if d.kind == "nvme" else "sas"))  # fmt: skip


def _one_or_all(t: Table, opts) -> Table | Detail:
    """The table, or with an object id (or name) the detailed view of its row."""
    if opts.obj is None:
        return t
    for row in t.rows:
        if opts.obj == row[0] or (t.columns[1] == "name" and opts.obj == row[1]):
            return Detail(list(zip(t.columns, row, strict=True)))
    raise CliError(NO_OBJECT)


# -- the counters command (a simulator extension) ---------------------------------------------------

STATS_COMMAND = "lsiostatscounters"
_IO = "timestamp read_ops write_ops read_bytes write_bytes read_latency_us write_latency_us"
_PORT_IO = "timestamp read_ops write_ops read_bytes write_bytes"  # ports count frames and bytes, no latency
STATS_COLUMNS = {
    "system": f"id name {_IO}",
    "node": f"id name {_IO}",
    "mdisk": f"id name mdisk_grp_id mdisk_grp_name {_IO}",
    "vdisk": f"id name {_IO}",
    "drive": f"id {_IO}",
    "fcport": f"id port_id node_id node_name {_PORT_IO}",
    "ipport": f"id node_id node_name {_PORT_IO}",
}


def stats_time(unix_seconds: float) -> str:
    """The ``timestamp`` column: ISO-8601 UTC with microseconds (``2024-05-01T10:00:00.250000Z``)."""
    moment = datetime.datetime.fromtimestamp(unix_seconds, datetime.UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def lsiostatscounters(snap: model.Snapshot, opts, read_counters=None) -> Table:
    """``lsiostatscounters <object type>``: cumulative I/O counters of every object of one type.

    NOT a real SVC command: a simulator extension modeled on the counters of Storwize's
    iostats dumps (``Nv_stats``/``Nm_stats``/``Nd_stats``/``Nn_stats`` XML: ``ro``/``wo``
    operations, ``rb``/``wb`` blocks, ``rl``/``wl`` summed latency), printed as a table in
    plain units (bytes, microseconds) with the instant the counters were read. Real arrays
    expose those counters only as dump files; this command lets the simulator serve the same
    information over the CLI. Object types: ``system``, ``node``, ``mdisk`` (one per pool),
    ``vdisk``, ``drive``, ``fcport`` (``lsportfc`` ids), ``ipport`` (``lsportip`` ids per node).

    :param read_counters: ``ids -> (unix seconds, {id: Counters})``, the counters read now (the
        SSH front end's); default: the snapshot's own counters, at its clock.
    """
    kind = opts.obj
    if kind is None:
        raise CliError("CMMVC5707E Required parameters are missing.")
    if kind not in STATS_COLUMNS:
        raise CliError(f"CMMVC5709E [{kind}] is not a supported parameter.")
    read = read_counters or (lambda ids: (snap.clock, {i: snap.counters[i] for i in ids if i in snap.counters}))
    nodes = {n.id: n for n in snap.nodes}
    objects: list[tuple[str, dict[str, object]]] = []  # (model id, row without counters)
    if kind == "system":
        objects.append((snap.serial, {"id": snap.serial, "name": snap.name}))
    elif kind == "node":
        ordered = sorted(snap.nodes, key=lambda n: number(n.id))
        objects += [(n.id, {"id": number(n.id), "name": n.name}) for n in ordered]
    elif kind == "mdisk":
        for p in sorted(snap.pools, key=lambda p: number(p.id)):
            n = number(p.id)
            objects.append((p.id, {"id": n, "name": f"mdisk{n}", "mdisk_grp_id": n, "mdisk_grp_name": p.name}))
    elif kind == "vdisk":
        objects += [(v.id, {"id": v.number, "name": v.name}) for v in snap.volumes]
    elif kind == "drive":
        objects += [(d.id, {"id": number(d.id)}) for d in sorted(snap.disks, key=lambda d: number(d.id))]
    else:
        wanted = "fc" if kind == "fcport" else "eth"
        for p in snap.ports:
            if p.kind != wanted:
                continue
            n, i = number(p.node_id), port_index(p)
            row = {"node_id": n, "node_name": nodes[p.node_id].name}
            row.update({"id": (n - 1) * 8 + i, "port_id": i + 1} if wanted == "fc" else {"id": i + 1})
            objects.append((p.id, row))
        objects.sort(key=lambda o: (o[1]["node_id"], o[1]["id"]) if wanted == "eth" else o[1]["id"])
    at, counters = read([model_id for model_id, _ in objects])
    stamp = stats_time(at)
    rows = []
    for model_id, row in objects:
        c = counters.get(model_id)
        if c is None:
            continue  # deleted between the snapshot and the reading
        rows.append({**row, "timestamp": stamp, "read_ops": c.read_ops, "write_ops": c.write_ops,
                     "read_bytes": c.read_bytes, "write_bytes": c.write_bytes,
                     "read_latency_us": c.read_latency_us, "write_latency_us": c.write_latency_us})  # fmt: skip
    return table(STATS_COLUMNS[kind], rows)


# -- the event log -------------------------------------------------------------------------------

EVENTLOG = (
    "sequence_number last_timestamp object_type object_id object_name copy_id status fixed event_id error_code "
    "description"
)
# model kind -> SVC object_type
EVENT_OBJECT_TYPE = {"system": "cluster", "node": "node", "pool": "mdiskgrp", "volume": "vdisk", "disk": "drive",
                     "port": "fc_port"}  # fmt: skip


def event_time(unix_seconds: float) -> str:
    """``YYMMDDhhmmss``, as the event log prints its timestamps (the simulator's system time zone is UTC)."""
    return datetime.datetime.fromtimestamp(unix_seconds, datetime.UTC).strftime("%y%m%d%H%M%S")


def _event_object_id(snap: model.Snapshot, e: model.SimEvent) -> str:
    if e.kind == "system":
        return ""
    if e.kind == "volume":
        vol = next((v for v in snap.volumes if v.id == e.resource_id), None)
        return str(vol.number) if vol else ""  # a deleted volume leaves no id behind
    if e.kind == "port":
        port = next((p for p in snap.ports if p.id == e.resource_id), None)
        if port is None or port.kind != "fc":
            return ""
        return str((number(port.node_id) - 1) * 8 + port_index(port))
    return str(number(e.resource_id))


def event_row(snap: model.Snapshot, e: model.SimEvent) -> dict[str, object]:
    """The concise ``lseventlog`` row of one event (its traps carry the same values)."""
    if e.svc_error_code:
        status = "alert"
    else:
        status = "message"
    return {
        "sequence_number": e.sequence, "last_timestamp": event_time(e.time),
        "object_type": EVENT_OBJECT_TYPE[e.kind], "object_id": _event_object_id(snap, e),
        "object_name": e.resource_name, "copy_id": "", "status": status, "fixed": "yes" if e.fixed else "no",
        "event_id": e.svc_event_id, "error_code": e.svc_error_code, "description": e.message,
    }  # fmt: skip


def lseventlog(snap: model.Snapshot, opts) -> Table | Detail:
    """The event log, oldest first: fixed events only with ``-fixed yes`` (as on the array, whose
    default view leaves them out); ``lseventlog <sequence_number>`` is the detailed view of one."""
    if opts.obj is not None:
        e = find(snap.events, opts.obj, lambda e: (str(e.sequence),))
        row = event_row(snap, e)
        return detail(EVENTLOG, row, ("first_timestamp", row["last_timestamp"]),
                      ("first_timestamp_epoch", int(e.time)), ("last_timestamp_epoch", int(e.time)),
                      ("event_count", 1), ("auto_fixed", "no"), ("notification_type", e.severity),
                      ("event_id_text", e.message.split(":", 1)[0]),
                      ("error_code_text", e.message.split(":", 1)[0] if e.svc_error_code else ""))  # fmt: skip
    show_fixed = opts.flags.get("-fixed", "no") == "yes"
    events = sorted(snap.events, key=lambda e: e.sequence)
    return table(EVENTLOG, [event_row(snap, e) for e in events if show_fixed or not e.fixed])
