"""The whole alert path, real from end to end: an SNMP array's linkDown reaches the API and Prometheus
Alertmanager, and its linkUp resolves it in both.

The array is the simulator's SNMP personality (Debian's snmpd serving its model on loopback); its traps are
sent with net-snmp's ``snmptrap``; the platform is the all-in-one (API, task manager, scheduler with the alert
dispatcher, trap receiver) as its own process; Alertmanager is Debian's ``prometheus-alertmanager`` with a
webhook receiver, so the test sees both what it holds (``GET /api/v2/alerts``) and what it notified
(``firing``, then ``resolved``). Every wait is on an event, bounded.
"""


import pytest

from delfin_like_drivers.simulator.model import SimulatedArray
from delfin_like_drivers.simulator.snmp import SnmpFrontEnd
from tests.alert_helpers import Alertmanager, require_snmptrap
from tests.e2e.conftest import alert_all_in_one, free_port
from tests.functional.drivers.snmp_fixtures import require_snmpd, snmp_body
from tests.waits import wait_until

TIMEOUT = 30


def _wait(what: str, probe, timeout: float = TIMEOUT):
    return wait_until(probe, timeout, what, interval=0.1)


@pytest.fixture
def snmp_array(tmp_path):
    require_snmpd()
    require_snmptrap()
    array = SimulatedArray(name="e2e-snmp", pools=2, volumes=10, nodes=2, disks_per_pool=2, seed=41)
    front = SnmpFrontEnd(array, community="e2e-array-community-41", state_dir=str(tmp_path / "snmpd")).start()
    yield array, front
    front.stop()


@pytest.fixture
def alertmanager(tmp_path):
    am = Alertmanager(tmp_path / "alertmanager").start()
    yield am
    am.close()


def test_link_down_to_the_api_and_alertmanager_and_link_up_resolves_it(tmp_path, procs, snmp_array, alertmanager):
    array, front = snmp_array
    api_port, trap_port = free_port(), free_port()
    aio, api, _ = alert_all_in_one(tmp_path, procs, api_port, trap_port,
                                   alert_exporters={"enabled": "alertmanager", "interval": 0.2},
                                   alertmanager_exporter={"url": alertmanager.url})
    aio.wait_for_log(f"trap receiver listening on 127.0.0.1:{trap_port}")

    # the array, registered over SNMP and synced: its ports are in the inventory
    r = api.post("/v1/storages", snmp_body(front))
    assert r.status_code == 201, r.text
    storage = r.json()
    assert api.wait_task(storage["last_sync_task_id"])["status"] == "COMPLETED"
    port_id = sorted(p.id for p in array.snapshot().ports if p.kind == "fc")[0]
    [port] = api.get("/v1/ports", storage_id=storage["id"], native_port_id=port_id).json()["ports"]

    r = api.session.put(f"{api.base}/v1/storages/{storage['id']}/snmp-config",
                        json={"host": "127.0.0.1", "version": "snmpv2c", "community_string": front.community},
                        timeout=10)
    assert r.status_code in (200, 201), r.text
    aio.wait_for_log("trap receiver: 1 alert sources applied")

    def open_link_alerts():
        r = api.get("/v1/alerts", storage_id=storage["id"], alert_id="linkDown")
        assert r.status_code == 200, r.text
        return r.json()["alerts"]

    # the array says the port went down
    front.send_trap(trap_port, "linkDown", port_id=port_id)
    [alert] = _wait("the linkDown in GET /v1/alerts", open_link_alerts)
    assert (alert["state"], alert["severity"], alert["category"], alert["source"]) == (
        "open", "major", "fault", "trap")
    assert (alert["resource_type"], alert["native_resource_id"]) == ("port", port_id)
    assert alert["resource_row_id"] == port["id"], "the alert is linked to the port's inventory row"

    [held] = _wait("the linkDown in Alertmanager", lambda: alertmanager.alerts(alert_uuid=alert["id"]))
    labels = held["labels"]
    assert labels["alertname"] == "linkDown" and labels["severity"] == "major"
    assert labels["storage_id"] == storage["id"] and labels["storage_name"] == storage["name"]
    assert (labels["resource_type"], labels["native_resource_id"], labels["source"]) == ("port", port_id, "trap")
    assert held["status"]["state"] == "active"
    _wait("the firing notification", lambda: [e for e in alertmanager.webhook_events(alert_uuid=alert["id"])
                                              if e["status"] == "firing"])

    # an SNMP array keeps no event log to clear: a clear on the array is refused and changes nothing
    r = api.delete(f"/v1/storages/{storage['id']}/alerts/{alert['sequence_number']}")
    assert r.status_code == 400 and r.json()["error_code"], r.text
    assert api.get(f"/v1/alerts/{alert['id']}").json()["state"] == "open"

    # the port comes back: its linkUp clears the linkDown, and Alertmanager resolves it
    front.send_trap(trap_port, "linkUp", port_id=port_id)
    cleared = _wait("the linkDown cleared by the linkUp",
                    lambda: (a := api.get(f"/v1/alerts/{alert['id']}").json())["state"] == "cleared" and a)
    assert cleared["cleared_at"] is not None
    resolved = _wait("the resolved notification", lambda: [e for e in alertmanager.webhook_events(
        alert_uuid=alert["id"]) if e["status"] == "resolved"])
    assert resolved[0]["labels"]["alertname"] == "linkDown"
    _wait("the linkDown gone from Alertmanager's active alerts",
          lambda: not alertmanager.alerts(alert_uuid=alert["id"]))
    # the linkUp itself is stored cleared (it ends the fault): never active in Alertmanager
    [up] = api.get("/v1/alerts", storage_id=storage["id"], alert_id="linkUp").json()["alerts"]
    assert (up["state"], up["category"], up["native_resource_id"]) == ("cleared", "recovery", port_id)
    assert not alertmanager.alerts(alertname="linkUp")

    assert aio.terminate() == 0, aio.log[-3000:]
    assert "Traceback" not in aio.log, aio.log[-3000:]
    assert front.community not in aio.log
