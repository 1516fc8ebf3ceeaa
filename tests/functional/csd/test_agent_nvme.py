"""The agent's NVMe view over gRPC and the csd nvme driver against it: fixtures, nvme-cli, auth, TLS, deadlines."""

import datetime
import ipaddress
import json
import pathlib
import stat
import sys

import grpc
import pytest

from delfin_like.sdk import exceptions, models
from delfin_like_drivers.csd import nvme_source
from delfin_like_drivers.csd.agent import server
from delfin_like_drivers.csd.driver import CsdNvmeDriver
from delfin_like_drivers.csd.grpc_api import pb

FIXTURES = pathlib.Path(nvme_source.FIXTURES_DIR)


def _fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def _info(port, timeout=10.0, username="ops", password="s3cret", **extra) -> models.AccessInfo:
    rest = models.AccessEndpoint(host="127.0.0.1", port=port, username=username, password=password, extra=extra)
    return models.AccessInfo(vendor="csd", model="nvme", rest=rest, timeout=timeout)


def test_inventory_rpcs_match_the_fixtures(start_agent):
    agent = start_agent()
    listing = _fixture("nvme-list.json")["Devices"][0]
    subsystems = agent.stub.ListSubsystems(pb.ListSubsystemsRequest(), timeout=5).subsystems
    assert [(s.name, s.nqn) for s in subsystems] == [(s["Subsystem"], s["SubsystemNQN"]) for s in listing["Subsystems"]]
    for got, raw in zip(subsystems, listing["Subsystems"], strict=True):
        ident = _fixture(f"{raw['Controllers'][0]['Controller']}-id-ctrl.json")
        assert (got.total_capacity, got.unallocated_capacity) == (ident["tnvmcap"], ident["unvmcap"])
        assert (got.serial_number, got.model, got.firmware) == (
            ident["sn"].strip(),
            ident["mn"].strip(),
            ident["fr"].strip(),
        )
        assert list(got.namespaces) == [ns["NameSpace"] for ns in raw["Namespaces"]]
    namespaces = agent.stub.ListNamespaces(pb.ListNamespacesRequest(), timeout=5).namespaces
    raw_ns = [ns for s in listing["Subsystems"] for ns in s["Namespaces"]]
    assert [(n.name, n.nsid, n.size_bytes, n.used_bytes, n.sector_size, n.max_lba) for n in namespaces] == [
        (ns["NameSpace"], ns["NSID"], ns["PhysicalSize"], ns["UsedBytes"], ns["SectorSize"], ns["MaximumLBA"])
        for ns in raw_ns
    ]
    controllers = agent.stub.ListControllers(pb.ListControllersRequest(), timeout=5).controllers
    assert [(c.name, c.cntlid, c.address, c.state) for c in controllers] == [
        ("nvme0", 1, "0000:41:00.0", "live"),
        ("nvme1", 1, "0000:42:00.0", "live"),
    ]
    raw_smart = _fixture("nvme1-smart-log.json")
    smart = agent.stub.GetSmartLog(pb.GetSmartLogRequest(controller="nvme1"), timeout=5)
    assert int(smart.host_read_commands) == raw_smart["host_read_commands"]
    assert (smart.critical_warning, smart.available_spare, smart.percentage_used) == (1, 8, 97)
    counters = agent.stub.GetIoCounters(pb.GetIoCountersRequest(), timeout=5).counters
    assert [(c.controller, int(c.data_units_written)) for c in counters] == [
        ("nvme0", _fixture("nvme0-smart-log.json")["data_units_written"]),
        ("nvme1", raw_smart["data_units_written"]),
    ]
    assert all(c.HasField("read_at") for c in counters)
    for bad in ("nvme7", "../../etc/passwd"):
        with pytest.raises(grpc.RpcError) as caught:
            agent.stub.GetSmartLog(pb.GetSmartLogRequest(controller=bad), timeout=5)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    node = agent.stub.ListNodes(pb.ListNodesRequest(), timeout=5).nodes
    assert [(n.name, n.id, n.nvme_source, n.status) for n in node] == [
        ("node-a", listing["HostNQN"], "fixtures", "SERVING")
    ]


