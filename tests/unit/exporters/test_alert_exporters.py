"""Alert exporters (issue 14, alerts out), no services: the Alertmanager payload, the delivery order the
dispatcher builds, the back-off, the jsonl lines and the fan-out's isolation for the second family."""

import datetime
import json
import threading

import pytest

from delfin_like.alert_manager import dispatch
from delfin_like.conf import CONF
from delfin_like.exporters import alerts
from delfin_like.exporters.alerts import alertmanager, jsonl

T0 = datetime.datetime(2026, 12, 8, 1, 0, 0)


def _alert(**fields) -> dict:
    row = {"id": "a-1", "storage_id": "s-1", "storage_name": "array-1", "sequence_number": "42",
           "alert_id": "linkDown", "alert_name": "Link down", "severity": "major", "category": "fault",
           "type": "communications", "description": "eth0 is down", "resource_type": "port",
           "native_resource_id": "eth0", "resource_row_id": None, "location": None, "recovery_advice": None,
           "source": "trap", "state": "open", "cleared_at": None, "cleared_by": None, "first_seen": T0,
           "last_seen": T0, "occur_time": None, "repeat_count": 3, "created_at": T0, "updated_at": T0}
    row.update(fields)
    return row


def test_alertmanager_payload_of_a_firing_alert():
    now = T0 + datetime.timedelta(minutes=5)
    payload = alertmanager.alert_payload(alerts.AlertDelivery(_alert(), "firing", "d"), now, 60)
    assert payload == {
        "labels": {"alertname": "Link down", "storage_id": "s-1", "storage_name": "array-1", "severity": "major",
                   "category": "fault", "type": "communications", "resource_type": "port",
                   "native_resource_id": "eth0", "source": "trap", "alert_uuid": "a-1"},
        "annotations": {"description": "eth0 is down", "sequence_number": "42", "repeat_count": "3"},
        "startsAt": "2026-12-08T01:00:00.000000Z",
        "endsAt": "2026-12-08T01:08:00.000000Z",  # now + 3 x resend_interval
    }


def test_alertmanager_payload_of_a_resolved_alert_without_native_id_or_name():
    cleared = T0 + datetime.timedelta(seconds=30)
    row = _alert(alert_name="", native_resource_id=None, state="cleared", cleared_at=cleared,
                 location="agent 127.0.0.1, ifIndex 2")
    payload = alertmanager.alert_payload(alerts.AlertDelivery(row, "resolved", "d"), T0 + datetime.timedelta(hours=1),
                                         60)
    assert payload["labels"]["alertname"] == "linkDown" and "native_resource_id" not in payload["labels"]
    assert payload["annotations"]["location"] == "agent 127.0.0.1, ifIndex 2"
    assert payload["endsAt"] == "2026-12-08T01:00:30.000000Z"
    # never before its start, even with a clock that went back
    early = alertmanager.alert_payload(alerts.AlertDelivery(_alert(cleared_at=T0 - datetime.timedelta(1)),
                                                            "resolved", "d"), T0, 60)
    assert early["endsAt"] == early["startsAt"]


def _row(event, created, generation=0, **alert):
    return {"alert_uuid": "a-1", "event": event, "generation": generation, "attempts": 0, "created_at": created,
            "alert": _alert(**alert)}


def test_event_exporters_get_every_event_with_the_current_state_last():
    later = T0 + datetime.timedelta(seconds=1)
    # fired, cleared, reopened before delivery: the pending firing (older) is the current state
    rows = [_row("firing", T0, 1), _row("resolved", later)]
    out = dispatch.build_deliveries(rows, events=True)
    assert [d.status for d in out] == ["resolved", "firing"]
    cleared = [_row("firing", T0, state="cleared"), _row("resolved", later, state="cleared")]
    assert [d.status for d in dispatch.build_deliveries(cleared, events=True)] == ["firing", "resolved"]
    # a redelivery of the same rows keeps its ids; another generation is another delivery
    again = dispatch.build_deliveries(rows, events=True)
    assert [d.delivery_id for d in again] == [d.delivery_id for d in out]
    assert dispatch.build_deliveries([_row("firing", T0, 2)], events=True)[0].delivery_id != out[1].delivery_id


def test_state_exporters_get_the_current_state_once():
    rows = [_row("firing", T0, state="cleared"), _row("resolved", T0 + datetime.timedelta(seconds=1),
                                                       state="cleared")]
    (only,) = dispatch.build_deliveries(rows, events=False)
    assert only.status == "resolved"
    (fired,) = dispatch.build_deliveries([_row("resolved", T0)], events=False)  # reopened since
    assert fired.status == "firing"


