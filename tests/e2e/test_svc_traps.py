"""Traps and alert sync agree about each array event, and alert sync catches up what UDP lost (issue 14).

Processes: ``delfin-like-simulator`` (one SVC array over SSH, ``--trap-sink`` at the receiver),
``delfin-like-all-in-one`` (its own receiver off) and ``delfin-like-alert-receiver`` on the
all-in-one's database. Events are raised with the simulator-only SSH command ``simraiseevent``;
their traps go out with net-snmp's ``snmptrap``. The receiver is SIGKILLed, two events are raised
(their traps lost), the receiver starts again, one more event arrives by trap, then an alert sync:
every event ``lseventlog`` lists is an alert exactly once, the trapped ones untouched by the sync.
Then ``DELETE .../alerts/{seq}`` runs ``cheventlog -fix`` and the next sync sees it fixed.
"""

import base64
import json
import os
import re

import paramiko

from tests.alert_helpers import require_snmptrap
from tests.e2e.conftest import Proc, alert_all_in_one, free_port
from tests.waits import wait_until

PASSWORD = "Svc-Trap-Sim-Secret-58"
COMMUNITY = "svc-Trap-Community-3317"
TIMEOUT = 30


def _wait(what: str, probe, timeout: float = TIMEOUT):
    return wait_until(probe, timeout, what, interval=0.1)


class _SvcCli:
    """The simulated array's CLI over SSH (its host key pinned from the ready line)."""

    def __init__(self, ssh: dict):
        self.client = paramiko.SSHClient()
        kind, blob = ssh["host_key"].split()[:2]
        self.client.get_host_keys().add(f"[{ssh['host']}]:{ssh['port']}", kind,
                                        paramiko.Ed25519Key(data=base64.b64decode(blob)))
        self.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        self.client.connect(ssh["host"], ssh["port"], ssh["username"], PASSWORD, timeout=TIMEOUT,
                            allow_agent=False, look_for_keys=False)

    def run(self, command: str) -> str:
        _, out, err = self.client.exec_command(command, timeout=TIMEOUT)
        text, status = out.read().decode(), out.channel.recv_exit_status()
        assert status == 0, err.read().decode()
        return text

    def raise_event(self, kind: str) -> str:
        line = self.run(f"svctask simraiseevent -kind {kind}")
        return re.fullmatch(r"Event, sequence number \[(\d+)\], successfully raised\n", line).group(1)

    def event_log(self) -> dict[str, str]:
        """sequence number -> fixed (yes/no), as ``lseventlog -fixed yes`` lists them."""
        lines = self.run("lseventlog -fixed yes -delim :").splitlines()
        header = lines[0].split(":")
        rows = [dict(zip(header, line.split(":"), strict=False)) for line in lines[1:]]
        return {r["sequence_number"]: r["fixed"] for r in rows}


def _receiver(conf, tmp_path, n: int, trap_port: int) -> Proc:
    proc = Proc("delfin-like-alert-receiver", ["--config-file", str(conf)], tmp_path / f"receiver-{n}.log")
    proc.wait_for_log(f"trap receiver listening on 127.0.0.1:{trap_port}")
    proc.wait_for_log("trap receiver: 1 alert sources applied")
    return proc


