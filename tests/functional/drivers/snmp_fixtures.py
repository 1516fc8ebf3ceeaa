"""Fixtures of the ``generic snmp`` tests: Debian's snmpd serving a simulated array on loopback.

The package's conftest.py makes the fixtures available to every module of it.
snmpd must be installed (``apt-get install -y snmpd``; ``tools/run-tests.sh`` does it as
root): without it the tests skip, and with ``CI=true`` they fail.

:func:`expected_inventory` is what SNMP can express of the model, written from the model and
the standard MIBs' limits, not from the driver's code: volumes are hrStorage entries
``/<pool>/<volume>`` (native id ``<pool>/<volume>``, thick, WWN from dskDevice), pools are
entries ``/<pool>``, disks carry only name, status and a capacity saturated at
hrDiskStorageCapacity's Integer32 of KB, ports come from IF-MIB and IP-MIB, and there are
no controllers.
"""

import pytest

from delfin_like_drivers.simulator.model import SimulatedArray, Snapshot
from delfin_like_drivers.simulator.snmp import SnmpFrontEnd, access_block, find_snmpd
from tests import services

COMMUNITY = "sim-community-0001"
V3_USER = "sim-monitor"
V3_AUTH_KEY = "Sim-auth-key-0001"
V3_PRIV_KEY = "Sim-priv-key-0001"
VENDOR = "Example (RFC 5612)"  # the enterprise of the simulator's sysObjectID
MODEL = "1.3.6.1.4.1.32473.1.1"
_KB_MAX = 2**31 - 1  # hrDiskStorageCapacity is an Integer32 of KB


def require_snmpd() -> str:
    """The snmpd binary; skips the test without it (fails it with ``CI=true``)."""
    binary = find_snmpd()
    if binary is None:
        message = "snmpd is not installed (apt-get install -y snmpd)"
        if services.IN_CI:
            pytest.fail(message + " (CI=true: the SNMP agent is required)")
        pytest.skip(message)
    return binary


@pytest.fixture
def snmp_array() -> SimulatedArray:
    """Three pools, 60 volumes, two nodes (each 2 FC + 2 Ethernet ports), 10 disks (one spare)."""
    return SimulatedArray(name="snmp-sim", pools=3, volumes=60, nodes=2, disks_per_pool=3, seed=5)


@pytest.fixture
def snmp_sim(snmp_array, tmp_path):
    """``snmp_array`` behind snmpd on a free loopback port: v2c ``COMMUNITY`` and the v3 authPriv user."""
    require_snmpd()
    front = SnmpFrontEnd(
        snmp_array,
        community=COMMUNITY,
        v3_user=V3_USER,
        v3_auth_key=V3_AUTH_KEY,
        v3_priv_key=V3_PRIV_KEY,
        state_dir=str(tmp_path / "snmp-sim"),
    ).start()
    yield front
    front.stop()


def snmp_body(front: SnmpFrontEnd, version: str = "2c", extra_attributes: dict | None = None, **changes) -> dict:
    """A registration body for ``generic snmp`` reaching ``front``; ``changes`` replace keys of the snmp block."""
    block = access_block(front, version)
    block.update(changes)
    body = {"vendor": "generic", "model": "snmp", "snmp": block}
    if extra_attributes:
        body["extra_attributes"] = extra_attributes
    return body


def expected_inventory(snap: Snapshot, serial: str | None = None, vendor: str = VENDOR, model: str = MODEL) -> dict:
    """What the database must hold after a sync of ``snap`` (see the module docstring)."""
    pools = {p.id: p for p in snap.pools}
    used = {p.id: 0 for p in snap.pools}
    subscribed = {p.id: 0 for p in snap.pools}
    for v in snap.volumes:
        used[v.pool_id] += v.used
        subscribed[v.pool_id] += v.size
    disk_capacity = {d.id: min(d.capacity // 1024, _KB_MAX) * 1024 for d in snap.disks}
    total = sum(p.total for p in snap.pools)
    storage = {
        "name": snap.name,
        "vendor": vendor,
        "model": model,
        "serial_number": serial or snap.name,
        "status": "normal",
        "firmware_version": snap.version,
        "location": snap.location,
        "description": f"{snap.vendor} {snap.model} storage array, version {snap.version}",
        "raw_capacity": sum(disk_capacity.values()),
        "total_capacity": total,
        "used_capacity": sum(used.values()),
        "free_capacity": total - sum(used.values()),
        "subscribed_capacity": sum(subscribed.values()),
    }
    storage_pools = {
        p.name: {
            "name": p.name,
            "status": {"online": "normal"}.get(p.status, p.status),
            "storage_type": "block",
            "total_capacity": p.total,
            "used_capacity": used[p.id],
            "free_capacity": p.total - used[p.id],
            "subscribed_capacity": subscribed[p.id],
            "description": None,
        }
        for p in snap.pools
    }
    volumes = {
        f"{pools[v.pool_id].name}/{v.name}": {
            "name": v.name,
            "native_storage_pool_id": pools[v.pool_id].name,
            "status": "available" if v.status == "online" else "error",
            "type": "thick",
            "wwn": v.wwn,
            "total_capacity": v.size,
            "used_capacity": v.used,
            "free_capacity": v.size - v.used,
            "compressed": None,
            "deduplicated": None,
            "description": None,
        }
        for v in snap.volumes
    }
    ports = {}
    for p in snap.ports:
        fc, up = p.kind == "fc", p.status == "up"
        ports[p.id] = {
            "name": p.name,
            "type": "fc" if fc else "eth",
            "logical_type": None,
            "connection_status": "connected" if up else "disconnected",
            "health_status": "normal" if up else "abnormal",  # down while administratively up
            "location": None,
            "speed": p.speed,
            "max_speed": None,
            "native_parent_id": None,
            "wwn": p.wwn if fc else None,
            "mac_address": None if fc else p.mac,
            "ipv4": p.ipv4,
            "ipv4_mask": p.ipv4_mask if p.ipv4 else None,
            "ipv6": None,
            "ipv6_mask": None,
        }
    disks = {
        d.name: {
            "name": d.name,
            "status": {"online": "normal", "failed": "abnormal", "offline": "offline"}[d.status],
            "physical_type": "unknown",
            "logical_type": "unknown",
            "capacity": disk_capacity[d.id],
            "location": None,
            "firmware": None,
            "manufacturer": None,
            "model": None,
            "serial_number": None,
            "speed": None,
            "health_score": None,
            "native_disk_group_id": None,
        }
        for d in snap.disks
    }
    return {
        "storage": storage,
        "storage-pools": storage_pools,
        "volumes": volumes,
        "controllers": {},
        "ports": ports,
        "disks": disks,
    }