def test_backoff_doubles_with_jitter_between_min_and_max():
    CONF.set_override("retry_min", 1.0, group="alert_exporters")
    CONF.set_override("retry_max", 60.0, group="alert_exporters")
    top = [dispatch.backoff(n, rng=lambda lo, hi: hi) for n in range(1, 10)]
    assert top == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    low = [dispatch.backoff(n, rng=lambda lo, hi: lo) for n in (1, 3, 9)]
    assert low == [1.0, pytest.approx(3.2), pytest.approx(48.0)]
    assert all(1.0 <= dispatch.backoff(n) <= 60.0 for n in range(1, 200))


def test_jsonl_appends_one_line_per_delivery(tmp_path):
    path = tmp_path / "a" / "alerts.jsonl"
    CONF.set_override("path", str(path), group="jsonl_alert_exporter")
    exporter = jsonl.AlertJsonlExporter()
    exporter.export_alerts([alerts.AlertDelivery(_alert(), "firing", "d1")])
    exporter.export_alerts([alerts.AlertDelivery(_alert(state="cleared", cleared_at=T0), "resolved", "d2")])
    exporter.close()
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [(x["delivery_id"], x["status"], x["alert"]["state"]) for x in lines] == [
        ("d1", "firing", "open"), ("d2", "resolved", "cleared")]
    assert lines[1]["alert"]["cleared_at"] == "2026-12-08T01:00:00.000000Z" and lines[0]["delivered_at"]


def test_jsonl_rotates_by_size_never_splitting_a_call(tmp_path):
    path = tmp_path / "alerts.jsonl"
    CONF.set_override("path", str(path), group="jsonl_alert_exporter")
    exporter = jsonl.AlertJsonlExporter()
    call = len(exporter.lines([alerts.AlertDelivery(_alert(), "firing", "d0-0")] * 2, "x" * 27).encode())
    limit = max(1024, int(call * 2.5))  # two calls fit in a file, a third rotates it
    CONF.set_override("max_bytes", limit, group="jsonl_alert_exporter")
    CONF.set_override("backup_count", 2, group="jsonl_alert_exporter")
    for i in range(12):
        exporter.export_alerts([alerts.AlertDelivery(_alert(), "firing", f"d{i}-{j}") for j in range(2)])
    exporter.close()
    files = [path, tmp_path / "alerts.jsonl.1", tmp_path / "alerts.jsonl.2"]
    assert all(f.exists() for f in files) and not (tmp_path / "alerts.jsonl.3").exists()
    for f in files:
        assert f.stat().st_size <= limit
        ids = [json.loads(x)["delivery_id"] for x in f.read_text().splitlines()]
        calls = [i.split("-")[0] for i in ids]
        assert len(ids) % 2 == 0 and calls[::2] == calls[1::2]  # both lines of a call in one file
    newest = [json.loads(x)["delivery_id"] for x in path.read_text().splitlines()]
    assert newest[-1] == "d11-1"


class _Recording(alerts.AlertExporter):
    def __init__(self, fail=False, block: threading.Event | None = None):
        self.got, self.fail, self.block = [], fail, block

    def export_alerts(self, deliveries):
        if self.block is not None:
            self.block.wait(10)
        if self.fail:
            raise ConnectionError("refused")
        self.got.extend(deliveries)


def test_one_failing_or_hanging_alert_exporter_never_blocks_another():
    CONF.set_override("timeout", 0.2, group="alert_exporters")
    release = threading.Event()
    good, bad, hung = _Recording(), _Recording(fail=True), _Recording(block=release)
    exporters = alerts.AlertExporterSet(exporters={"good": good, "bad": bad, "hung": hung})
    batch = [alerts.AlertDelivery(_alert(), "firing", "d")]
    try:
        assert exporters.deliver("bad", batch).error == "ConnectionError: refused"
        assert not exporters.deliver("hung", batch).ok  # late: counted as not delivered
        assert exporters.deliver("hung", batch).error == "still busy with an earlier batch"
        assert exporters.deliver("good", batch).ok and good.got == batch
        assert exporters.stats["bad"].failures == 1 and exporters.stats["hung"].timeouts == 2
    finally:
        release.set()
        exporters.close()


def test_the_stevedore_namespace_has_the_four_exporters():
    exporters = alerts.AlertExporterSet(["alertmanager", "notification", "jsonl", "log", "nope"])
    try:
        assert exporters.names == ["alertmanager", "notification", "jsonl", "log"]
        assert not exporters.plugin("alertmanager").events and exporters.plugin("alertmanager").resend
        assert all(exporters.plugin(n).events and not exporters.plugin(n).resend
                   for n in ("notification", "jsonl", "log"))
    finally:
        exporters.close()
