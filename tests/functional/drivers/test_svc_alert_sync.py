"""Alert sync of ``ibm svc_ssh`` through the real platform (API, RabbitMQ, in-process task manager)
against the simulator's SSH CLI: lseventlog becomes stored alerts, a new event is caught up by the
next alert sync, and DELETE .../alerts/{seq} runs ``cheventlog -fix`` on the array (issue 14)."""

import pytest

from delfin_like.common.constants import TaskStatus
from tests.functional.drivers.ssh_fixtures import svc_body

pytestmark = pytest.mark.services


def _alert_sync(platform, storage_id) -> dict:
    task = platform.api.post(f"/v1/storages/{storage_id}/alerts/sync", status=202).json["task"]
    assert task["type"] == "alert_sync"
    done = platform.wait_task(task["id"])
    assert done["status"] == TaskStatus.COMPLETED, done
    return done["result"]


def _alerts(platform, storage_id) -> dict[str, dict]:
    rows = platform.api.get(f"/v1/storages/{storage_id}/alerts?source=sync&limit=1000").json["alerts"]
    return {a["sequence_number"]: a for a in rows}


@pytest.mark.parametrize("platform", ["postgresql_db"], indirect=True)
def test_event_log_synced_caught_up_and_cleared_on_the_array(platform, ssh_sim, svc_array):
    storage = platform.register_and_sync(svc_body(ssh_sim))
    sid = storage["id"]
    events = svc_array.snapshot().events
    # the registration queued the first alert sync itself (svc_ssh lists alerts)
    [first] = platform.api.get(f"/v1/tasks?storage_id={sid}&type=alert_sync").json["tasks"]
    done = platform.wait_task(first["id"])
    assert done["status"] == TaskStatus.COMPLETED, done
    assert done["result"] == {"added": len(events), "updated": 0, "cleared": 0, "unchanged": 0,
                              "rows_written": len(events)}
    stored = _alerts(platform, sid)
    assert set(stored) == {str(e.sequence) for e in events}
    assert {s for s, a in stored.items() if a["state"] == "cleared"} == {str(e.sequence) for e in events if e.fixed}
    assert _alert_sync(platform, sid)["rows_written"] == 0

    # an event whose trap was lost: the next alert sync stores it
    new = svc_array.raise_event("disk", "disk-0002", severity="warning")
    result = _alert_sync(platform, sid)
    assert (result["added"], result["rows_written"]) == (1, 1)
    assert _alerts(platform, sid)[str(new.sequence)]["state"] == "open"

    # clear it through the API: cheventlog -fix on the array, the stored alert cleared by api
    seq = str(new.sequence)
    [row] = platform.api.delete(f"/v1/storages/{sid}/alerts/{seq}", status=200).json["alerts"]
    assert (row["state"], row["cleared_by"]) == ("cleared", "api")
    assert svc_array.events[new.sequence].fixed
    # the next alert sync sees it fixed on the array: one row updated, the clearing by api kept
    result = _alert_sync(platform, sid)
    assert (result["updated"], result["rows_written"]) == (1, 1)
    assert _alerts(platform, sid)[seq]["cleared_by"] == "api"
    # an unknown sequence number is a 404 and the array is not asked
    assert platform.api.delete(f"/v1/storages/{sid}/alerts/424242", status=404).json["error_code"] == "AlertNotFound"
