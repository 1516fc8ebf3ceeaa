"""``ibm svc_ssh`` through the real platform against the simulator's SSH CLI on loopback.

Registration and syncs go through the API and the task manager; the database (read back through
the API) must equal what the simulator's model says, field for field, before and after churn.
Each fault leaves a FAILED task with a clear error and the inventory exactly as the last good sync
left it. The last tests talk to the SSH front end directly with paramiko.
"""

import dataclasses
import logging
import socket
import time

import paramiko
import pytest

from delfin_like_drivers.simulator.model import SimulatedArray, Snapshot
from tests.functional.drivers.conftest import restart_on_the_same_port, slow_peer
from tests.functional.drivers.ssh_fixtures import KEY_PASSPHRASE, SSH_PASSWORD, SSH_USER, svc_body

pytestmark = pytest.mark.services

_POOL_STATUS = {"online": "normal", "offline": "offline", "degraded": "degraded"}
_DISK_TYPE = {"ssd": "ssd", "nvme": "nvme", "hdd": "nl-sas"}


def _no(resource_id: str) -> str:
    """The SVC object id of a model resource (``pool-0002`` -> ``2``)."""
    return str(int(resource_id.rsplit("-", 1)[1]))


def expected_inventory(snap: Snapshot) -> dict[str, dict]:
    """What the database must hold for ``snap``, written from the model (not from the driver's code)."""
    used, subscribed = {p.id: 0 for p in snap.pools}, {p.id: 0 for p in snap.pools}
    for v in snap.volumes:
        used[v.pool_id] += v.used
        subscribed[v.pool_id] += v.size
    nodes = {n.id: n for n in snap.nodes}
    up = sum(n.status == "online" for n in snap.nodes)
    storage = {
        "name": snap.name, "vendor": "IBM", "model": snap.model, "serial_number": snap.serial,
        "status": "normal" if up == len(nodes) else ("degraded" if up else "offline"),
        "firmware_version": snap.version, "location": None, "description": None, "raw_capacity": snap.raw,
        "total_capacity": snap.total, "used_capacity": snap.used, "free_capacity": snap.total - snap.used,
        "subscribed_capacity": sum(subscribed.values()),
    }  # fmt: skip
    pools = {
        _no(p.id): {
            "name": p.name,
            "status": _POOL_STATUS[p.status],
            "storage_type": "block",
            "total_capacity": p.total,
            "used_capacity": used[p.id],
            "free_capacity": p.total - used[p.id],
            "subscribed_capacity": subscribed[p.id],
            "description": None,
        }  # fmt: skip
        for p in snap.pools
    }
    volumes = {
        str(v.number): {
            "native_storage_pool_id": _no(v.pool_id),
            "name": v.name,
            "status": "available" if v.status == "online" else "error",
            "type": "thin" if v.thin else "thick",
            "wwn": v.wwn,
            "total_capacity": v.size,
            "used_capacity": v.used,
            "free_capacity": v.size - v.used,
            "compressed": False,
            "deduplicated": False,
            "description": None,
        }  # fmt: skip
        for v in snap.volumes
    }
    controllers = {
        _no(n.id): {
            "name": n.name,
            "status": "normal" if n.status == "online" else "offline",
            "location": f"enclosure 1, canister {_no(n.id)}",
            "soft_version": n.version,
            "cpu_info": f"{n.cpu_count} core Simulated(R) CPU @ 2.40GHz",
            "cpu_count": n.cpu_count,
            "memory_size": n.memory,
            "mgmt_ip": n.mgmt_ip,
        }  # fmt: skip
        for n in snap.nodes
    }
    ports = {}
    for p in snap.ports:
        fc, up_, node = p.kind == "fc", p.status == "up", nodes[p.node_id]
        index = int(p.name[-1]) if fc else "ab".index(p.name[-1])
        native = f"fc-{(int(_no(node.id)) - 1) * 8 + index}" if fc else f"eth-{_no(node.id)}-{index + 1}"
        ports[native] = {
            "name": f"{node.name}_{'fc' if fc else 'eth'}{index + 1}",
            "location": f"{node.name}, adapter 1 port {index + 1}",
            "connection_status": "connected" if up_ else "disconnected", "health_status": "normal",
            "type": "fc" if fc else "eth", "logical_type": "frontend", "speed": p.speed if up_ else None,
            "max_speed": None, "native_parent_id": _no(node.id), "wwn": p.wwn if fc else None,
            "mac_address": None if fc else p.mac, "ipv4": None if fc else p.ipv4,
            "ipv4_mask": None if fc else p.ipv4_mask, "ipv6": None, "ipv6_mask": None,
        }  # fmt: skip
    disks = {
        _no(d.id): {
            "name": f"drive{_no(d.id)}",
            "physical_type": _DISK_TYPE[d.kind],
            "logical_type": "unknown" if d.status == "failed" else ("member" if d.pool_id else "hotspare"),
            "status": {"failed": "abnormal", "offline": "offline"}.get(d.status, "normal"),
            "location": f"enclosure 1, slot {_no(d.id)}",
            "capacity": d.capacity,
            "firmware": d.firmware,
            "manufacturer": d.vendor,
            "model": d.model,
            "serial_number": d.serial,
            "speed": d.rpm,
            "health_score": None,
            "native_disk_group_id": _no(d.pool_id) if d.pool_id else None,
        }  # fmt: skip
        for d in snap.disks
    }
    return {"storage": storage, "storage-pools": pools, "volumes": volumes, "controllers": controllers,
            "ports": ports, "disks": disks}  # fmt: skip


