"""Reading SVC ``lseventlog`` rows into alerts, and the simulator's event-log commands."""

import datetime

import pytest

from delfin_like.sdk import exceptions as sdk_exc
from delfin_like_drivers.ibm import svc_events
from delfin_like_drivers.simulator import model, svc_cli

ROW = {"sequence_number": "120", "last_timestamp": "250301120000", "object_type": "drive", "object_id": "7",
       "object_name": "drive7", "copy_id": "", "status": "alert", "fixed": "no", "event_id": "010070",
       "error_code": "1690", "description": "Drive failed"}  # fmt: skip


def test_an_alert_row_with_its_detail():
    alert = svc_events.to_alert(ROW, {"notification_type": "error", "last_timestamp_epoch": "1740830400",
                                      "error_code_text": "Drive failed"})  # fmt: skip
    assert (alert.sequence_number, alert.alert_id, alert.severity, alert.category, alert.type) == (
        "120", "1690", "major", "fault", "equipment",
    )
    assert (alert.resource_type, alert.native_resource_id, alert.cleared) == ("disk", "7", False)
    assert alert.occur_time == datetime.datetime(2025, 3, 1, 12, 0, tzinfo=datetime.UTC)


def test_a_message_row_without_detail():
    row = {**ROW, "status": "message", "error_code": "", "event_id": "980440", "object_type": "cluster",
           "object_id": "", "fixed": "yes", "last_timestamp": "250301120509"}  # fmt: skip
    assert not svc_events.needs_detail(row)
    alert = svc_events.to_alert(row, None)
    assert (alert.alert_id, alert.severity, alert.category, alert.type) == (
        "980440", "informational", "event", "not_specified",
    )
    assert (alert.resource_type, alert.native_resource_id, alert.cleared) == ("storage", None, True)
    assert alert.occur_time == datetime.datetime(2025, 3, 1, 12, 5, 9, tzinfo=datetime.UTC)


def test_a_bad_timestamp_is_malformed_output():
    with pytest.raises(sdk_exc.BackendError):
        svc_events.to_alert({**ROW, "last_timestamp": "yesterday"}, None)


def test_simulator_hides_fixed_events_unless_asked_and_fixes_them():
    array = model.SimulatedArray(volumes=3, seed=5)
    fixed = {e.sequence for e in array.events.values() if e.fixed}
    assert len(array.events) == 6 and len(fixed) == 1
    view, _ = svc_cli.execute(array.snapshot(), "lseventlog -delim :")
    assert {int(r[0]) for r in view.rows} == set(array.events) - fixed
    view, _ = svc_cli.execute(array.snapshot(), "lseventlog -fixed yes -delim :")
    assert {int(r[0]) for r in view.rows} == set(array.events)
    first = min(array.events)
    svc_cli.execute(array.snapshot(), f"svctask cheventlog -fix {first}", fix_event=array.fix_event)
    assert array.events[first].fixed
    for bad in ("cheventlog -fix 1", "cheventlog -fix x", "cheventlog 101"):
        with pytest.raises(svc_cli.CliError):
            svc_cli.execute(array.snapshot(), bad, fix_event=array.fix_event)
    with pytest.raises(svc_cli.CliError):  # a front end that cannot change the array
        svc_cli.execute(array.snapshot(), f"cheventlog -fix {first}")
    with pytest.raises(svc_cli.CliError):
        svc_cli.execute(array.snapshot(), "lseventlog -fixed maybe")


def test_events_leave_the_inventory_alone():
    with_events = model.SimulatedArray(volumes=10, seed=3).snapshot()
    without = model.SimulatedArray(volumes=10, seed=3, events=0).snapshot()
    assert without.events == []
    for kind in ("volumes", "disks", "ports", "pools", "nodes"):
        assert getattr(with_events, kind) == getattr(without, kind)
