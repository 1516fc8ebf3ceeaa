"""Standard MIB tables -> sdk models (``generic snmp``): pure functions on hand-written walk results."""

import pytest

from delfin_like.sdk import exceptions, models
from delfin_like_drivers.generic import snmp_tables as t

FIXED = t.HR_STORAGE_FIXED_DISK
RAM = (1, 3, 6, 1, 2, 1, 25, 2, 1, 2)
GIB = 1024**3


def storage_table(rows: dict[int, tuple]) -> t.Table:
    """{index: (type, descr, units, size, used)} -> walked hrStorageTable (None: cell absent)."""
    col = t.columns(t.HR_STORAGE, t.HR_STORAGE_COLUMNS)
    table = {c: {} for c in col.values()}
    for index, cells in rows.items():
        for name, value in zip(("type", "descr", "units", "size", "used"), cells, strict=True):
            if value is not None:
                table[col[name]][(index,)] = value
    return table


def dsk_table(rows: dict[int, tuple]) -> t.Table:
    """{index: (path, device, error flag)} -> walked dskTable."""
    col = t.columns(t.DSK, t.DSK_COLUMNS)
    table = {c: {} for c in col.values()}
    for index, (path, device, flag) in rows.items():
        table[col["path"]][(index,)] = path.encode()
        table[col["device"]][(index,)] = device.encode()
        table[col["error"]][(index,)] = flag
    return table