def _register_and_sync(platform, front, **ssh) -> tuple[dict, Snapshot]:
    return platform.register_and_sync(svc_body(front, **ssh)), front.array.snapshot()


@pytest.mark.parametrize("platform", ["postgresql_db", "mysql_db"], indirect=True)
def test_sync_matches_the_model_before_and_after_churn(platform, ssh_sim, svc_array):
    storage, snap = _register_and_sync(platform, ssh_sim)
    assert SSH_PASSWORD not in str(storage)
    assert (storage["serial_number"], storage["vendor"], storage["model"]) == (svc_array.serial, "IBM", snap.model)
    platform.assert_inventory(storage["id"], expected_inventory(snap))
    caps = platform.api.get(f"/v1/storages/{storage['id']}/capabilities").json["capabilities"]
    # the simulator serves lsiostatscounters: its metrics are declared (see test_perf_svc_ssh.py)
    assert set(caps["resource_metrics"]) == {"storage", "storage_pool", "volume", "controller", "port", "disk"}
    assert caps["is_historic"] is False

    statuses = [
        ("disks", "disk-0003", "failed"),
        ("disks", "disk-0004", "offline"),
        ("ports", "node-2:fc1", "down"),
        ("ports", "node-1:e0b", "up"),
        ("pools", "pool-0001", "degraded"),
        ("nodes", "node-2", "offline"),
    ]
    platform.churn_and_resync(storage["id"], svc_array, snap, statuses, expected_inventory)


def test_public_key_logins_work_without_any_password(platform, start_ssh_sim, ed25519_key, rsa_key, caplog):
    caplog.set_level(logging.DEBUG)
    # front ends that accept keys only (each its own array: one serial registers once)
    for seed, key, password in ((21, ed25519_key, None), (22, rsa_key, KEY_PASSPHRASE)):
        array = SimulatedArray(name=f"svc-key-{seed}", pools=2, volumes=30, seed=seed)
        front = start_ssh_sim(f"key-{seed}", array=array, password=None, authorized_keys=[key.public])
        storage, snap = _register_and_sync(platform, front, private_key=key.private, password=password)
        platform.assert_inventory(storage["id"], expected_inventory(snap))
        for text in (str(storage), platform.api.get(f"/v1/storages/{storage['id']}/access-info").text, caplog.text):
            assert "PRIVATE KEY" not in text and KEY_PASSPHRASE not in text and key.private[40:80] not in text


