"""``netapp ontap_rest`` alerts against the simulator's REST front end on loopback: EMS events
(``/api/support/ems/events``) read into alerts, expected values written from the model's event
log; ``since`` goes to the array as ONTAP's ``time=>=`` query; paging follows the next links."""

import datetime

import pytest
import requests

from delfin_like import driver_manager
from delfin_like.common import exception
from delfin_like.sdk import exceptions as sdk_exc
from delfin_like_drivers.netapp.ontap_rest import OntapRestDriver
from delfin_like_drivers.simulator.rest import ontap_uuid
from tests.alert_helpers import alerts_by_sequence
from tests.functional.drivers.conftest import REST_PASSWORD, REST_USER, ontap_body

UTC = datetime.UTC
# what the model's severity becomes: through EMS (the simulator's mapping) and back to the sdk's
_SEVERITY = {"error": "major", "warning": "warning", "informational": "informational"}


def _driver(front, **options) -> OntapRestDriver:
    return OntapRestDriver(driver_manager.access_info_from_request(ontap_body(front, **options)))


def _expected(array) -> dict[str, dict]:
    snap = array.snapshot()
    first_node = min(n.id for n in snap.nodes)
    out = {}
    for e in snap.events:
        node = e.resource_id if e.kind == "node" else first_node
        node_alert = e.kind == "node" and e.severity == "error"
        out[str(e.sequence)] = {
            "alert_id": e.ems_name,
            "severity": "critical" if node_alert else _SEVERITY[e.severity],
            "category": "fault" if e.severity == "error" else "event",
            "description": e.message,
            "occur_time": datetime.datetime.fromtimestamp(int(e.time), UTC),
            "resource_type": "controller",
            "native_resource_id": ontap_uuid(node),
            "cleared": False,
        }
    return out


def test_ems_events_become_alerts(sim_array, rest_sim):
    drv = _driver(rest_sim, page_size=2)  # three pages: the next links are followed
    try:
        alerts = list(drv.list_alerts(None))
        assert len(alerts) == 6
        assert alerts_by_sequence(alerts) == _expected(sim_array)
        assert {a.native_resource_id for a in alerts} <= {c.native_controller_id for c in drv.list_controllers()}
    finally:
        drv.close()


def test_since_is_the_arrays_time_query(sim_array, rest_sim):
    drv = _driver(rest_sim)
    try:
        times = sorted(int(e.time) for e in sim_array.events.values())
        since = datetime.datetime.fromtimestamp(times[3], UTC)
        got = [a.sequence_number for a in drv.list_alerts(since)]
        assert got == [str(e.sequence) for e in sorted(sim_array.events.values(), key=lambda e: e.sequence)
                       if int(e.time) >= times[3]]  # fmt: skip
        assert len(got) == 3
        new = sim_array.raise_event("pool", "pool-0001")
        later = [a for a in drv.list_alerts(datetime.datetime.fromtimestamp(int(new.time), UTC))]
        assert [a.sequence_number for a in later] == [str(new.sequence)]
        assert (later[0].alert_id, later[0].severity) == ("wafl.aggr.nearlyFull", "warning")
    finally:
        drv.close()


def test_the_filter_is_applied_by_the_array(sim_array, rest_sim):
    # the simulator itself filters (the driver does not): asked directly, the answer is already cut
    url = f"{rest_sim.url}/api/support/ems/events"
    auth = (REST_USER, REST_PASSWORD)
    times = sorted(int(e.time) for e in sim_array.events.values())
    bound = datetime.datetime.fromtimestamp(times[4], UTC).isoformat()
    page = requests.get(url, params={"time": f">={bound}", "fields": "index,time"}, auth=auth,
                        verify=rest_sim.ca_file, timeout=30).json()  # fmt: skip
    assert page["num_records"] == 2
    bad = requests.get(url, params={"time": ">=yesterday"}, auth=auth, verify=rest_sim.ca_file, timeout=30)
    assert bad.status_code == 400


def test_clear_alert_is_not_supported_and_a_400(rest_sim):
    drv = _driver(rest_sim)
    try:
        with pytest.raises(sdk_exc.NotSupported):
            drv.clear_alert("101")
        with pytest.raises(exception.NotSupported) as e:
            driver_manager.call(drv.clear_alert, "101", what="clear_alert")
        assert e.value.code == 400 and e.value.to_dict()["error_code"] == "NotSupported"
    finally:
        drv.close()
