"""What the SNMP front end serves: a simulated array as standard MIB objects, by numeric OID.

The array is expressed the way a generic host agent expresses storage (see the
``generic snmp`` driver for the reading side):

* SNMPv2-MIB system group: sysDescr ``"<vendor> <model> storage array, version <v>"``,
  sysObjectID ``1.3.6.1.4.1.32473.1.1`` (32473 is the documentation enterprise
  number of RFC 5612), sysUpTime = the array's clock in hundredths, sysName,
  sysLocation.
* HOST-RESOURCES-MIB hrStorageTable: each pool is a fixed-disk entry with descr
  ``/<pool name>``, each volume one with descr ``/<pool name>/<volume name>``;
  capacities as allocation units x size/used (the unit is the smallest power of
  two from 4096 up that keeps the counts inside Integer32). hrMemorySize is the
  nodes' memory.
* HOST-RESOURCES-MIB hrDeviceTable + hrDiskStorageTable: one disk-storage device
  per disk (descr = the disk's name, status running/down/testing for
  online/failed/offline, media hardDisk for HDDs and other for SSD/NVMe,
  capacity in KB, saturated at the Integer32 maximum as the MIB demands).
* UCD-SNMP-MIB dskTable: pools and volumes again by path (``dskPath`` equals the
  hrStorageDescr), with ``dskDevice`` ``/dev/mapper/<pool>`` or
  ``/dev/disk/by-id/wwn-0x<wwn>``, 64-bit KB sizes and ``dskErrorFlag``/``dskErrorMsg``
  set when a pool or volume is not online.
* UCD-DISKIO-MIB diskIOTable: one row per disk and per volume (``diskIODevice`` =
  its name) with the model's monotonic counters (bytes read/written, 32-bit and
  64-bit; read/write operations; busy time in microseconds = summed latency).
  Counter32 columns wrap at 2**32 as a real agent's do; ``counters64=False`` (the front
  end's option) leaves out the Counter64 byte columns, as an older agent would.
* IF-MIB ifTable/ifXTable: one interface per port (ifDescr = the port's native
  id, ifName = its name, ifType fibreChannel or ethernetCsmacd, ifSpeed/ifHighSpeed,
  ifPhysAddress = the WWPN or MAC, oper status up/down, octet and packet
  counters: in = written by hosts, out = read by hosts; the ifHC* Counter64 ones are
  left out with ``counters64=False``). IP-MIB ipAddrTable
  carries the Ethernet ports' IPv4 address and mask.

Table indexes are given out once per resource and kept, so a resource keeps its
row across churn, as a real agent's would. Counter values are read from the
model when asked, so they follow its clock without rebuilding the view.
"""

import bisect
import dataclasses
from collections.abc import Callable
from typing import Any

INT32_MAX = 2**31 - 1

# value kinds of net-snmp's pass_persist protocol
INTEGER = "integer"
STRING = "string"
OCTET = "octet"
OBJECTID = "objectid"
TIMETICKS = "timeticks"
COUNTER = "counter"
COUNTER64 = "counter64"
GAUGE = "gauge"
IPADDRESS = "ipaddress"

Oid = tuple[int, ...]

SYSTEM = (1, 3, 6, 1, 2, 1, 1)
INTERFACES = (1, 3, 6, 1, 2, 1, 2)
IP_ADDR_TABLE = (1, 3, 6, 1, 2, 1, 4, 20)
HOST = (1, 3, 6, 1, 2, 1, 25)
IF_MIB = (1, 3, 6, 1, 2, 1, 31)
DSK_TABLE = (1, 3, 6, 1, 4, 1, 2021, 9)
DISKIO_TABLE = (1, 3, 6, 1, 4, 1, 2021, 13, 15)
# the subtrees the front end registers with the agent (one pass_persist helper each)
SUBTREES = (SYSTEM, INTERFACES, IP_ADDR_TABLE, HOST, IF_MIB, DSK_TABLE, DISKIO_TABLE)

