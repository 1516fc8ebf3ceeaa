"""``delfin-like storage register`` for every real driver, against one simulator and one all-in-one.

The simulator's NetApp (REST over TLS with its own CA), its SVC (SSH with its host key), its SNMP
agent (v2c community and an SNMPv3 authPriv user) and a CSD agent over TLS with credentials are all
registered from the CLI, secrets from files or stdin only, and each ends synced.
"""

import json
import os

import pytest

from tests.e2e.conftest import Proc, free_port
from tests.e2e.test_cli import Cli, _start
from tests.unit.api.test_tls import make_cert

PASSWORD = "Sim-Cli-Secret-41"
COMMUNITY = "simcommunity77"
AUTH_KEY = "auth-key-9134"
PRIV_KEY = "priv-key-5521"
AGENT_PASSWORD = "agent-cli-pw-63"
SECRETS = (PASSWORD, COMMUNITY, AUTH_KEY, PRIV_KEY, AGENT_PASSWORD)
VOLUMES = 12


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """(simulator ready line, all-in-one, CLI, directory of secret files); one of each for the module."""
    tmp = tmp_path_factory.mktemp("cli-drivers")
    sim_env = dict(os.environ, DELFIN_LIKE_SIMULATOR_PASSWORD=PASSWORD, DELFIN_LIKE_SIMULATOR_COMMUNITY=COMMUNITY,
                   DELFIN_LIKE_SIMULATOR_SNMP_AUTH_KEY=AUTH_KEY, DELFIN_LIKE_SIMULATOR_SNMP_PRIV_KEY=PRIV_KEY)
    # two arrays: SNMP v2c and v3 of one agent would be the same storage (serial and endpoint)
    sim = Proc("delfin-like-simulator",
               ["--arrays", "2", "--volumes", str(VOLUMES), "--pools", "2", "--rest-port", "0", "--ssh-port", "0",
                "--snmp-port", "0", "--snmp-v3-user", "monitor", "--tick", "0", "--state-dir", str(tmp / "sim")],
               tmp / "sim.log", env=sim_env)
    aio = None
    try:
        sim.wait_for_log('{"event": "ready"', 90)
        ready = json.loads(next(x for x in sim.log.splitlines() if x.startswith('{"event": "ready"')))
        aio, url = _start(tmp)
        secrets = tmp / "secrets"
        secrets.mkdir(mode=0o700)
        for name, value in (("password", PASSWORD), ("auth", AUTH_KEY), ("priv", PRIV_KEY),
                            ("agent", AGENT_PASSWORD)):
            (secrets / name).write_text(value + "\n")
        yield ready, aio, Cli(tmp / "home", url), secrets
    finally:
        if aio is not None:
            aio.kill()
        sim.terminate(30)
        assert not any(s in sim.log for s in SECRETS)


def _register(cli, *args, stdin=None):
    r = cli.run("storage", "register", *args, "--wait", "--no-progress", "-f", "json", stdin=stdin)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not any(s in " ".join(cli.argvs[-1]) for s in SECRETS)
    storage = json.loads(r.stdout)
    assert storage["sync_status"] == "SYNCED", storage
    return storage


def _listed(cli, resource, sid) -> int:
    return len(cli.json(resource, "list", "--storage", sid))


def test_netapp_over_tls_with_the_simulators_ca(env):
    ready, aio, cli, secrets = env
    rest = ready["arrays"][0]["rest"]
    common = ["--vendor", "netapp", "--model", "ontap_rest", "--rest-host", rest["host"], "--rest-port",
              str(rest["port"]), "--rest-user", rest["username"], "--rest-password-file", str(secrets / "password")]
    # without the CA the array's certificate is not trusted: the API's one-line error, nothing registered
    r = cli.run("storage", "register", *common)
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith("Error: BackendUnreachable: ") and "TLS certificate could not be verified" in r.stderr
    storage = _register(cli, *common, "--rest-ca-cert-file", rest["ca_file"], "--rest-scheme", "https",
                        "--rest-verify", "--rest-option", "page_size=5")
    assert storage["name"] == "sim-array-1" and _listed(cli, "volume", storage["id"]) == VOLUMES
    info = cli.json("storage", "access-info", "show", storage["id"])
    assert info["rest"]["ca_cert"].startswith("-----BEGIN CERTIFICATE-----") and info["rest"]["page_size"] == 5
    shown = cli.run("storage", "access-info", "show", storage["id"])
    assert "<PEM, 1 certificate(s)>" in shown.stdout and "BEGIN CERTIFICATE" not in shown.stdout
    # a changed option keeps the stored CA and password: the probe over TLS passes again
    info = cli.json("storage", "access-info", "set", storage["id"], "--rest-option", "page_size=7")
    assert info["rest"]["page_size"] == 7 and info["rest"]["ca_cert"].startswith("-----BEGIN CERTIFICATE-----")
    assert not any(s in aio.log for s in SECRETS)


def test_svc_over_ssh_with_the_host_key(env):
    ready, _, cli, _ = env
    ssh = ready["arrays"][0]["ssh"]
    storage = _register(cli, "--vendor", "ibm", "--model", "svc_ssh", "--ssh-host", ssh["host"], "--ssh-port",
                        str(ssh["port"]), "--ssh-user", ssh["username"], "--ssh-host-key", ssh["host_key"],
                        "--password-stdin", stdin=PASSWORD + "\n")
    assert _listed(cli, "volume", storage["id"]) == VOLUMES and _listed(cli, "pool", storage["id"]) == 2


