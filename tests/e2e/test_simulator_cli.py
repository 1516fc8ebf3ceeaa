"""``delfin-like-simulator`` as a process: the ready line, consecutive ports, churn, credentials, clean stop."""

import json
import os
import signal
import socket
import time

import pytest

from delfin_like.sdk import exceptions, models
from delfin_like_drivers.netapp.ontap_rest import OntapRestDriver
from tests.e2e.conftest import Proc


def _free_run(count: int) -> int:
    """A base port such that ``count`` consecutive loopback ports from it are free now."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + count > 65535:
            continue
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no run of free ports found")


def _ready(proc: Proc, timeout: float = 30) -> dict:
    proc.wait_for_log('{"event": "ready"', timeout)
    line = next(x for x in proc.log.splitlines() if x.startswith('{"event": "ready"'))
    return json.loads(line)


def _driver(rest: dict, password: str, timeout: float = 10.0) -> OntapRestDriver:
    with open(rest["ca_file"]) as f:
        ca = f.read()
    endpoint = models.AccessEndpoint(
        host=rest["host"], port=rest["port"], username=rest["username"], password=password, extra={"ca_cert": ca}
    )
    return OntapRestDriver(models.AccessInfo(vendor="netapp", model="ontap_rest", rest=endpoint, timeout=timeout))


def _volume_count(rest: dict, password: str) -> int:
    drv = _driver(rest, password)
    try:
        return sum(1 for _ in drv.list_volumes())
    finally:
        drv.close()


def _refused(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_rest_only_arrays_churn_and_stop(procs, tmp_path):
    base = _free_run(2)
    state = tmp_path / "state"
    env = dict(os.environ, DELFIN_LIKE_SIMULATOR_PASSWORD="E2e-Sim-Secret-9")
    sim = Proc(
        "delfin-like-simulator",
        [
            "--arrays",
            "2",
            "--volumes",
            "30",
            "--pools",
            "2",
            "--seed",
            "11",
            "--rest-port",
            str(base),
            "--no-ssh",
            "--no-snmp",
            "--churn-interval",
            "0.5",
            "--churn-create",
            "3",
            "--churn-delete",
            "1",
            "--state-dir",
            str(state),
        ],
        tmp_path / "sim.log",
        env=env,
    )
    procs.append(sim)
    ready = _ready(sim)
    arrays = ready["arrays"]
    assert [a["rest"]["port"] for a in arrays] == [base, base + 1]
    assert [a["name"] for a in arrays] == ["sim-array-1", "sim-array-2"]
    assert all("ssh" not in a and "snmp" not in a for a in arrays)
    assert arrays[0]["rest"]["ca_file"] == str(state / "rest-ca.pem")
    creds_file = ready["credentials_file"]
    assert oct(os.stat(creds_file).st_mode & 0o777) == "0o600"
    with open(creds_file) as f:
        assert json.load(f)["password"] == "E2e-Sim-Secret-9"

    drv = _driver(arrays[1]["rest"], "E2e-Sim-Secret-9")
    try:
        assert drv.get_storage().name == "sim-array-2"
    finally:
        drv.close()
    # each churn adds 3 and deletes 1 volume: the listing grows while the process runs
    first = _volume_count(arrays[0]["rest"], "E2e-Sim-Secret-9")
    sim.wait_for_log("churn sim-array-1", 15)
    deadline = time.monotonic() + 15
    while _volume_count(arrays[0]["rest"], "E2e-Sim-Secret-9") <= first and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _volume_count(arrays[0]["rest"], "E2e-Sim-Secret-9") > first >= 30
    with pytest.raises(exceptions.InvalidCredentials):
        _driver(arrays[0]["rest"], "wrong").get_storage()

    assert sim.terminate(30) == 0
    assert "stopped" in sim.log and "E2e-Sim-Secret-9" not in sim.log
    assert _refused(base) and _refused(base + 1)


def test_every_protocol_and_sigint(procs, tmp_path):
    sim = Proc(
        "delfin-like-simulator",
        [
            "--rest-port",
            "0",
            "--ssh-port",
            "0",
            "--snmp-port",
            "0",
            "--volumes",
            "10",
            "--no-tls",
            "--state-dir",
            str(tmp_path / "state"),
        ],
        tmp_path / "sim.log",
    )
    procs.append(sim)
    array = _ready(sim, timeout=60)["arrays"][0]
    assert array["rest"]["url"].startswith("http://") and array["rest"]["ca_file"] is None
    assert array["ssh"]["host_key"].startswith("ssh-ed25519 ")
    assert array["snmp"]["port"] > 0 and array["snmp"]["v2c"] is True
    with socket.create_connection(("127.0.0.1", array["ssh"]["port"]), timeout=5) as s:
        assert s.recv(64).startswith(b"SSH-2.0-")
    with open(tmp_path / "state" / "credentials.json") as f:
        creds = json.load(f)
    assert creds["community"] not in sim.log and creds["password"] not in sim.log
    sim.popen.send_signal(signal.SIGINT)
    assert sim.popen.wait(30) == 0


def test_refusals(procs, tmp_path):
    bad = Proc("delfin-like-simulator", ["--arrays", "0", "--state-dir", str(tmp_path)], tmp_path / "bad.log")
    procs.append(bad)
    assert bad.popen.wait(30) == 2 and "--arrays" in bad.log
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        busy = Proc(
            "delfin-like-simulator",
            ["--rest-port", str(port), "--no-ssh", "--no-snmp", "--state-dir", str(tmp_path)],
            tmp_path / "busy.log",
        )
        procs.append(busy)
        assert busy.popen.wait(30) == 1 and "could not start" in busy.log
