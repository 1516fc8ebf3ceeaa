"""/metrics of alerts (issue 14) on SQLite: open alerts per storage and severity from one query,
and the trap receiver's counters (the all-in-one's local families), alert sync requests included."""

import uuid

from prometheus_client.parser import text_string_to_metric_families

from delfin_like.alert_manager import service
from delfin_like.api.controllers import metrics
from delfin_like.common.constants import ALERT_SEVERITIES
from delfin_like.db import api as db_api
from tests.unit.api.conftest import register_body


def _samples(api, name):
    families = {f.name: f for f in text_string_to_metric_families(api.get("/metrics").text)}
    family = families.get(name)
    return [] if family is None else family.samples


def _alert(sequence, severity):
    return {"sequence_number": sequence, "alert_id": "X", "alert_name": "X", "severity": severity,
            "category": "fault", "type": "equipment", "description": "d", "occur_time": None,
            "resource_type": "storage", "native_resource_id": None, "location": None, "recovery_advice": None,
            "cleared": False}


def test_open_alerts_per_storage_and_severity(api):
    first = api.post_json("/v1/storages", register_body(port=8443, serial_number=f"M1{uuid.uuid4().hex[:8]}"),
                          status=201).json
    second = api.post_json("/v1/storages", register_body(port=8444, serial_number=f"M2{uuid.uuid4().hex[:8]}"),
                           status=201).json
    for sequence, severity in (("1", "critical"), ("2", "critical"), ("3", "minor")):
        db_api.alert_record(first["id"], "trap", _alert(sequence, severity))
    db_api.alert_record(first["id"], "platform", _alert("1", "critical"))  # another source: counted too
    row, _ = db_api.alert_record(second["id"], "trap", _alert("9", "major"))
    db_api.alert_clear(row["id"], "tester")  # cleared: not open
    got = {(s.labels["storage_id"], s.labels["severity"]): s.value for s in _samples(api, "delfin_like_alerts_open")}
    # every severity of every storage, 0 where none is open
    assert set(got) == {(sid, sev) for sid in (first["id"], second["id"]) for sev in ALERT_SEVERITIES}
    assert {k: v for k, v in got.items() if v} == {(first["id"], "critical"): 3, (first["id"], "minor"): 1}
    [label] = {s.labels["storage_name"] for s in _samples(api, "delfin_like_alerts_open")
               if s.labels["storage_id"] == first["id"]}
    assert label == first["name"]
    # a storage being deleted is no longer shown
    db_api.storage_mark_deleting(second["id"])
    assert {s.labels["storage_id"] for s in _samples(api, "delfin_like_alerts_open")} == {first["id"]}


def test_the_receiver_counters_include_alert_sync_requests(api):
    receiver = service.AlertReceiverService(port=0)
    metrics.register_local("trap_receiver", receiver.metric_families)
    try:
        names = {f.name for f in text_string_to_metric_families(api.get("/metrics").text)}
    finally:
        metrics.register_local("trap_receiver", None)
        receiver.sink.close()
    for name in ("received", "unmatched_sender", "failed_authentication", "malformed", "dropped"):
        assert f"delfin_like_trap_{name}" in names
    for name in ("parse_failed", "parse_incomplete", "sync_requested", "sync_rate_limited", "sync_cast_failed"):
        assert f"delfin_like_trap_alerts_{name}" in names