def test_snmp_v2c_community_on_stdin(env):
    ready, _, cli, _ = env
    snmp = ready["arrays"][0]["snmp"]
    storage = _register(cli, "--vendor", "generic", "--model", "snmp", "--snmp-host", snmp["host"], "--snmp-port",
                        str(snmp["port"]), "--snmp-version", "2c", "--snmp-community-stdin",
                        "--snmp-option", "retries=2", stdin=COMMUNITY + "\n")
    assert _listed(cli, "volume", storage["id"]) == VOLUMES


def test_snmp_v3_user_with_key_files(env):
    ready, aio, cli, secrets = env
    snmp = ready["arrays"][1]["snmp"]
    storage = _register(cli, "--vendor", "generic", "--model", "snmp", "--snmp-host", snmp["host"], "--snmp-port",
                        str(snmp["port"]), "--snmp-user", snmp["v3_user"], "--snmp-version", "3",
                        "--snmp-auth-protocol", "SHA", "--snmp-privacy-protocol", "AES",
                        "--snmp-auth-key-file", str(secrets / "auth"), "--snmp-privacy-key-file", str(secrets / "priv"))
    assert storage["name"] == "sim-array-2" and _listed(cli, "volume", storage["id"]) == VOLUMES
    info = cli.json("storage", "access-info", "show", storage["id"])
    assert info["snmp"]["username"] == "monitor" and "auth_key" not in info["snmp"]
    assert not any(s in aio.log for s in SECRETS)


def test_csd_agent_over_tls_with_credentials(env, tmp_path, procs):
    _, aio, cli, secrets = env
    cert, key = make_cert(tmp_path, "agent")  # self-signed for 127.0.0.1 and localhost: its own CA
    (tmp_path / "auth").write_text(f"ops:{AGENT_PASSWORD}\n")
    port = free_port()
    agent = Proc("delfin-like-csd-agent",
                 ["--port", str(port), "--nvme-fixtures", "builtin", "--state-dir", str(tmp_path / "agent"),
                  "--tls-cert-file", cert, "--tls-key-file", key, "--auth-file", str(tmp_path / "auth")],
                 tmp_path / "agent.log")
    procs.append(agent)
    agent.wait_for_log(f"on 127.0.0.1:{port}")
    common = ["--vendor", "csd", "--model", "nvme", "--rest-host", "127.0.0.1", "--rest-port", str(port),
              "--rest-user", "ops", "--csd-tls", "--csd-ca-path", cert, "--csd-server-name", "localhost"]
    # the right TLS and a wrong password: refused, one line
    (tmp_path / "wrong").write_text("not-the-password\n")
    r = cli.run("storage", "register", *common, "--rest-password-file", str(tmp_path / "wrong"))
    assert r.returncode == 1 and r.stderr.startswith("Error: InvalidCredentials: ") and r.stderr.count("\n") == 1
    storage = _register(cli, *common, "--rest-password-file", str(secrets / "agent"))
    assert _listed(cli, "disk", storage["id"]) == 2
    assert AGENT_PASSWORD not in aio.log + agent.log


def test_list_long_capabilities_ports_and_task_types(env):
    _, _, cli, _ = env
    storages = {s["id"]: s for s in cli.json("storage", "list", "--long")}
    assert storages and all(" " in s["driver"] for s in storages.values())
    netapp = next(s for s in storages.values() if s["driver"] == "netapp ontap_rest")
    assert "driver" not in cli.json("storage", "list")[0]  # only asked for: one request per storage
    table = cli.run("storage", "list", "--long").stdout
    assert "| driver" in table and "netapp ontap_rest" in table and "ibm svc_ssh" in table
    assert "generic snmp" in table and "csd nvme" in table
    sid = netapp["id"]

    caps = cli.json("capabilities", "show", sid)
    assert caps["min_interval"] and all(isinstance(v, int) for v in caps["min_interval"].values())
    resource, finest = next(iter(sorted(caps["min_interval"].items())))
    shown = cli.run("capabilities", "show", sid).stdout
    assert "| min_interval" in shown and f"{resource}: {finest} s" in shown
    # without --interval, metrics-config starts at the driver's finest interval
    name = {"storage": "array", "storage_pool": "pool"}.get(resource, resource)
    rows = cli.json("metrics-config", "set", sid, name, "--enable")
    assert next(r for r in rows if r["resource"] == name)["interval"] == finest

    ports = cli.json("port", "list", "--storage", sid)
    fast = next(p for p in ports if isinstance(p["speed"], int) and p["speed"] >= 10 ** 9)
    table = cli.run("port", "list", "--storage", sid, "-c", "native_port_id", "-c", "speed").stdout
    assert "Gbit/s" in table and str(fast["speed"]) not in table
    raw = cli.run("port", "list", "--storage", sid, "--no-human", "-c", "speed", "-f", "value").stdout
    assert str(fast["speed"]) in raw.split()

    for task_type in ("sync", "perf_volume", "job_submit"):
        r = cli.run("task", "list", "--type", task_type, "-f", "json")
        assert r.returncode == 0 and all(t["type"] == task_type for t in json.loads(r.stdout)), r.stderr
    assert "sync" in [t["type"] for t in cli.json("task", "list", "--storage", sid, "--type", "sync")]