def _fake_nvme_cli(tmp_path, fixtures: pathlib.Path, delay: float = 0.0) -> str:
    """An executable standing in for nvme-cli on a machine without NVMe devices: it prints the fixture
    JSON for the command line it gets, and checks that it was asked for JSON output."""
    script = tmp_path / "nvme"
    script.write_text(f"""#!{sys.executable}
import json, os, sys, time
time.sleep({delay})
args = sys.argv[1:]
if "-o" not in args or args[args.index("-o") + 1] != "json":
    sys.exit("expected -o json")
cmd = args[0]
fixtures = {str(fixtures)!r}
if cmd == "list":
    name = "nvme-list.json"
else:
    name = os.path.basename(args[1]) + "-" + cmd + ".json"
path = os.path.join(fixtures, name)
if not os.path.exists(path):
    sys.stderr.write(f"{{args[1]}}: No such file or directory\\n")
    sys.exit(2)
sys.stdout.write(open(path).read())
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_nvme_cli_source_and_its_failures(start_agent, tmp_path):
    agent = start_agent(nvme_fixtures=None, nvme_cli=_fake_nvme_cli(tmp_path, FIXTURES))
    node = agent.stub.ListNodes(pb.ListNodesRequest(), timeout=5).nodes[0]
    assert node.nvme_source == "nvme-cli" and node.host_nqn.startswith("nqn.2014-08.org.nvmexpress:uuid:")
    assert [s.nqn for s in agent.stub.ListSubsystems(pb.ListSubsystemsRequest(), timeout=10).subsystems] == [
        s["SubsystemNQN"] for s in _fixture("nvme-list.json")["Devices"][0]["Subsystems"]
    ]
    assert agent.stub.GetSmartLog(pb.GetSmartLogRequest(controller="nvme0"), timeout=10).power_cycles == "41"
    # nvme-cli that fails, or is missing: UNAVAILABLE, and the agent keeps serving
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "nvme-list.json").write_text(json.dumps(_fixture("nvme-list.json")))
    (tmp_path / "b").mkdir()
    failing = start_agent(name="node-b", nvme_fixtures=None, nvme_cli=_fake_nvme_cli(tmp_path / "b", broken))
    with pytest.raises(grpc.RpcError) as caught:
        failing.stub.ListSubsystems(pb.ListSubsystemsRequest(), timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE and "exited with 2" in caught.value.details()
    missing = start_agent(name="node-c", nvme_fixtures=None, nvme_cli=str(tmp_path / "no-nvme-here"))
    with pytest.raises(grpc.RpcError) as caught:
        missing.stub.ListNamespaces(pb.ListNamespacesRequest(), timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE and "nvme-cli not found" in caught.value.details()
    assert missing.stub.ListNodes(pb.ListNodesRequest(), timeout=5).nodes[0].host_nqn == ""


def test_driver_maps_the_node(start_agent):
    agent = start_agent(node_id="csd-node-a-id")
    drv = CsdNvmeDriver(_info(agent.port))
    try:
        storage = drv.get_storage()
        assert (storage.name, storage.serial_number, storage.vendor, storage.model) == (
            "node-a",
            "csd-node-a-id",
            "csd",
            "nvme",
        )
        assert storage.total_capacity == 3840755982336 + 7681501126656
        assert storage.free_capacity == 1240229781504
        assert storage.status == models.StorageStatus.DEGRADED  # nvme1's spare is below its threshold
        disks = {d.serial_number: d for d in drv.list_disks()}
        assert disks["CSD2A0041871"].status == models.DiskStatus.NORMAL and disks["CSD2A0041871"].health_score == 97
        assert disks["CSD2B0093312"].status == models.DiskStatus.ABNORMAL and disks["CSD2B0093312"].health_score == 3
        assert drv.disk_health() == {"CSD2A0041871": [], "CSD2B0093312": ["available spare below threshold"]}
        assert [v.native_volume_id for v in drv.list_volumes()] == [
            "nqn.2023-04.io.delfin-like.csd:csd2000:CSD2A0041871/ns1",
            "nqn.2023-04.io.delfin-like.csd:csd2000:CSD2A0041871/ns2",
            "nqn.2023-04.io.delfin-like.csd:csd2000:CSD2B0093312/ns1",
        ]
    finally:
        drv.close()


def test_driver_errors_unreachable_and_timeout(start_agent, tmp_path):
    drv = CsdNvmeDriver(_info(1, timeout=3))
    with pytest.raises(exceptions.BackendUnreachable):
        drv.get_storage()
    drv.close()
    slow = start_agent(nvme_fixtures=None, nvme_cli=_fake_nvme_cli(tmp_path, FIXTURES, delay=3.0))
    drv = CsdNvmeDriver(_info(slow.port, timeout=1.0))
    with pytest.raises(exceptions.DriverTimeout):
        list(drv.list_storage_pools())
    drv.close()


def test_credentials(start_agent, tmp_path):
    auth = tmp_path / "agent-users"
    auth.write_text("# user:password\nops:s3cret\n")
    auth.chmod(0o600)
    agent = start_agent(auth_file=str(auth))
    with pytest.raises(grpc.RpcError) as caught:
        agent.stub.ListNodes(pb.ListNodesRequest(), timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    # probes need no credentials
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    health = health_pb2_grpc.HealthStub(agent.channel)
    assert (
        health.Check(health_pb2.HealthCheckRequest(service="delfin_like.csd.v1.InstorageManager"), timeout=5).status
        == health_pb2.HealthCheckResponse.SERVING
    )
    wrong = CsdNvmeDriver(_info(agent.port, password="guess"))
    with pytest.raises(exceptions.InvalidCredentials):
        wrong.get_storage()
    wrong.close()
    unknown = CsdNvmeDriver(_info(agent.port, username="nobody"))
    with pytest.raises(exceptions.InvalidCredentials):
        unknown.get_storage()
    unknown.close()
    right = CsdNvmeDriver(_info(agent.port))
    assert right.get_storage().name == "node-a"
    right.close()


def _self_signed(tmp_path) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csd-agent")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "agent.crt", tmp_path / "agent.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


def test_tls(start_agent, tmp_path):
    cert, key = _self_signed(tmp_path)
    agent = start_agent(tls_cert_file=cert, tls_key_file=key)
    drv = CsdNvmeDriver(_info(agent.port, tls=True, ca_file=cert))
    assert drv.get_storage().name == "node-a"
    drv.close()
    named = CsdNvmeDriver(_info(agent.port, tls="true", ca_file=cert, server_name="localhost"))
    assert len(list(named.list_volumes())) == 3
    named.close()
    # without TLS, or trusting another CA, the agent cannot be reached
    plain = CsdNvmeDriver(_info(agent.port, timeout=3))
    with pytest.raises(exceptions.BackendUnreachable):
        plain.get_storage()
    plain.close()
    (tmp_path / "other").mkdir()
    other_cert, _ = _self_signed(tmp_path / "other")
    stranger = CsdNvmeDriver(_info(agent.port, timeout=3, tls=True, ca_file=other_cert))
    with pytest.raises(exceptions.BackendUnreachable):
        stranger.get_storage()
    stranger.close()


def test_bad_options_are_refused(tmp_path):
    base = {"port": 0, "state_dir": str(tmp_path / "s"), "nvme_fixtures": "builtin"}
    for options, needle in (
        ({"host": "0.0.0.0"}, "without --auth-file"),
        ({"tls_cert_file": "/x.crt"}, "go together"),
        ({"tls_client_ca_file": "/ca.pem"}, "needs --tls-cert-file"),
        ({"auth_file": str(tmp_path / "missing")}, "cannot read the credentials file"),
        ({"nvme_fixtures": str(tmp_path)}, "holds no nvme-list.json"),
    ):
        with pytest.raises(server.ConfigError) as caught:
            server.Agent(server.AgentOptions(**{**base, **options}))
        assert needle in str(caught.value)
    empty = tmp_path / "empty-users"
    empty.write_text("# nobody\n")
    with pytest.raises(server.ConfigError):
        server.Agent(server.AgentOptions(**{**base, "auth_file": str(empty)}))
    assert not (tmp_path / "s").exists()


def test_smart_critical_warnings_become_alerts(start_agent, tmp_path):
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    for f in FIXTURES.iterdir():
        (fixtures / f.name).write_text(f.read_text())
    smart0 = _fixture("nvme0-smart-log.json")
    smart0["critical_warning"] = 0x0A  # temperature and read-only
    (fixtures / "nvme0-smart-log.json").write_text(json.dumps(smart0))
    agent = start_agent(nvme_fixtures=str(fixtures))
    drv = CsdNvmeDriver(_info(agent.port))
    try:
        serial = {c: _fixture(f"{c}-id-ctrl.json")["sn"].strip() for c in ("nvme0", "nvme1")}
        alerts = {a.sequence_number: a for a in drv.list_alerts(None)}
        assert set(alerts) == {
            f"{serial['nvme0']}/temperature", f"{serial['nvme0']}/read_only", f"{serial['nvme1']}/available_spare",
        }
        read_only = alerts[f"{serial['nvme0']}/read_only"]
        assert (read_only.severity, read_only.category, read_only.resource_type) == ("critical", "fault", "disk")
        assert read_only.native_resource_id in {d.native_disk_id for d in drv.list_disks()}
        assert read_only.occur_time.tzinfo is not None and not read_only.cleared
        with pytest.raises(exceptions.NotSupported):
            drv.clear_alert(read_only.sequence_number)
    finally:
        drv.close()