def test_lost_traps_are_caught_up_by_alert_sync_once_each(tmp_path, procs):
    require_snmptrap()
    api_port, trap_port = free_port(), free_port()
    sim = Proc("delfin-like-simulator", [
        "--no-rest", "--no-snmp", "--ssh-port", "0", "--volumes", "5", "--tick", "0",
        "--trap-sink", f"127.0.0.1:{trap_port}", "--state-dir", str(tmp_path / "sim"),
    ], tmp_path / "sim.log", env=dict(os.environ, DELFIN_LIKE_SIMULATOR_PASSWORD=PASSWORD,
                                      DELFIN_LIKE_SIMULATOR_COMMUNITY=COMMUNITY))
    procs.append(sim)
    sim.wait_for_log('{"event": "ready"')
    ready = json.loads(next(x for x in sim.log.splitlines() if x.startswith('{"event": "ready"')))
    [array] = ready["arrays"]
    assert array["trap_sinks"] == [{"host": "127.0.0.1", "port": trap_port}]
    ssh = array["ssh"]

    aio, api, conf = alert_all_in_one(tmp_path, procs, api_port, trap_port, receiver=False)
    r = api.post("/v1/storages", {"vendor": "ibm", "model": "svc_ssh", "ssh": {
        "host": ssh["host"], "port": ssh["port"], "username": ssh["username"], "password": PASSWORD,
        "host_key": ssh["host_key"]}})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    r = api.session.put(f"{api.base}/v1/storages/{sid}/snmp-config", timeout=10,
                        json={"host": "127.0.0.1", "version": "snmpv2c", "community_string": COMMUNITY})
    assert r.status_code in (200, 201), r.text

    def alerts() -> dict[str, dict]:
        r = api.get(f"/v1/storages/{sid}/alerts", limit=1000)
        assert r.status_code == 200, r.text
        rows = r.json()["alerts"]
        assert len({a["sequence_number"] for a in rows}) == len(rows), rows  # never two rows of one event
        return {a["sequence_number"]: a for a in rows}

    def alert_sync() -> dict:
        r = api.post(f"/v1/storages/{sid}/alerts/sync", {})
        assert r.status_code == 202, r.text
        task = api.wait_task(r.json()["task"]["id"])
        assert task["status"] == "COMPLETED", task
        return task["result"]

    # the registration's own alert sync stores the array's older events first
    registered = _wait("the registration's alert sync", lambda: api.get(
        "/v1/tasks", storage_id=sid, type="alert_sync").json()["tasks"])
    assert api.wait_task(registered[0]["id"])["status"] == "COMPLETED"
    older = set(alerts())

    cli = _SvcCli(ssh)
    receiver = _receiver(conf, tmp_path, 1, trap_port)
    procs.append(receiver)
    first = cli.raise_event("disk")
    _wait("the first event's trap stored", lambda: first in alerts())

    receiver.popen.kill()  # SIGKILL: no goodbye
    receiver.popen.wait(10)
    lost = [cli.raise_event("port"), cli.raise_event("pool")]
    for seq in lost:
        assert f"trap of event {seq} (" in sim.log  # sent, to nobody
    receiver = _receiver(conf, tmp_path, 2, trap_port)
    procs.append(receiver)
    last = cli.raise_event("node")
    stored = _wait("the last event's trap stored", lambda: alerts() if last in alerts() else None)
    # no trap of the lost events arrived (on a loaded machine the restarted receiver may have asked for an
    # alert sync, for a trap whose parse missed its deadline, and that sync listed them already)
    assert not [seq for seq in lost if stored.get(seq, {}).get("source") == "trap"], stored
    trapped = {seq: stored[seq] for seq in (first, last)}
    assert all(a["source"] == "trap" and a["repeat_count"] == 1 for a in trapped.values())

    listed = cli.event_log()
    _wait("no alert sync under way", lambda: not [t for t in api.get(
        "/v1/tasks", storage_id=sid, type="alert_sync").json()["tasks"] if t["status"] in ("PENDING", "RUNNING")])
    missing = set(listed) - set(alerts())
    assert set(listed) == older | {first, last, *lost} and missing <= set(lost)
    result = alert_sync()
    # the lost ones added; the older events and the trapped two read the same: not written
    assert result == {"added": len(missing), "updated": 0, "cleared": 0, "unchanged": len(listed) - len(missing),
                      "rows_written": len(missing)}, result
    after = alerts()
    assert set(after) == set(listed)  # every event the array lists, once each
    for seq, before in trapped.items():
        assert after[seq] == before  # the same row, unchanged
    assert all(after[seq]["source"] == "sync" and after[seq]["state"] == "open" for seq in lost)
    assert {s for s, a in after.items() if a["state"] == "cleared"} == {s for s, f in listed.items() if f == "yes"}

    # clear a trapped one on the array: cheventlog -fix; the next sync sees it fixed
    [row] = api.delete(f"/v1/storages/{sid}/alerts/{last}").json()["alerts"]
    assert (row["state"], row["cleared_by"]) == ("cleared", "api")
    assert cli.event_log()[last] == "yes"
    result = alert_sync()
    assert (result["updated"], result["rows_written"]) == (1, 1), result
    assert alert_sync()["rows_written"] == 0

    assert receiver.terminate() == 0 and aio.terminate() == 0
    for text in (sim.log, aio.log, receiver.log, json.dumps(after)):
        assert COMMUNITY not in text and PASSWORD not in text
