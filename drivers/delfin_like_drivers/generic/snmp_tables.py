"""Standard MIB tables, as walked, turned into ``delfin_like.sdk`` models: pure functions, no I/O.

A walked table is ``{column OID: {index suffix: value}}`` with values as
:func:`~delfin_like_drivers.generic.snmp_client.plain` gives them (int, bytes, OID
tuple, dotted IPv4 string, None). Data a driver cannot use raises
:class:`~delfin_like.sdk.exceptions.BackendError` naming the row and the column. The
mapping itself is described in :mod:`delfin_like_drivers.generic.snmp`.
"""

import dataclasses
import re
from collections.abc import Iterator

from delfin_like.sdk import exceptions, models

Oid = tuple[int, ...]
Table = dict[Oid, dict[Oid, object]]

SYS = (1, 3, 6, 1, 2, 1, 1)
SYS_DESCR, SYS_OBJECT_ID, SYS_NAME, SYS_LOCATION = SYS + (1, 0), SYS + (2, 0), SYS + (5, 0), SYS + (6, 0)
HR_STORAGE = (1, 3, 6, 1, 2, 1, 25, 2, 3, 1)
HR_STORAGE_COLUMNS = {"type": 2, "descr": 3, "units": 4, "size": 5, "used": 6}
HR_STORAGE_FIXED_DISK = (1, 3, 6, 1, 2, 1, 25, 2, 1, 4)
_SIZE_COLUMNS = {"units": "hrStorageAllocationUnits", "size": "hrStorageSize", "used": "hrStorageUsed"}
HR_DEVICE = (1, 3, 6, 1, 2, 1, 25, 3, 2, 1)
HR_DEVICE_COLUMNS = {"type": 2, "descr": 3, "status": 5}
HR_DEVICE_DISK_STORAGE = (1, 3, 6, 1, 2, 1, 25, 3, 1, 6)
HR_DISK_STORAGE = (1, 3, 6, 1, 2, 1, 25, 3, 6, 1)
HR_DISK_CAPACITY = HR_DISK_STORAGE + (4,)
DSK = (1, 3, 6, 1, 4, 1, 2021, 9, 1)
DSK_COLUMNS = {"path": 2, "device": 3, "error": 100}
DSK_ERROR_MSG = DSK + (101,)
IF = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IF_COLUMNS = {"descr": 2, "type": 3, "speed": 5, "phys": 6, "admin": 7, "oper": 8}
IFX = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
IFX_COLUMNS = {"name": 1, "high_speed": 15}
IP_ADDR = (1, 3, 6, 1, 2, 1, 4, 20, 1)
IP_ADDR_COLUMNS = {"if_index": 2, "mask": 3}
ENTERPRISES = (1, 3, 6, 1, 4, 1)

# private enterprise numbers (IANA) of agents this driver may meet
ENTERPRISE_NAMES = {
    2: "IBM",
    9: "Cisco",
    11: "HPE",
    311: "Microsoft",
    674: "Dell",
    789: "NetApp",
    1139: "Dell EMC",
    2011: "Huawei",
    2021: "UC Davis (net-snmp)",
    8072: "Net-SNMP",
    12740: "Dell EqualLogic",
    25506: "HPE",
    32473: "Example (RFC 5612)",
}
_VERSION = re.compile(r"\b(?:version|release|firmware)\s*[:=]?\s*v?([0-9][0-9A-Za-z._\-]*)", re.IGNORECASE)
_WWN_DEVICE = re.compile(r"^/dev/disk/by-id/wwn-(?:0x)?([0-9a-fA-F]+)$")
_DEVICE_STATUS = {
    1: models.DiskStatus.UNKNOWN,
    2: models.DiskStatus.NORMAL,
    3: models.DiskStatus.ABNORMAL,
    4: models.DiskStatus.OFFLINE,
    5: models.DiskStatus.ABNORMAL,
}
_ETHERNET_TYPES = {6, 62, 69, 117}  # ethernetCsmacd, fastEther, fastEtherFX, gigabitEthernet
_FIBRE_CHANNEL = 56
_SOFTWARE_LOOPBACK = 24