SYS_OBJECT_ID = "1.3.6.1.4.1.32473.1.1"
HR_STORAGE_FIXED_DISK = "1.3.6.1.2.1.25.2.1.4"
HR_DEVICE_DISK_STORAGE = "1.3.6.1.2.1.25.3.1.6"
HR_STORAGE_ENTRY = HOST + (2, 3, 1)
HR_DEVICE_ENTRY = HOST + (3, 2, 1)
HR_DISK_STORAGE_ENTRY = HOST + (3, 6, 1)
IF_ENTRY = INTERFACES + (2, 1)
IFX_ENTRY = IF_MIB + (1, 1, 1)
IP_ADDR_ENTRY = IP_ADDR_TABLE + (1,)
DSK_ENTRY = DSK_TABLE + (1,)
DISKIO_ENTRY = DISKIO_TABLE + (1, 1)

# malformed answers the front end can give (Faults.malformed selects one)
WRONG_TYPE = "wrong_type"  # hrStorageAllocationUnits as a string
MISSING_COLUMN = "missing_column"  # no hrStorageUsed for volumes


@dataclasses.dataclass(frozen=True)
class Typed:
    """A cell value that overrides its column's kind (malformed answers)."""

    kind: str
    value: Any


@dataclasses.dataclass(frozen=True)
class Column:
    number: int
    kind: str
    value: Callable[[Any], Any]  # row -> value, or None when the cell is absent


class Table:
    """A conceptual table: fixed columns over rows sorted by their index (an OID suffix)."""

    def __init__(self, entry: Oid, columns: list[Column], rows: list[tuple[Oid, Any]]):
        self.entry = entry
        self.columns = sorted(columns, key=lambda c: c.number)
        rows = sorted(rows, key=lambda r: r[0])
        self._keys = [r[0] for r in rows]
        self._rows = [r[1] for r in rows]
        self.start = entry

    def get(self, oid: Oid):
        n = len(self.entry)
        if oid[:n] != self.entry or len(oid) < n + 2:
            return None
        col = next((c for c in self.columns if c.number == oid[n]), None)
        i = bisect.bisect_left(self._keys, oid[n + 1 :])
        if col is None or i == len(self._keys) or self._keys[i] != oid[n + 1 :]:
            return None
        return _cell(col, self._rows[i], oid)

    def next(self, oid: Oid):
        n = len(self.entry)
        if oid[:n] < self.entry:
            column_no, after = 0, None
        elif oid[:n] == self.entry:
            column_no = oid[n] if len(oid) > n else 0
            after = oid[n + 1 :] if len(oid) > n else None
        else:
            return None
        for col in self.columns:
            if col.number < column_no:
                continue
            start = bisect.bisect_right(self._keys, after) if col.number == column_no and after is not None else 0
            for i in range(start, len(self._keys)):
                found = _cell(col, self._rows[i], self.entry + (col.number,) + self._keys[i])
                if found is not None:
                    return found
        return None


class Scalar:
    def __init__(self, oid: Oid, kind: str, value: Callable[[], Any]):
        self.oid = oid + (0,)
        self.start = self.oid
        self.kind = kind
        self.value = value

    def get(self, oid: Oid):
        return _cell(Column(0, self.kind, lambda _: self.value()), None, oid) if oid == self.oid else None

    def next(self, oid: Oid):
        return self.get(self.oid) if self.oid > oid else None


def _cell(col: Column, row, oid: Oid):
    value = col.value(row)
    if value is None:
        return None
    if isinstance(value, Typed):
        return oid, value.kind, value.value
    return oid, col.kind, value


class MibView:
    """Every object served, in OID order; ``get``/``next`` answer ``(oid, kind, value)`` or None."""

    def __init__(self, objects: list):
        self.objects = sorted(objects, key=lambda o: o.start)

    def get(self, oid: Oid):
        for obj in self.objects:
            found = obj.get(oid)
            if found is not None:
                return found
        return None

    def next(self, oid: Oid, within: Oid = ()):
        """The first object after ``oid`` whose OID starts with ``within``."""
        for obj in self.objects:
            found = obj.next(oid)
            if found is not None:
                return found if found[0][: len(within)] == within else None
        return None


class Indexes:
    """Table indexes given out once per resource id and kept for the life of the front end."""

    def __init__(self, first: int = 1):
        self._by_id: dict[str, int] = {}
        self._next = first

    def __call__(self, resource_id: str) -> int:
        index = self._by_id.get(resource_id)
        if index is None:
            index = self._by_id[resource_id] = self._next
            self._next += 1
        return index


