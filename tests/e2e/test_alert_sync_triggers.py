"""Alert sync without anyone calling alerts/sync (issue 14), in a real all-in-one process:

* a freshly registered fake storage has its alerts synced (the registration queued the alert sync);
* the array gains alerts: its periodic alert sync (a short per-storage ``alert_sync_interval``) stores them;
* a trap the fake driver cannot parse whole (its enterprise trap without a sequence number, sent with
  net-snmp's ``snmptrap``) makes the receiver request an alert sync of that storage, counted on /metrics.

And split: a standalone ``delfin-like-alert-receiver`` casts the alert sync it requests over RabbitMQ
to a ``delfin-like-task`` process (API, scheduler, PostgreSQL, Redis as separate processes/services).
"""

import os
import re
import subprocess
import uuid

import pytest

from tests.alert_helpers import require_snmptrap
from tests.e2e.conftest import Client, Proc, alert_all_in_one, db_manage, deployment_conf, free_port
from tests.waits import wait_until

FAKE_TRAP_OID = "1.3.6.1.4.1.99999.1.1"
FIELD = "1.3.6.1.4.1.99999.1."
COMMUNITY = "e2e-Sync-Community-4410"
TIMEOUT = 30


def _wait(what: str, probe, timeout: float = TIMEOUT):
    return wait_until(probe, timeout, what, interval=0.1)


def _sync_alerts(api, storage_id) -> list[dict]:
    r = api.get("/v1/alerts", storage_id=storage_id, source="sync", limit=1000)
    assert r.status_code == 200, r.text
    return r.json()["alerts"]


def _register(api, host: str, alerts: int, alert_sync_interval: int) -> str:
    r = api.post("/v1/storages", {
        "vendor": "fake_storage", "model": "fake_driver",
        "rest": {"host": host, "port": 8443, "username": "admin", "password": "e2e-alert-sync-pw"},
        "extra_attributes": {"pools": 1, "volumes": 2, "alerts": alerts},
        "sync_policy": {"alert_sync_interval": alert_sync_interval},
    })
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _set_alerts(api, storage_id: str, alerts: int) -> None:
    r = api.session.put(f"{api.base}/v1/storages/{storage_id}/access-info",
                        json={"extra_attributes": {"pools": 1, "volumes": 2, "alerts": alerts}}, timeout=10)
    assert r.status_code == 200, r.text


def _counter(api, name: str) -> float:
    match = re.search(rf'^delfin_like_trap_alerts_{name}_total{{receiver="default"}} (\S+)$',
                      api.get("/metrics").text, re.M)
    return float(match.group(1)) if match else -1.0


def _send_incomplete_trap(tmp_path, port: int) -> None:
    """The fake enterprise's trap without its .1 sequence number: the driver raises AlertIncomplete."""
    binary = require_snmptrap()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MIBS": "", "SNMPCONFPATH": str(tmp_path),
           "SNMP_PERSISTENT_DIR": str(tmp_path / "persist"), "HOME": str(tmp_path)}
    subprocess.run([binary, "-v", "2c", "-c", COMMUNITY, f"127.0.0.1:{port}", "", FAKE_TRAP_OID,
                    FIELD + "2", "s", "E2E_PARTIAL", FIELD + "3", "s", "major"],
                   env=env, check=True, timeout=TIMEOUT, capture_output=True)


