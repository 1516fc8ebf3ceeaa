"""``ibm svc_ssh`` alerts against the simulator's SSH CLI on loopback: ``lseventlog`` read into
alerts (expected values written from the model's event log, not from the driver), ``since``, and
``cheventlog -fix`` marking an event fixed on the array."""

import datetime

import pytest

from delfin_like.sdk import exceptions as sdk_exc
from delfin_like_drivers.ibm.svc_ssh import SvcSshDriver
from tests.alert_helpers import alerts_by_sequence
from tests.functional.drivers.ssh_fixtures import SSH_PASSWORD, SSH_USER

UTC = datetime.UTC
# model kind -> (resource type, how the inventory names the resource)
_SEVERITY = {"error": "major", "warning": "warning", "informational": "informational"}


def _native(snap, e) -> tuple[str, str | None]:
    if e.kind == "system":
        return "storage", None
    if e.kind == "volume":
        return "volume", str(next(v.number for v in snap.volumes if v.id == e.resource_id))
    if e.kind == "port":
        port = next(p for p in snap.ports if p.id == e.resource_id)
        n = int(port.node_id.rsplit("-", 1)[1])
        return "port", f"fc-{(n - 1) * 8 + int(port.name[-1])}"
    kind = {"node": "controller", "disk": "disk", "pool": "storage_pool"}[e.kind]
    return kind, str(int(e.resource_id.rsplit("-", 1)[1]))


def _expected(array) -> dict[str, dict]:
    snap = array.snapshot()
    out = {}
    for e in snap.events:
        resource_type, native = _native(snap, e)
        out[str(e.sequence)] = {
            "alert_id": e.svc_error_code or e.svc_event_id,
            "severity": _SEVERITY[e.severity],
            "category": "fault" if e.svc_error_code else "event",
            "description": e.message,
            "occur_time": datetime.datetime.fromtimestamp(int(e.time), UTC),
            "resource_type": resource_type,
            "native_resource_id": native,
            "cleared": e.fixed,
        }
    return out


@pytest.fixture
def svc_driver(ssh_sim):
    drv = SvcSshDriver(ssh_sim.access_info(timeout=30))
    yield drv
    drv.close()


def test_event_log_becomes_alerts(svc_array, svc_driver):
    alerts = list(svc_driver.list_alerts(None))
    assert len(alerts) == 6
    assert alerts_by_sequence(alerts) == _expected(svc_array)
    assert sum(a.cleared for a in alerts) == 1  # the simulator logs one fixed event among six
    # the resources named are the inventory's
    assert {a.native_resource_id for a in alerts if a.resource_type == "disk"} <= {
        d.native_disk_id for d in svc_driver.list_disks()
    }
    assert {a.native_resource_id for a in alerts if a.resource_type == "port"} <= {
        p.native_port_id for p in svc_driver.list_ports()
    }


def test_since_and_a_new_event(svc_array, svc_driver):
    before = list(svc_driver.list_alerts(None))
    latest = max(a.occur_time for a in before)
    assert [a.sequence_number for a in svc_driver.list_alerts(latest)] == [
        a.sequence_number for a in before if a.occur_time == latest
    ]
    new = svc_array.raise_event("disk", "disk-0002", severity="warning")
    since = datetime.datetime.fromtimestamp(int(new.time), UTC)
    got = [a for a in svc_driver.list_alerts(since) if a.sequence_number == str(new.sequence)]
    assert len(got) == 1
    assert (got[0].severity, got[0].native_resource_id, got[0].cleared) == ("warning", "2", False)


def test_clear_alert_fixes_the_event_on_the_array(svc_array, svc_driver):
    open_alert = next(a for a in svc_driver.list_alerts(None) if a.category == "fault" and not a.cleared)
    svc_driver.clear_alert(open_alert.sequence_number)
    assert svc_array.events[int(open_alert.sequence_number)].fixed
    again = {a.sequence_number: a for a in svc_driver.list_alerts(None)}
    assert again[open_alert.sequence_number].cleared
    with pytest.raises(sdk_exc.BackendError):
        svc_driver.clear_alert("999999")
    with pytest.raises(sdk_exc.BackendError):
        svc_driver.clear_alert("1; rm -rf /")


def test_an_array_without_lseventlog_says_not_supported(svc_array, start_ssh_sim):
    front = start_ssh_sim("no-eventlog", username=SSH_USER, password=SSH_PASSWORD, disabled_commands=("lseventlog",))
    drv = SvcSshDriver(front.access_info(timeout=30))
    try:
        with pytest.raises(sdk_exc.NotSupported):
            list(drv.list_alerts(None))
    finally:
        drv.close()