def test_the_host_key_can_come_from_a_known_hosts_file(platform, ssh_sim, tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{ssh_sim.port} {ssh_sim.host_key_line}\n")
    storage, snap = _register_and_sync(platform, ssh_sim, host_key=None, known_hosts=str(known))
    platform.assert_inventory(storage["id"], expected_inventory(snap))


def test_registration_refusals_are_clear_and_write_nothing(platform, ssh_sim, start_ssh_sim, tmp_path, rsa_key):
    other = start_ssh_sim("other-array")
    cases = [
        (svc_body(ssh_sim, password="not-the-password"), "InvalidCredentials", "refused the login of user"),
        (svc_body(ssh_sim, host_key=other.host_key_line), "InvalidAccessInfo", "does not match the recorded one"),
        (svc_body(ssh_sim, host_key=None), "InvalidAccessInfo", "needs the array's host key"),
        (svc_body(ssh_sim, host_key="ssh-ed25519 garbage"), "InvalidAccessInfo", "not an OpenSSH public key line"),
        (svc_body(ssh_sim, password=None, private_key=rsa_key.private), "InvalidAccessInfo", "is encrypted"),
    ]
    for body, code, message in cases:
        resp = platform.register(body, status=400)
        assert resp["error_code"] == code and message in resp["error_msg"], resp
        assert "not-the-password" not in str(resp) and "PRIVATE KEY" not in str(resp)
    assert platform.api.get("/v1/storages").json["storages"] == []
    assert platform.api.get("/v1/tasks").json["tasks"] == []


def _rotate_password(front, tmp_path):
    front.password = "rotated-on-the-array"
    return f"The back end rejected the credentials: the SSH server at 127.0.0.1:{front.port} refused the login"


def _replace_host_key(front, tmp_path):
    # the array comes back on the same address with another host key: a replaced array or a man in the middle
    port = restart_on_the_same_port(front, str(tmp_path / "another-host-key"))
    return f"the SSH host key of 127.0.0.1:{port} does not match the recorded one"


def _close_mid_listing(front, tmp_path):
    # lssevdiskcopy lists ~60 thin volumes: the channel closes after 25 of them, without an exit status
    front.array.faults["ssh"].drop_after = 25
    return "closed before lssevdiskcopy finished"


def _too_slow(front, tmp_path):
    return slow_peer(front.array, "ssh")  # the driver's command deadline or the task manager's


def _malformed(front, tmp_path):
    front.array.faults["ssh"].malformed = True
    return "malformed output of lssystem: line 1 is not a name:value pair"


@pytest.mark.parametrize("fault", [_rotate_password, _replace_host_key, _close_mid_listing, _too_slow, _malformed])
def test_a_failed_sync_writes_nothing(platform, ssh_sim, svc_array, tmp_path, fault, caplog):
    caplog.set_level(logging.DEBUG)
    storage, before = _register_and_sync(platform, ssh_sim)
    svc_array.churn(created=5, resized=5, deleted=5)
    message = fault(ssh_sim, tmp_path)

    started = time.monotonic()
    platform.failed_sync(storage["id"], message, secret=SSH_PASSWORD)
    assert time.monotonic() - started < 20  # a slow peer costs the timeout, not the peer's delay per command
    assert SSH_PASSWORD not in caplog.text
    assert "Driver " in caplog.text  # the operator's side of the failure was logged (and captured here)
    # nothing half-written: the inventory is the one of the last good sync
    platform.assert_inventory(storage["id"], expected_inventory(before))


def test_a_failed_sync_is_recovered_by_the_next_one(platform, ssh_sim, svc_array):
    storage, _ = _register_and_sync(platform, ssh_sim)
    platform.recovers_from_a_cut_sync(storage["id"], svc_array, "ssh", 10, expected_inventory)


# -- the SSH front end itself, with a plain paramiko client -------------------------------------------


def _client(front, password=SSH_PASSWORD, timeout=10.0) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.get_host_keys().add(f"[127.0.0.1]:{front.port}", front.host_key.get_name(), front.host_key)
    client.connect("127.0.0.1", front.port, username=SSH_USER, password=password, timeout=timeout,
                   allow_agent=False, look_for_keys=False)  # fmt: skip
    return client


def _run(client, command) -> tuple[int, str, str]:
    _, stdout, stderr = client.exec_command(command, timeout=10)
    out, err = stdout.read().decode(), stderr.read().decode()
    return stdout.channel.recv_exit_status(), out, err


def test_the_cli_answers_like_svc_and_refuses_with_cmmvc_messages(ssh_sim, svc_array):
    client = _client(ssh_sim)
    try:
        status, out, err = _run(client, "lsvdisk -delim : -nohdr -bytes")
        assert status == 0 and err == "" and len(out.splitlines()) == len(svc_array.volumes)
        status, out, _ = _run(client, "svcinfo lssystem")
        assert status == 0 and f"id {svc_array.serial}" in out.splitlines()
        for command, code in (("lsfoo", "CMMVC7205E"), ("lsvdisk -bogus", "CMMVC5709E"), ("lsdrive 999", "CMMVC5753E")):
            status, out, err = _run(client, command)
            assert (status, out) == (1, "") and err.startswith(code), (command, err)
        with pytest.raises(paramiko.SSHException):
            client.invoke_shell()  # a CLI of exec requests only
    finally:
        client.close()


def test_the_host_key_is_stable_across_restarts_and_logins_are_checked(ssh_sim, start_ssh_sim, tmp_path):
    line, port = ssh_sim.host_key_line, ssh_sim.port
    restart_on_the_same_port(ssh_sim)
    assert ssh_sim.host_key_line == line and ssh_sim.port == port
    assert (tmp_path / "ssh-sim" / "ssh_host_ed25519_key").stat().st_mode & 0o777 == 0o600
    assert start_ssh_sim("elsewhere").host_key_line != line
    with pytest.raises(paramiko.AuthenticationException):
        _client(ssh_sim, password="wrong")
    _client(ssh_sim).close()


def test_connections_are_bounded(start_ssh_sim):
    front = start_ssh_sim("bounded", password=SSH_PASSWORD, max_connections=1)
    first = _client(front)
    try:
        with pytest.raises((paramiko.SSHException, EOFError, OSError)):
            _client(front, timeout=5.0)
        assert _run(first, "lsnode -delim :")[0] == 0  # the first one is still served
    finally:
        first.close()
    deadline = time.monotonic() + 10
    while True:  # its slot comes back once the server side of the first connection ends
        try:
            _client(front, timeout=5.0).close()
            break
        except (paramiko.SSHException, EOFError, OSError):
            assert time.monotonic() < deadline, "the slot of a closed connection never came back"
            time.sleep(0.1)


def test_a_silent_peer_is_a_timeout_and_a_closed_port_is_unreachable(ssh_sim):
    from delfin_like.sdk import exceptions
    from delfin_like_drivers.ibm.svc_ssh import SvcSshDriver

    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never says a word
    try:
        info = ssh_sim.access_info(timeout=1.0)
        info = dataclasses.replace(info, ssh=dataclasses.replace(info.ssh, port=silent.getsockname()[1]))
        started = time.monotonic()
        with pytest.raises(exceptions.DriverTimeout, match="no SSH answer from 127.0.0.1:.* within 1 s"):
            SvcSshDriver(info).get_storage()
        assert time.monotonic() - started < 5
    finally:
        silent.close()
    with pytest.raises(exceptions.BackendUnreachable, match="connection refused"):
        SvcSshDriver(info).get_storage()


def test_older_code_levels_without_lsnode_and_lsnodehw(start_ssh_sim, svc_array):
    from delfin_like_drivers.ibm.svc_ssh import SvcSshDriver

    front = start_ssh_sim("storwize", password=SSH_PASSWORD, disabled_commands=("lsnode", "lsnodehw"))
    drv = SvcSshDriver(front.access_info(timeout=10.0))
    try:
        controllers = {c.native_controller_id: c for c in drv.list_controllers()}
        assert drv.get_storage().status == "normal"
    finally:
        drv.close()
    nodes = {_no(n.id): n for n in svc_array.snapshot().nodes}
    assert set(controllers) == set(nodes)
    for node_id, c in controllers.items():
        # lsnodecanister has what lsnode has; CPU and memory came from lsnodehw only
        assert (c.name, c.soft_version, c.mgmt_ip) == (
            nodes[node_id].name,
            nodes[node_id].version,
            nodes[node_id].mgmt_ip,
        )
        assert (c.cpu_info, c.cpu_count, c.memory_size) == (None, None, None)
