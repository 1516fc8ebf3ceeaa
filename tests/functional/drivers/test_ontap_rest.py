"""``netapp ontap_rest`` through the real platform against the simulator's REST front end on loopback.

Registration and syncs go through the API and the task manager; the database (read back through
the API) must equal what the simulator's model says, field for field, before and after churn.
Each fault leaves a FAILED task with a clear error and the inventory exactly as the last good sync
left it.
"""

import pytest

from delfin_like_drivers.simulator.model import Snapshot
from delfin_like_drivers.simulator.rest import RestFrontEnd, disk_uid, ontap_uuid
from tests.functional.drivers.conftest import REST_PASSWORD, ontap_body, restart_on_the_same_port, slow_peer

pytestmark = pytest.mark.services

_POOL_STATUS = {"online": "normal", "offline": "offline", "degraded": "degraded"}
_DISK_TYPE = {"ssd": "ssd", "nvme": "nvme", "hdd": "nl-sas"}


def expected_inventory(snap: Snapshot) -> dict[str, dict]:
    """What the database must hold for ``snap``, written from the model (not from the driver's code)."""
    used = {p.id: 0 for p in snap.pools}
    for v in snap.volumes:
        used[v.pool_id] += v.used
    nodes = {n.id: n for n in snap.nodes}
    up = sum(n.status == "online" for n in snap.nodes)
    storage = {
        "name": snap.name,
        "vendor": "NetApp",
        "model": snap.model,
        "serial_number": ontap_uuid(snap.serial),
        "status": "normal" if up == len(nodes) else ("degraded" if up else "offline"),
        "firmware_version": snap.version,
        "location": snap.location,
        "description": None,
        "raw_capacity": snap.raw,
        "total_capacity": snap.total,
        "used_capacity": snap.used,
        "free_capacity": sum(max(0, p.total - used[p.id]) for p in snap.pools),
        "subscribed_capacity": 0,
    }
    pools = {
        ontap_uuid(p.id): {
            "name": p.name,
            "status": _POOL_STATUS[p.status],
            "storage_type": "unified",
            "total_capacity": p.total,
            "used_capacity": used[p.id],
            "free_capacity": max(0, p.total - used[p.id]),
            "subscribed_capacity": 0,
            "description": None,
        }
        for p in snap.pools
    }
    volumes = {
        v.id: {
            "native_storage_pool_id": ontap_uuid(v.pool_id),
            "name": v.name,
            "status": "available" if v.status == "online" else "error",
            "type": "thin" if v.thin else "thick",
            "wwn": None,
            "total_capacity": v.size,
            "used_capacity": v.used,
            "free_capacity": v.size - v.used,
            "compressed": None,
            "deduplicated": None,
            "description": None,
        }
        for v in snap.volumes
    }
    controllers = {
        ontap_uuid(n.id): {
            "name": n.name,
            "status": "normal" if n.status == "online" else "offline",
            "location": n.location,
            "soft_version": n.version,
            "cpu_info": None,
            "cpu_count": n.cpu_count,
            "memory_size": n.memory,
            "mgmt_ip": n.mgmt_ip,
        }
        for n in snap.nodes
    }
    ports = {}
    for p in snap.ports:
        fc, up_ = p.kind == "fc", p.status == "up"
        ports[ontap_uuid(p.id)] = {
            "name": p.name,
            "location": f"{nodes[p.node_id].name}:{p.name}",
            "connection_status": "connected" if up_ else "disconnected",
            "health_status": "normal",
            "type": "fc" if fc else "eth",
            "logical_type": "frontend" if fc else None,
            "speed": p.speed if (up_ or not fc) else None,
            "max_speed": p.speed if fc else None,
            "native_parent_id": ontap_uuid(p.node_id),
            "wwn": p.wwn if fc else None,
            "mac_address": None if fc else p.mac,
            "ipv4": None,
            "ipv4_mask": None,
            "ipv6": None,
            "ipv6_mask": None,
        }
    disks = {}
    for d in snap.disks:
        failed = d.status == "failed"
        disks[disk_uid(d.id)] = {
            "name": d.name,
            "physical_type": _DISK_TYPE[d.kind],
            "logical_type": "unknown" if failed else ("member" if d.pool_id else "hotspare"),
            "status": {"failed": "abnormal", "offline": "offline"}.get(d.status, "normal"),
            "location": f"shelf 1 bay {int(d.id.split('-')[1])}",
            "capacity": d.capacity,
            "firmware": d.firmware,
            "manufacturer": d.vendor,
            "model": d.model,
            "serial_number": d.serial,
            "speed": d.rpm,
            "health_score": None,
            "native_disk_group_id": ontap_uuid(d.pool_id) if d.pool_id else None,
        }
    return {
        "storage": storage,
        "storage-pools": pools,
        "volumes": volumes,
        "controllers": controllers,
        "ports": ports,
        "disks": disks,
    }


def _register_and_sync(platform, rest_sim, **options) -> tuple[dict, Snapshot]:
    """Register (paging by 40 records unless told otherwise), wait for the first sync; returns it and the model."""
    options.setdefault("page_size", 40)
    return platform.register_and_sync(ontap_body(rest_sim, **options)), rest_sim.array.snapshot()


