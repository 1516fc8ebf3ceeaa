"""The /metrics query of open alerts per storage and severity (issue 14) on SQLite, PostgreSQL and MariaDB."""

from delfin_like.common.constants import ALERT_SEVERITIES
from delfin_like.db import api as db_api
from tests.db_helpers import register, registration_body


def _alert(sequence, severity, cleared=False):
    return {"sequence_number": sequence, "alert_id": "X", "alert_name": "X", "severity": severity,
            "category": "fault", "type": "equipment", "description": "", "occur_time": None,
            "resource_type": "storage", "native_resource_id": None, "location": None, "recovery_advice": None,
            "cleared": cleared}


def test_open_alerts_per_storage_and_severity(any_db):
    one, _ = register(registration_body(port=9301, serial_number="OPEN-1"))
    two, _ = register(registration_body(port=9302, serial_number="OPEN-2"))
    quiet, _ = register(registration_body(port=9303, serial_number="OPEN-3"))
    for i in range(5):
        db_api.alert_record(one["id"], "trap", _alert(f"t{i}", "critical"))
    db_api.alert_record(one["id"], "sync", _alert("s1", "critical"))
    db_api.alert_record(one["id"], "sync", _alert("s2", "warning", cleared=True))
    db_api.alert_record(two["id"], "platform", _alert("unreachable", "major"))
    rows = db_api.alerts_open_counts()
    got = {(r["storage_id"], r["severity"]): r["open"] for r in rows}
    assert set(got) == {(s["id"], sev) for s in (one, two, quiet) for sev in ALERT_SEVERITIES}
    assert {k: v for k, v in got.items() if v} == {(one["id"], "critical"): 6, (two["id"], "major"): 1}
    assert {r["serial_number"] for r in rows if r["storage_id"] == two["id"]} == {"OPEN-2"}