def dotted(oid: Oid) -> str:
    return ".".join(map(str, oid))


def columns(entry: Oid, names: dict[str, int]) -> dict[str, Oid]:
    """``{name: column OID}`` of a table entry."""
    return {name: entry + (number,) for name, number in names.items()}


def _text(value, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, bytes):
        raise exceptions.BackendError(f"{what} is not a string")
    return value.decode("utf-8", errors="replace")


def _int(value, what: str, minimum: int | None = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise exceptions.BackendError(f"{what} is not an integer")
    if minimum is not None and value < minimum:
        raise exceptions.BackendError(f"{what} is {value}, below {minimum}")
    return value


def _optional_int(value, what: str) -> int | None:
    return None if value is None else _int(value, what, minimum=None)


def _hex(value: bytes) -> str:
    return ":".join(f"{b:02x}" for b in value)


def enterprise_name(object_id) -> str:
    """The vendor named by a sysObjectID (``1.3.6.1.4.1.<n>...``)."""
    if not isinstance(object_id, tuple) or object_id[:6] != ENTERPRISES or len(object_id) < 7:
        return "unknown"
    return ENTERPRISE_NAMES.get(object_id[6], f"enterprise {object_id[6]}")


def firmware_version(description: str | None) -> str | None:
    """The first ``version X`` / ``release X`` / ``firmware X`` of a sysDescr, if any."""
    match = _VERSION.search(description or "")
    return match.group(1).rstrip(".,;-") if match else None


# -- pools and volumes -------------------------------------------------------------------------


@dataclasses.dataclass
class StorageArea:
    """One hrStorageTable entry this driver uses: a pool (``/pool``) or a volume (``/pool/volume``)."""

    path: str
    pool: str
    name: str | None  # the volume's name; None for a pool
    total: int
    used: int


@dataclasses.dataclass
class StorageAreas:
    pools: dict[str, StorageArea]
    volumes: list[StorageArea]


def parse_storage(table: Table) -> StorageAreas:
    """hrStorageTable -> pools and volumes (see the driver's docstring for the convention)."""
    col = columns(HR_STORAGE, HR_STORAGE_COLUMNS)
    out = StorageAreas({}, [])
    descrs = table.get(col["descr"], {})
    for index, kind in table.get(col["type"], {}).items():
        row = f"hrStorage row {dotted(index)}"
        if not isinstance(kind, tuple):
            raise exceptions.BackendError(f"hrStorageType of {row} is not an OBJECT IDENTIFIER")
        path = _text(descrs.get(index), f"hrStorageDescr of {row}")
        if kind != HR_STORAGE_FIXED_DISK or not path or not path.startswith("/"):
            continue
        parts = path[1:].split("/")
        if len(parts) > 2 or not all(parts):
            continue
        row = f"{row} ({path})"
        cells = {name: table.get(col[name], {}).get(index) for name in _SIZE_COLUMNS}
        for name, cell in cells.items():
            if cell is None:
                raise exceptions.BackendError(
                    f"{row} has no {_SIZE_COLUMNS[name]} ({dotted(col[name])}): the table is incomplete"
                )
        unit = _int(cells["units"], f"hrStorageAllocationUnits of {row}", minimum=1)
        size = _int(cells["size"], f"hrStorageSize of {row}")
        used = _int(cells["used"], f"hrStorageUsed of {row}")
        area = StorageArea(path, parts[0], parts[1] if len(parts) == 2 else None, unit * size, unit * used)
        if area.name is None:
            if area.pool in out.pools:
                raise exceptions.BackendError(f"{row}: pool {area.pool!r} is listed twice")
            out.pools[area.pool] = area
        else:
            out.volumes.append(area)
    return out


@dataclasses.dataclass
class DskRow:
    index: Oid
    device: str | None
    error: bool
    message: str = ""


def parse_dsk(table: Table) -> dict[str, DskRow]:
    """dskTable by path (``dskErrorMsg`` is not walked: the driver fetches it for rows in error)."""
    col = columns(DSK, DSK_COLUMNS)
    out = {}
    for index, path in table.get(col["path"], {}).items():
        path = _text(path, f"dskPath of dsk row {dotted(index)}")
        flag = _optional_int(table.get(col["error"], {}).get(index), f"dskErrorFlag of dsk row {dotted(index)}")
        device = _text(table.get(col["device"], {}).get(index), f"dskDevice of dsk row {dotted(index)}")
        if path:
            out[path] = DskRow(index, device, flag == 1)
    return out


def pool_status(row: DskRow | None) -> str:
    if row is None:
        return models.StoragePoolStatus.UNKNOWN
    if not row.error:
        return models.StoragePoolStatus.NORMAL
    message = row.message.lower()
    if "offline" in message:
        return models.StoragePoolStatus.OFFLINE
    if "degraded" in message:
        return models.StoragePoolStatus.DEGRADED
    return models.StoragePoolStatus.ABNORMAL


def pools(areas: StorageAreas, dsk: dict[str, DskRow]) -> list[models.StoragePool]:
    subscribed: dict[str, int] = {}
    for v in areas.volumes:
        subscribed[v.pool] = subscribed.get(v.pool, 0) + v.total
    return [
        models.StoragePool(
            native_storage_pool_id=name,
            name=name,
            status=pool_status(dsk.get(p.path)),
            storage_type=models.StorageType.BLOCK,
            total_capacity=p.total,
            used_capacity=p.used,
            free_capacity=p.total - p.used,
            subscribed_capacity=subscribed.get(name, 0),
        )
        for name, p in areas.pools.items()
    ]


def volumes(areas: StorageAreas, dsk: dict[str, DskRow]) -> Iterator[models.Volume]:
    for v in areas.volumes:
        row = dsk.get(v.path)
        wwn = _WWN_DEVICE.match(row.device or "") if row else None
        if row is None:
            status = models.VolumeStatus.UNKNOWN
        else:
            status = models.VolumeStatus.ERROR if row.error else models.VolumeStatus.AVAILABLE
        yield models.Volume(
            native_volume_id=f"{v.pool}/{v.name}",
            name=v.name,
            native_storage_pool_id=v.pool if v.pool in areas.pools else None,
            status=status,
            type=models.VolumeType.THICK,
            wwn=wwn.group(1).lower() if wwn else None,
            total_capacity=v.total,
            used_capacity=v.used,
            free_capacity=v.total - v.used,
        )


# -- storage, disks, ports ---------------------------------------------------------------------


def storage(
    system: dict[Oid, object], areas: StorageAreas, disks: list[models.Disk], overrides: dict[str, str]
) -> models.Storage:
    """The array from its system group and what the tables add up to."""
    name = _text(system.get(SYS_NAME), "sysName")
    if not name:
        raise exceptions.BackendError("no sysName (1.3.6.1.2.1.1.5.0): does the agent serve the system group?")
    description = _text(system.get(SYS_DESCR), "sysDescr")
    object_id = system.get(SYS_OBJECT_ID)
    total = sum(p.total for p in areas.pools.values())
    used = sum(p.used for p in areas.pools.values())
    return models.Storage(
        name=name,
        vendor=overrides.get("vendor") or enterprise_name(object_id),
        model=overrides.get("model") or (dotted(object_id) if isinstance(object_id, tuple) else "unknown"),
        serial_number=overrides.get("serial_number") or name,
        status=models.StorageStatus.NORMAL,
        firmware_version=firmware_version(description),
        location=_text(system.get(SYS_LOCATION), "sysLocation") or None,
        description=description or None,
        raw_capacity=sum(d.capacity for d in disks),
        total_capacity=total,
        used_capacity=used,
        free_capacity=total - used,
        subscribed_capacity=sum(v.total for v in areas.volumes),
    )


def parse_disks(device: Table, capacity: dict[Oid, object]) -> list[models.Disk]:
    """hrDeviceTable entries of type hrDeviceDiskStorage, with hrDiskStorageCapacity."""
    col = columns(HR_DEVICE, HR_DEVICE_COLUMNS)
    out = []
    for index, kind in device.get(col["type"], {}).items():
        if kind != HR_DEVICE_DISK_STORAGE:
            continue
        row = f"hrDevice row {dotted(index)}"
        name = _text(device.get(col["descr"], {}).get(index), f"hrDeviceDescr of {row}") or f"hrDevice.{dotted(index)}"
        status = _optional_int(device.get(col["status"], {}).get(index), f"hrDeviceStatus of {row}")
        kb = capacity.get(index)
        out.append(
            models.Disk(
                native_disk_id=name,
                name=name,
                status=_DEVICE_STATUS.get(status, models.DiskStatus.UNKNOWN),
                capacity=0 if kb is None else 1024 * _int(kb, f"hrDiskStorageCapacity of {row}"),
            )
        )
    return out


def parse_ports(if_table: Table, ifx: Table, addresses: Table) -> list[models.Port]:
    """IF-MIB ifTable + ifXTable (+ IP-MIB ipAddrTable) -> ports; software loopbacks are left out."""
    col = columns(IF, IF_COLUMNS)
    xcol = columns(IFX, IFX_COLUMNS)
    acol = columns(IP_ADDR, IP_ADDR_COLUMNS)
    ipv4: dict[Oid, tuple[str, str | None]] = {}
    for address, if_index in sorted(addresses.get(acol["if_index"], {}).items()):
        if isinstance(if_index, int) and len(address) == 4:
            mask = addresses.get(acol["mask"], {}).get(address)
            ipv4.setdefault((if_index,), (dotted(address), mask if isinstance(mask, str) else None))
    out = []
    for index, if_type in if_table.get(col["type"], {}).items():
        row = f"ifTable row {dotted(index)}"
        if_type = _int(if_type, f"ifType of {row}")
        if if_type == _SOFTWARE_LOOPBACK:
            continue

        def cell(table, column, name, parse=_optional_int, index=index, row=row):
            return parse(table.get(column, {}).get(index), f"{name} of {row}")

        descr = cell(if_table, col["descr"], "ifDescr", _text) or f"if{dotted(index)}"
        fc, eth = if_type == _FIBRE_CHANNEL, if_type in _ETHERNET_TYPES
        high_speed, speed = cell(ifx, xcol["high_speed"], "ifHighSpeed"), cell(if_table, col["speed"], "ifSpeed")
        oper, admin = cell(if_table, col["oper"], "ifOperStatus"), cell(if_table, col["admin"], "ifAdminStatus")
        physical = if_table.get(col["phys"], {}).get(index)
        physical = physical if isinstance(physical, bytes) else b""
        address, mask = ipv4.get(index, (None, None))
        down = oper in (2, 7)  # down, lowerLayerDown
        out.append(
            models.Port(
                native_port_id=descr,
                name=cell(ifx, xcol["name"], "ifName", _text) or descr,
                type=models.PortType.FC if fc else models.PortType.ETH if eth else models.PortType.OTHER,
                connection_status=(
                    models.PortConnectionStatus.CONNECTED
                    if oper == 1
                    else models.PortConnectionStatus.DISCONNECTED
                    if down
                    else models.PortConnectionStatus.UNKNOWN
                ),
                health_status=(
                    models.PortHealthStatus.NORMAL
                    if oper == 1
                    else models.PortHealthStatus.ABNORMAL
                    if down and admin == 1
                    else models.PortHealthStatus.UNKNOWN
                ),
                speed=high_speed * 10**6 if high_speed else speed or None,
                wwn=_hex(physical) if fc and len(physical) == 8 else None,
                mac_address=_hex(physical) if not fc and len(physical) == 6 else None,
                ipv4=address,
                ipv4_mask=mask,
            )
        )
    return out