AREAS = storage_table({
    1: (FIXED, b"/gold", 65536, 16 * 1024 * 1024, 3 * 16 * 1024),  # 1 TiB pool, 3 GiB used
    2: (FIXED, b"/gold/vol1", 4096, 2 * GIB // 4096, GIB // 4096),
    3: (FIXED, b"/gold/vol2", 4096, GIB // 4096, 2 * GIB // 4096 // 2),
    4: (RAM, b"Physical memory", 1024, 100, 50),  # not a fixed disk
    5: (FIXED, b"/", 4096, 10, 5),  # the root: no pool name
    6: (FIXED, b"/gold/a/b", 4096, 10, 5),  # too deep
    7: (FIXED, b"/silver", 4096, 100, 0),
    8: (FIXED, b"/bronze/orphan", 4096, 256, 128),  # a volume of a pool that is not listed
})  # fmt: skip


def test_parse_storage_finds_pools_and_volumes_by_path():
    areas = t.parse_storage(AREAS)
    assert sorted(areas.pools) == ["gold", "silver"]
    assert areas.pools["gold"].total == 1024**4 and areas.pools["gold"].used == 3 * GIB
    assert [(v.pool, v.name, v.total, v.used) for v in areas.volumes] == [
        ("gold", "vol1", 2 * GIB, GIB), ("gold", "vol2", GIB, GIB), ("bronze", "orphan", 1024**2, 512 * 1024),
    ]  # fmt: skip


def test_pools_and_volumes_take_status_and_wwn_from_dsk():
    areas = t.parse_storage(AREAS)
    dsk = t.parse_dsk(dsk_table({
        1: ("/gold", "/dev/mapper/gold", 1),
        2: ("/gold/vol1", "/dev/disk/by-id/wwn-0x600A0980ABCDEF", 0),
        3: ("/gold/vol2", "/dev/sdb", 1),
    }))  # fmt: skip
    dsk["/gold"].message = "/gold: pool degraded"
    pools = {p.native_storage_pool_id: p for p in t.pools(areas, dsk)}
    assert pools["gold"].status == models.StoragePoolStatus.DEGRADED
    assert pools["gold"].subscribed_capacity == 3 * GIB and pools["gold"].free_capacity == 1024**4 - 3 * GIB
    assert pools["silver"].status == models.StoragePoolStatus.UNKNOWN  # no dskTable row
    volumes = {v.native_volume_id: v for v in t.volumes(areas, dsk)}
    assert volumes["gold/vol1"].wwn == "600a0980abcdef" and volumes["gold/vol1"].status == "available"
    assert volumes["gold/vol2"].wwn is None and volumes["gold/vol2"].status == "error"
    assert volumes["bronze/orphan"].native_storage_pool_id is None and volumes["bronze/orphan"].status == "unknown"
    assert all(v.type == models.VolumeType.THICK for v in volumes.values())
    for message, status in (("offline", "offline"), ("", "abnormal"), ("less than 10% free", "abnormal")):
        dsk["/gold"].message = message
        assert t.pool_status(dsk["/gold"]) == status


@pytest.mark.parametrize(
    "cells, words",
    [
        ((FIXED, b"/p/v", 4096, 10, None), "has no hrStorageUsed"),
        ((FIXED, b"/p/v", None, 10, 1), "has no hrStorageAllocationUnits"),
        ((FIXED, b"/p/v", b"n/a", 10, 1), "hrStorageAllocationUnits of hrStorage row 9 (/p/v) is not an integer"),
        ((FIXED, b"/p/v", 0, 10, 1), "below 1"),
        ((FIXED, b"/p/v", 4096, -1, 1), "below 0"),
        ((FIXED, 42, 4096, 10, 1), "hrStorageDescr of hrStorage row 9 is not a string"),
        ((b"x", b"/p/v", 4096, 10, 1), "not an OBJECT IDENTIFIER"),
    ],
)
def test_malformed_storage_rows_are_backend_errors(cells, words):
    with pytest.raises(exceptions.BackendError, match=words.replace("(", r"\(").replace(")", r"\)")):
        t.parse_storage(storage_table({9: cells}))


def test_a_pool_listed_twice_is_an_error():
    with pytest.raises(exceptions.BackendError, match="listed twice"):
        t.parse_storage(storage_table({1: (FIXED, b"/p", 4096, 1, 0), 2: (FIXED, b"/p", 4096, 2, 0)}))


def test_storage_adds_up_the_tables_and_reads_the_system_group():
    system = {
        t.SYS_NAME: b"array-7",
        t.SYS_DESCR: b"NetApp Release 9.13.1P2: Mon Jan 1 2024",
        t.SYS_OBJECT_ID: (1, 3, 6, 1, 4, 1, 789, 2, 5),
        t.SYS_LOCATION: b"",
    }
    disks = [models.Disk("d1", "d1", capacity=4 * 1024**4), models.Disk("d2", "d2", capacity=1024)]
    got = t.storage(system, t.parse_storage(AREAS), disks, {})
    assert (got.name, got.serial_number, got.vendor, got.model) == (
        "array-7",
        "array-7",
        "NetApp",
        "1.3.6.1.4.1.789.2.5",
    )
    assert got.firmware_version == "9.13.1P2" and got.location is None
    assert got.total_capacity == 1024**4 + 100 * 4096 and got.used_capacity == 3 * GIB
    assert got.subscribed_capacity == 3 * GIB + 1024**2 and got.raw_capacity == 4 * 1024**4 + 1024
    got = t.storage(system, t.parse_storage({}), [], {"serial_number": "SN1", "vendor": "V", "model": "M"})
    assert (got.serial_number, got.vendor, got.model, got.total_capacity) == ("SN1", "V", "M", 0)
    with pytest.raises(exceptions.BackendError, match="no sysName"):
        t.storage({}, t.parse_storage({}), [], {})


@pytest.mark.parametrize(
    "object_id, vendor",
    [((1, 3, 6, 1, 4, 1, 8072, 3, 2, 10), "Net-SNMP"), ((1, 3, 6, 1, 4, 1, 99999, 1), "enterprise 99999"),
     ((1, 3, 6, 1, 2, 1), "unknown"), (None, "unknown"), (b"1.3", "unknown")],
)  # fmt: skip
def test_enterprise_name(object_id, vendor):
    assert t.enterprise_name(object_id) == vendor


@pytest.mark.parametrize(
    "description, version",
    [("Simulated SimArray 9000 storage array, version 9.14.1", "9.14.1"), ("NetApp Release 9.8: x", "9.8"),
     ("Firmware: V7.2-1", "7.2-1"), ("Linux host 5.10.0-21-amd64 #1 SMP", None), (None, None)],
)  # fmt: skip
def test_firmware_version(description, version):
    assert t.firmware_version(description) == version


def test_disks_from_hr_device_with_saturated_capacity():
    dev = t.columns(t.HR_DEVICE, t.HR_DEVICE_COLUMNS)
    processor = (1, 3, 6, 1, 2, 1, 25, 3, 1, 3)
    device = {
        dev["type"]: {(1,): processor, (2,): t.HR_DEVICE_DISK_STORAGE, (3,): t.HR_DEVICE_DISK_STORAGE,
                      (4,): t.HR_DEVICE_DISK_STORAGE},
        dev["descr"]: {(1,): b"cpu", (2,): b"drive0", (3,): b"drive1"},
        dev["status"]: {(1,): 2, (2,): 2, (3,): 5, (4,): 4},
    }  # fmt: skip
    disks = t.parse_disks(device, {(2,): 2**31 - 1, (3,): 1024})
    assert [(d.native_disk_id, d.status, d.capacity) for d in disks] == [
        ("drive0", "normal", (2**31 - 1) * 1024), ("drive1", "abnormal", 1024**2), ("hrDevice.4", "offline", 0),
    ]  # fmt: skip
    with pytest.raises(exceptions.BackendError, match="hrDiskStorageCapacity of hrDevice row 2"):
        t.parse_disks(device, {(2,): b"big"})


def test_ports_from_if_mib_and_ip_mib():
    col, xcol, acol = (t.columns(t.IF, t.IF_COLUMNS), t.columns(t.IFX, t.IFX_COLUMNS),
                       t.columns(t.IP_ADDR, t.IP_ADDR_COLUMNS))  # fmt: skip
    wwpn, mac = bytes.fromhex("500507680100abcd"), bytes.fromhex("0200000100e6")
    if_table = {
        col["descr"]: {(1,): b"lo", (2,): b"node-1:fc0", (3,): b"node-1:e0a", (4,): b"tunnel0"},
        col["type"]: {(1,): 24, (2,): 56, (3,): 6, (4,): 131},
        col["speed"]: {(2,): 2**32 - 1, (3,): 10**9, (4,): 0},
        col["phys"]: {(2,): wwpn, (3,): mac, (4,): b""},
        col["admin"]: {(2,): 1, (3,): 1, (4,): 2},
        col["oper"]: {(2,): 1, (3,): 2, (4,): 2},
    }
    ifx = {xcol["name"]: {(2,): b"fc0", (3,): b"e0a"}, xcol["high_speed"]: {(2,): 32000, (3,): 0}}
    addresses = {acol["if_index"]: {(198, 51, 100, 10): 3, (10, 0, 0, 1): 99},
                 acol["mask"]: {(198, 51, 100, 10): "255.255.255.0"}}  # fmt: skip
    ports = {p.native_port_id: p for p in t.parse_ports(if_table, ifx, addresses)}
    assert sorted(ports) == ["node-1:e0a", "node-1:fc0", "tunnel0"]  # the loopback is left out
    fc, eth, tunnel = ports["node-1:fc0"], ports["node-1:e0a"], ports["tunnel0"]
    assert (fc.name, fc.type, fc.speed, fc.wwn, fc.mac_address) == ("fc0", "fc", 32 * 10**9, "50:05:07:68:01:00:ab:cd",
                                                                     None)  # fmt: skip
    assert (fc.connection_status, fc.health_status, fc.ipv4) == ("connected", "normal", None)
    assert (eth.type, eth.speed, eth.mac_address) == ("eth", 10**9, "02:00:00:01:00:e6")
    assert (eth.ipv4, eth.ipv4_mask) == ("198.51.100.10", "255.255.255.0")
    assert (eth.connection_status, eth.health_status) == ("disconnected", "abnormal")
    assert (tunnel.type, tunnel.name, tunnel.speed, tunnel.health_status) == ("other", "tunnel0", None, "unknown")
    if_table[col["type"]][(2,)] = b"56"
    with pytest.raises(exceptions.BackendError, match="ifType of ifTable row 2"):
        t.parse_ports(if_table, ifx, addresses)