def test_alerts_synced_at_registration_periodically_and_after_a_partial_trap(tmp_path, procs):
    require_snmptrap()
    api_port, trap_port = free_port(), free_port()
    # a short per-storage alert sync interval is allowed here
    aio, api, _ = alert_all_in_one(tmp_path, procs, api_port, trap_port, scheduler={"min_sync_interval": 1},
                                   alert_sync={"trap_request_interval": 3600})
    aio.wait_for_log(f"trap receiver listening on 127.0.0.1:{trap_port}")

    # registration: the array's 12 alerts are there without any alerts/sync call
    periodic = _register(api, "192.0.2.81", alerts=12, alert_sync_interval=2)
    _wait("the registration's alert sync", lambda: len(_sync_alerts(api, periodic)) == 12)
    policy = api.get(f"/v1/storages/{periodic}/sync-policy").json()["sync_policy"]
    assert (policy["alert_sync_interval"], policy["alert_sync_enabled"]) == (2, True)

    # periodic: the array raises 3 more; the next periodic alert sync stores them
    _set_alerts(api, periodic, 15)
    _wait("a periodic alert sync", lambda: len(_sync_alerts(api, periodic)) == 15)

    # a trap not parsed whole: a storage without periodic alert sync, its alerts behind the array's
    partial = _register(api, "192.0.2.82", alerts=5, alert_sync_interval=0)
    _wait("the registration's alert sync", lambda: len(_sync_alerts(api, partial)) == 5)
    r = api.session.put(f"{api.base}/v1/storages/{partial}/snmp-config",
                        json={"host": "127.0.0.1", "version": "snmpv2c", "community_string": COMMUNITY}, timeout=10)
    assert r.status_code in (200, 201), r.text
    aio.wait_for_log("trap receiver: 1 alert sources applied")
    _set_alerts(api, partial, 9)
    assert _counter(api, "sync_requested") == 0
    _send_incomplete_trap(tmp_path, trap_port)
    _wait("the alert sync the trap requested", lambda: len(_sync_alerts(api, partial)) == 9)
    assert _counter(api, "parse_incomplete") == 1 and _counter(api, "sync_requested") == 1
    tasks = api.get("/v1/tasks", storage_id=partial, type="alert_sync").json()["tasks"]
    assert len(tasks) == 2 and all(t["status"] == "COMPLETED" for t in tasks)
    # nothing was stored from the partial trap itself
    assert api.get("/v1/alerts", storage_id=partial, source="trap").json()["alerts"] == []
    assert aio.terminate() == 0
    assert COMMUNITY not in aio.log


@pytest.mark.services
def test_a_standalone_receiver_requests_alert_syncs_over_rabbitmq(tmp_path, procs, postgresql_url, rabbit_url,
                                                                  redis_url):
    require_snmptrap()
    trap_port = free_port()
    deployment = f"alsync.{uuid.uuid4().hex[:10]}"
    env = deployment_conf(
        tmp_path, postgresql_url, rabbit_url, redis_url, deployment,
        alert_receiver={"host": "127.0.0.1", "port": trap_port, "poll_interval": 0.5},
        task_manager={"membership_group": f"alsync-tm-{uuid.uuid4().hex[:10]}"},
        scheduler={"election_group": f"alsync-{uuid.uuid4().hex[:10]}"},
    )
    db_manage(env, "upgrade")
    started = {}
    for name in ("delfin-like-task", "delfin-like-scheduler", "delfin-like-api", "delfin-like-alert-receiver"):
        started[name] = Proc(name, ["--config-file", env["conf"]], env["dir"] / f"{name}.log")
        procs.append(started[name])
    api = Client(f"http://127.0.0.1:{env['port']}")
    api.wait_ready()
    receiver = started["delfin-like-alert-receiver"]
    receiver.wait_for_log(f"trap receiver listening on 127.0.0.1:{trap_port}")

    sid = _register(api, "192.0.2.83", alerts=4, alert_sync_interval=0)
    _wait("the registration's alert sync", lambda: len(_sync_alerts(api, sid)) == 4, timeout=60)
    r = api.session.put(f"{api.base}/v1/storages/{sid}/snmp-config",
                        json={"host": "127.0.0.1", "version": "snmpv2c", "community_string": COMMUNITY}, timeout=10)
    assert r.status_code in (200, 201), r.text
    receiver.wait_for_log("trap receiver: 1 alert sources applied")
    _set_alerts(api, sid, 6)
    _send_incomplete_trap(tmp_path, trap_port)
    _wait("the alert sync the standalone receiver requested", lambda: len(_sync_alerts(api, sid)) == 6, timeout=60)
    receiver.wait_for_log("requested by a trap")
    tasks = api.get("/v1/tasks", storage_id=sid, type="alert_sync").json()["tasks"]
    assert len(tasks) == 2 and all(t["status"] == "COMPLETED" for t in tasks)
    for proc in reversed(list(started.values())):
        assert proc.terminate() == 0, proc.name
    assert COMMUNITY not in receiver.log