@pytest.mark.parametrize("platform", ["postgresql_db", "mysql_db"], indirect=True)
def test_sync_matches_the_model_before_and_after_churn(platform, rest_sim, sim_array):
    storage, snap = _register_and_sync(platform, rest_sim)
    assert REST_PASSWORD not in str(storage)
    assert storage["serial_number"] == ontap_uuid(sim_array.serial) and storage["vendor"] == "NetApp"
    platform.assert_inventory(storage["id"], expected_inventory(snap))
    caps = platform.api.get(f"/v1/storages/{storage['id']}/capabilities").json["capabilities"]
    assert caps["resource_metrics"]["volume"]["iops"]["unit"] == "ops/s" and "disk" not in caps["resource_metrics"]

    statuses = [("disks", "disk-0003", "failed"), ("ports", "node-2:fc1", "down"), ("nodes", "node-2", "offline")]
    platform.churn_and_resync(storage["id"], sim_array, snap, statuses, expected_inventory)


def test_registration_refuses_a_wrong_password_and_an_untrusted_certificate(platform, rest_sim, tmp_path):
    resp = platform.register(ontap_body(rest_sim, password="not-the-password"), status=400)
    assert resp["error_code"] == "InvalidCredentials" and "not-the-password" not in str(resp)
    # no CA given: the system's CAs do not know the simulator's
    resp = platform.register(ontap_body(rest_sim, ca_file=None), status=400)
    assert resp["error_code"] == "BackendUnreachable" and "certificate" in resp["error_msg"]
    # another simulator's CA does not vouch for this one
    other = RestFrontEnd(rest_sim.array, state_dir=str(tmp_path / "other")).start()
    try:
        resp = platform.register(ontap_body(rest_sim, ca_file=other.ca_file), status=400)
    finally:
        other.stop()
    assert resp["error_code"] == "BackendUnreachable"
    resp = platform.register(ontap_body(rest_sim, verify="yes"), status=400)
    assert resp["error_code"] == "InvalidAccessInfo" and "rest.verify" in resp["error_msg"]
    assert platform.api.get("/v1/storages").json["storages"] == []
    assert platform.api.get("/v1/tasks").json["tasks"] == []


def _rotate_password(rest_sim, tmp_path):
    rest_sim.password = "rotated-on-the-array"
    return "The back end rejected the credentials: the array refused the user name or password"


def _replace_certificate(rest_sim, tmp_path):
    # the array comes back on the same port with a certificate from a CA nobody told us about
    restart_on_the_same_port(rest_sim, str(tmp_path / "new-ca"))
    return "TLS certificate could not be verified"


def _close_mid_listing(rest_sim, tmp_path):
    # pages of 40: the third page of volumes is cut short and the connection closed
    rest_sim.array.faults["rest"].drop_after = 100
    return "closed the connection in the middle of a response"


def _too_slow(rest_sim, tmp_path):
    return slow_peer(rest_sim.array, "rest")  # the driver's read timeout or the task manager's deadline


def _malformed(rest_sim, tmp_path):
    rest_sim.array.faults["rest"].malformed = True
    return "not valid JSON"


@pytest.mark.parametrize("fault", [_rotate_password, _replace_certificate, _close_mid_listing, _too_slow, _malformed])
def test_a_failed_sync_writes_nothing(platform, rest_sim, sim_array, tmp_path, fault):
    storage, before = _register_and_sync(platform, rest_sim)
    sim_array.churn(created=5, resized=5, deleted=5)
    message = fault(rest_sim, tmp_path)

    platform.failed_sync(storage["id"], message, secret=REST_PASSWORD)
    # nothing half-written: the inventory is the one of the last good sync
    platform.assert_inventory(storage["id"], expected_inventory(before))


def test_a_failed_sync_is_recovered_by_the_next_one(platform, rest_sim, sim_array):
    storage, _ = _register_and_sync(platform, rest_sim)
    platform.recovers_from_a_cut_sync(storage["id"], sim_array, "rest", 60, expected_inventory)


def test_access_info_put_merges_refuses_unused_protocols_and_removes_a_block(platform, rest_sim):
    storage, _ = _register_and_sync(platform, rest_sim)
    path = f"/v1/storages/{storage['id']}/access-info"
    # a rest block without ca_cert (or password) keeps the stored ones: the next probe and sync still trust the array
    changed = platform.api.put_json(path, {"rest": {"host": "127.0.0.1", "port": rest_sim.port, "page_size": 25}})
    assert changed.json["access_info"]["rest"]["page_size"] == 25
    assert "BEGIN CERTIFICATE" in changed.json["access_info"]["rest"]["ca_cert"]
    assert platform.sync(storage["id"])["status"] == "COMPLETED"
    before = platform.api.get(path).json
    # ontap_rest reads only the rest block: an ssh one is refused, naming what the driver uses
    ssh = {"host": "127.0.0.1", "port": 22, "username": "admin", "password": "pw-not-shown"}
    resp = platform.api.put_json(path, {"ssh": ssh}, status=400).json
    assert resp["error_code"] == "AccessProtocolNotUsed"
    assert "reached over rest only" in resp["error_msg"] and "ssh" in resp["error_msg"]
    body = {**ontap_body(rest_sim), "ssh": ssh}
    assert platform.register(body, status=400)["error_code"] == "AccessProtocolNotUsed"
    # removing the only block leaves nothing to reach the array by
    assert platform.api.put_json(path, {"rest": None}, status=400).json["error_code"] == "InvalidInput"
    assert platform.api.get(path).json == before