def allocation_unit(*sizes: int) -> int:
    """The smallest power of two from 4096 up with every ``size // unit`` inside Integer32."""
    unit = 4096
    while max(sizes) // unit > INT32_MAX:
        unit *= 2
    return unit


def _hex_octets(text: str | None) -> str | None:
    # "50:05:07:68:..." -> "50 05 07 68 ..." (pass_persist's octet notation)
    return " ".join(text.split(":")) if text else None


@dataclasses.dataclass
class _StorageRow:
    resource_id: str
    path: str
    device: str
    total: int
    used: int
    unit: int
    error: str  # empty when healthy
    is_volume: bool


class ViewContext:
    """Live inputs of a view: the array (clock, counters, identity) and the fault in force."""

    def __init__(self, array):
        self.array = array
        self.malformed: str | None = None
        self.counters64 = True  # False: an agent without the Counter64 columns

    def counters(self, resource_id: str):
        try:
            return self.array.counters(resource_id)
        except KeyError:  # gone since the view was built
            return None


class Builder:
    """Builds a MibView from a snapshot; holds the index allocators so indexes survive rebuilds."""

    def __init__(self):
        self.storage_index = Indexes(1)
        self.device_index = Indexes(393217)  # net-snmp numbers disk devices from (6 << 16) + 1
        self.diskio_index = Indexes(1)
        self.if_index = Indexes(1)

    def build(self, snap, ctx: ViewContext) -> MibView:
        return MibView(
            self._system(snap, ctx) + self._storage(snap, ctx) + self._disks(snap, ctx) + self._interfaces(snap, ctx)
        )

    def _system(self, snap, ctx: ViewContext) -> list:
        array = ctx.array
        memory_kb = sum(n.memory for n in snap.nodes) // 1024
        return [
            Scalar(
                SYSTEM + (1,), STRING, lambda: f"{array.vendor} {array.model} storage array, version {array.version}"
            ),
            Scalar(SYSTEM + (2,), OBJECTID, lambda: SYS_OBJECT_ID),
            Scalar(SYSTEM + (3,), TIMETICKS, lambda: int(array.clock * 100) % 2**32),
            Scalar(SYSTEM + (4,), STRING, lambda: ""),
            Scalar(SYSTEM + (5,), STRING, lambda: array.name),
            Scalar(SYSTEM + (6,), STRING, lambda: array.location),
            Scalar(SYSTEM + (7,), INTEGER, lambda: 72),
            Scalar(HOST + (2, 2), INTEGER, lambda: min(memory_kb, INT32_MAX)),
        ]

    def _storage(self, snap, ctx: ViewContext) -> list:
        pools = {p.id: p for p in snap.pools}
        rows: list[tuple[Oid, _StorageRow]] = []
        used_by_pool: dict[str, int] = {}
        for v in snap.volumes:
            used_by_pool[v.pool_id] = used_by_pool.get(v.pool_id, 0) + v.used
        for pool in sorted(snap.pools, key=lambda p: p.id):
            used = used_by_pool.get(pool.id, 0)
            row = _StorageRow(
                pool.id,
                f"/{pool.name}",
                f"/dev/mapper/{pool.name}",
                pool.total,
                used,
                allocation_unit(pool.total, used),
                "" if pool.status == "online" else f"/{pool.name}: pool {pool.status}",
                False,
            )
            rows.append(((self.storage_index(pool.id),), row))
        for vol in sorted(snap.volumes, key=lambda v: (getattr(v, "number", 0), v.id)):
            path = f"/{pools[vol.pool_id].name}/{vol.name}"
            row = _StorageRow(
                vol.id,
                path,
                f"/dev/disk/by-id/wwn-0x{vol.wwn}",
                vol.size,
                vol.used,
                allocation_unit(vol.size, vol.used),
                "" if vol.status == "online" else f"{path}: volume {vol.status}",
                True,
            )
            rows.append(((self.storage_index(vol.id),), row))

        def units(r):
            return Typed(STRING, "n/a") if ctx.malformed == WRONG_TYPE else r.unit

        def used(r):
            return None if ctx.malformed == MISSING_COLUMN and r.is_volume else r.used // r.unit

        kb = 1024
        hr_storage = Table(
            HR_STORAGE_ENTRY,
            [
                Column(1, INTEGER, lambda r: self.storage_index(r.resource_id)),
                Column(2, OBJECTID, lambda r: HR_STORAGE_FIXED_DISK),
                Column(3, STRING, lambda r: r.path),
                Column(4, INTEGER, units),
                Column(5, INTEGER, lambda r: r.total // r.unit),
                Column(6, INTEGER, used),
                Column(7, COUNTER, lambda r: 0),
            ],
            rows,
        )
        dsk = Table(
            DSK_ENTRY,
            [
                Column(1, INTEGER, lambda r: self.storage_index(r.resource_id)),
                Column(2, STRING, lambda r: r.path),
                Column(3, STRING, lambda r: r.device),
                Column(4, INTEGER, lambda r: -1),
                Column(5, INTEGER, lambda r: -1),
                Column(6, INTEGER, lambda r: min(r.total // kb, INT32_MAX)),
                Column(7, INTEGER, lambda r: min((r.total - r.used) // kb, INT32_MAX)),
                Column(8, INTEGER, lambda r: min(r.used // kb, INT32_MAX)),
                Column(9, INTEGER, lambda r: round(100 * r.used / r.total) if r.total else 0),
                Column(10, INTEGER, lambda r: 0),
                Column(11, GAUGE, lambda r: (r.total // kb) % 2**32),
                Column(12, GAUGE, lambda r: (r.total // kb) >> 32),
                Column(13, GAUGE, lambda r: ((r.total - r.used) // kb) % 2**32),
                Column(14, GAUGE, lambda r: ((r.total - r.used) // kb) >> 32),
                Column(15, GAUGE, lambda r: (r.used // kb) % 2**32),
                Column(16, GAUGE, lambda r: (r.used // kb) >> 32),
                Column(100, INTEGER, lambda r: 1 if r.error else 0),
                Column(101, STRING, lambda r: r.error),
            ],
            rows,
        )
        return [hr_storage, dsk]

    def _disks(self, snap, ctx: ViewContext) -> list:
        status = {"online": 2, "failed": 5, "offline": 4}
        disks = sorted(snap.disks, key=lambda d: d.id)
        rows = [((self.device_index(d.id),), d) for d in disks]
        device = Table(
            HR_DEVICE_ENTRY,
            [
                Column(1, INTEGER, lambda d: self.device_index(d.id)),
                Column(2, OBJECTID, lambda d: HR_DEVICE_DISK_STORAGE),
                Column(3, STRING, lambda d: d.name),
                Column(4, OBJECTID, lambda d: "0.0"),
                Column(5, INTEGER, lambda d: status.get(d.status, 1)),
                Column(6, COUNTER, lambda d: 0),
            ],
            rows,
        )
        disk_storage = Table(
            HR_DISK_STORAGE_ENTRY,
            [
                Column(1, INTEGER, lambda d: 1),  # readWrite
                Column(2, INTEGER, lambda d: 3 if d.kind == "hdd" else 1),  # hardDisk / other
                Column(3, INTEGER, lambda d: 2),  # not removable
                Column(4, INTEGER, lambda d: min(d.capacity // 1024, INT32_MAX)),
            ],
            rows,
        )
        # diskIO: disks first, then volumes in creation order (indexes stay once given)
        io_rows = [((self.diskio_index(d.id),), (d.id, d.name)) for d in disks]
        io_rows += [
            ((self.diskio_index(v.id),), (v.id, v.name))
            for v in sorted(snap.volumes, key=lambda v: (getattr(v, "number", 0), v.id))
        ]

        def counter(field: str, modulo: int):
            def value(row):
                c = None if modulo > 2**32 and not ctx.counters64 else ctx.counters(row[0])
                return None if c is None else getattr(c, field) % modulo

            return value

        def busy(row):
            c = ctx.counters(row[0])
            return None if c is None else (c.read_latency_us + c.write_latency_us) % 2**64

        diskio = Table(
            DISKIO_ENTRY,
            [
                Column(1, INTEGER, lambda r: self.diskio_index(r[0])),
                Column(2, STRING, lambda r: r[1]),
                Column(3, COUNTER, counter("read_bytes", 2**32)),
                Column(4, COUNTER, counter("write_bytes", 2**32)),
                Column(5, COUNTER, counter("read_ops", 2**32)),
                Column(6, COUNTER, counter("write_ops", 2**32)),
                Column(9, INTEGER, lambda r: 0),
                Column(10, INTEGER, lambda r: 0),
                Column(11, INTEGER, lambda r: 0),
                Column(12, COUNTER64, counter("read_bytes", 2**64)),
                Column(13, COUNTER64, counter("write_bytes", 2**64)),
                Column(14, COUNTER64, busy),
            ],
            io_rows,
        )
        return [device, disk_storage, diskio]

    def _interfaces(self, snap, ctx: ViewContext) -> list:
        ports = sorted(snap.ports, key=lambda p: p.id)
        rows = [((self.if_index(p.id),), p) for p in ports]

        def counter(field: str, modulo: int):
            def value(port):
                c = None if modulo > 2**32 and not ctx.counters64 else ctx.counters(port.id)
                return None if c is None else getattr(c, field) % modulo

            return value

        if_table = Table(
            IF_ENTRY,
            [
                Column(1, INTEGER, lambda p: self.if_index(p.id)),
                Column(2, STRING, lambda p: p.id),
                Column(3, INTEGER, lambda p: 56 if p.kind == "fc" else 6),  # fibreChannel / ethernetCsmacd
                Column(4, INTEGER, lambda p: 2112 if p.kind == "fc" else 1500),
                Column(5, GAUGE, lambda p: min(p.speed, 2**32 - 1)),
                Column(6, OCTET, lambda p: _hex_octets(p.wwn if p.kind == "fc" else p.mac) or Typed(STRING, "")),
                Column(7, INTEGER, lambda p: 1),
                Column(8, INTEGER, lambda p: 1 if p.status == "up" else 2),
                Column(9, TIMETICKS, lambda p: 0),
                Column(10, COUNTER, counter("write_bytes", 2**32)),
                Column(11, COUNTER, counter("write_ops", 2**32)),
                Column(13, COUNTER, lambda p: 0),
                Column(14, COUNTER, lambda p: 0),
                Column(16, COUNTER, counter("read_bytes", 2**32)),
                Column(17, COUNTER, counter("read_ops", 2**32)),
                Column(19, COUNTER, lambda p: 0),
                Column(20, COUNTER, lambda p: 0),
            ],
            rows,
        )
        ifx_table = Table(
            IFX_ENTRY,
            [
                Column(1, STRING, lambda p: p.name),
                Column(6, COUNTER64, counter("write_bytes", 2**64)),
                Column(7, COUNTER64, counter("write_ops", 2**64)),
                Column(10, COUNTER64, counter("read_bytes", 2**64)),
                Column(11, COUNTER64, counter("read_ops", 2**64)),
                Column(15, GAUGE, lambda p: p.speed // 10**6),
                Column(16, INTEGER, lambda p: 2),
                Column(17, INTEGER, lambda p: 1),
                Column(18, STRING, lambda p: ""),
                Column(19, TIMETICKS, lambda p: 0),
            ],
            rows,
        )
        addr_rows = [(tuple(int(x) for x in p.ipv4.split(".")), p) for p in ports if p.ipv4]
        ip_addr = Table(
            IP_ADDR_ENTRY,
            [
                Column(1, IPADDRESS, lambda p: p.ipv4),
                Column(2, INTEGER, lambda p: self.if_index(p.id)),
                Column(3, IPADDRESS, lambda p: p.ipv4_mask or "255.255.255.255"),
                Column(4, INTEGER, lambda p: 1),
                Column(5, INTEGER, lambda p: 65535),
            ],
            addr_rows,
        )
        return [Scalar(INTERFACES + (1,), INTEGER, lambda: len(ports)), if_table, ifx_table, ip_addr]


def format_answer(found) -> str:
    """``(oid, kind, value)`` as the three lines pass_persist expects (or ``NONE``)."""
    if found is None:
        return "NONE\n"
    oid, kind, value = found
    if kind == OBJECTID:
        value = "." + str(value).lstrip(".")
    text = str(value).replace("\r", " ").replace("\n", " ")
    return f".{'.'.join(map(str, oid))}\n{kind}\n{text}\n"


def parse_oid(text: str) -> Oid:
    """``".1.3.6.1"`` -> ``(1, 3, 6, 1)``; ValueError when it is not a numeric OID."""
    text = text.strip().strip(".")
    return tuple(int(part) for part in text.split(".")) if text else ()
