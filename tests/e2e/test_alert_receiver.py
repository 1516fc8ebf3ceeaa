"""Traps end to end: the all-in-one's trap receiver, net-snmp's real ``snmptrap``, the fake driver's parse_alert.

A fake storage is registered over the API, its snmp-config says v2c from 127.0.0.1 with a
community; the fake enterprise trap it sends is parsed by the fake driver and stored as an
alert with source ``trap``. A repeat bumps the same row; a wrong community stores nothing.
The community is in no response and not in the log.
"""

import os
import re
import subprocess

from tests.alert_helpers import require_snmptrap
from tests.e2e.conftest import Proc, alert_all_in_one, free_port
from tests.waits import wait_until

FAKE_TRAP_OID = "1.3.6.1.4.1.99999.1.1"
FIELD = "1.3.6.1.4.1.99999.1."
COMMUNITY = "e2e-Trap-Community-7731"
TIMEOUT = 30


def _snmptrap(tmp_path):
    binary = require_snmptrap()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "MIBS": "",
        "SNMPCONFPATH": str(tmp_path),
        "SNMP_PERSISTENT_DIR": str(tmp_path / "persist"),
        "HOME": str(tmp_path),
    }

    def send(port: int, community: str, sequence: str) -> None:
        varbinds = [
            FIELD + "1", "s", sequence,
            FIELD + "2", "s", "E2E_DISK_FAILED",
            FIELD + "3", "s", "critical",
            FIELD + "4", "s", "disk 3 failed",
        ]
        subprocess.run([binary, "-v", "2c", "-c", community, f"127.0.0.1:{port}", "", FAKE_TRAP_OID, *varbinds],
                       env=env, check=True, timeout=TIMEOUT, capture_output=True)

    return send


def _wait(what: str, probe, timeout: float = TIMEOUT):
    return wait_until(probe, timeout, what, interval=0.1)


def _counter(api, name: str) -> float:
    text = api.get("/metrics").text
    match = re.search(rf'^delfin_like_trap_{name}_total{{receiver="default"}} (\S+)$', text, re.M)
    return float(match.group(1)) if match else -1.0


def _fake_storage_with_v2c_source(api, host: str, password: str) -> tuple[str, str]:
    """Register a fake storage and PUT its v2c snmp-config (traps from 127.0.0.1); its id and the PUT's body."""
    r = api.post("/v1/storages", {
        "vendor": "fake_storage",
        "model": "fake_driver",
        "rest": {"host": host, "port": 8443, "username": "admin", "password": password},
        "extra_attributes": {"pools": 1, "volumes": 2},
    })
    assert r.status_code == 201, r.text
    storage_id = r.json()["id"]
    r = api.session.put(f"{api.base}/v1/storages/{storage_id}/snmp-config",
                        json={"host": "127.0.0.1", "version": "snmpv2c", "community_string": COMMUNITY}, timeout=10)
    assert r.status_code in (200, 201), r.text
    return storage_id, r.text


def test_trap_to_alert_through_the_all_in_one(tmp_path, procs):
    send = _snmptrap(tmp_path)
    api_port, trap_port = free_port(), free_port()
    aio, api, _ = alert_all_in_one(tmp_path, procs, api_port, trap_port)
    aio.wait_for_log(f"trap receiver listening on 127.0.0.1:{trap_port}")
    responses = []

    storage_id, put = _fake_storage_with_v2c_source(api, "192.0.2.77", "aio-trap-pw-1")
    responses.append(put)
    aio.wait_for_log("trap receiver: 1 alert sources applied")

    def alerts():
        r = api.get("/v1/alerts", storage_id=storage_id)
        assert r.status_code == 200, r.text
        responses.append(r.text)
        return r.json()["alerts"]

    send(trap_port, COMMUNITY, "e2e-seq-1")
    [alert] = _wait("the trap stored as an alert", alerts)
    assert alert["source"] == "trap" and alert["sequence_number"] == "e2e-seq-1"
    assert alert["alert_id"] == "E2E_DISK_FAILED" and alert["severity"] == "critical"
    assert alert["description"] == "disk 3 failed" and alert["repeat_count"] == 1

    send(trap_port, COMMUNITY, "e2e-seq-1")
    [alert] = _wait("the repeat counted", lambda: [a for a in alerts() if a["repeat_count"] == 2])
    assert alert["source"] == "trap" and alert["sequence_number"] == "e2e-seq-1"

    failed = _counter(api, "failed_authentication")
    assert failed == 0
    send(trap_port, "wrong-community-99", "e2e-seq-2")
    _wait("the wrong community counted", lambda: _counter(api, "failed_authentication") == failed + 1)
    assert [(a["sequence_number"], a["repeat_count"]) for a in alerts()] == [("e2e-seq-1", 2)]
    assert _counter(api, "delivered") == 2 and _counter(api, "alerts_repeated") == 1

    responses.append(api.get(f"/v1/storages/{storage_id}/snmp-config").text)
    responses.append(api.get("/metrics").text)
    assert aio.terminate() == 0
    for text in (*responses, aio.log):
        assert COMMUNITY not in text and "wrong-community-99" not in text


def test_standalone_receiver_next_to_an_all_in_one(tmp_path, procs):
    """``delfin-like-alert-receiver`` on the all-in-one's database (which runs no receiver itself)."""
    send = _snmptrap(tmp_path)
    api_port, trap_port = free_port(), free_port()
    aio, api, conf = alert_all_in_one(tmp_path, procs, api_port, trap_port, receiver=False)
    assert "trap receiver listening" not in aio.log
    storage_id, _ = _fake_storage_with_v2c_source(api, "192.0.2.78", "aio-trap-pw-2")

    receiver = Proc("delfin-like-alert-receiver", ["--config-file", str(conf)], tmp_path / "receiver.log")
    procs.append(receiver)
    receiver.wait_for_log(f"trap receiver listening on 127.0.0.1:{trap_port}")
    receiver.wait_for_log("trap receiver: 1 alert sources applied")
    send(trap_port, COMMUNITY, "standalone-1")
    [alert] = _wait("the trap stored as an alert",
                    lambda: api.get("/v1/alerts", storage_id=storage_id).json()["alerts"])
    assert (alert["source"], alert["sequence_number"], alert["repeat_count"]) == ("trap", "standalone-1", 1)
    assert receiver.terminate() == 0
    assert "stopped" in receiver.log and COMMUNITY not in receiver.log
