"""Alerts out (issue 14) against a REAL Prometheus Alertmanager: the dispatcher delivers the outbox to
the alertmanager, jsonl and log exporters; fired, resolved, kept alive by re-sends, none lost while
Alertmanager is down, and one failing exporter never holds up the others. SQLite (the outbox SQL is
covered on every database by tests/functional/db/test_alert_outbox_db.py)."""

import datetime
import json
import logging
import os

import pytest

from delfin_like.alert_manager import dispatch
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from tests.db_helpers import register, registration_body
from tests.functional.db.test_alerts_db import _Alert
from tests.waits import wait_until

EXPORTERS = ["alertmanager", "jsonl", "log"]


@pytest.fixture
def storage(sqlite_db, alertmanager, tmp_path):
    overrides = {
        "alert_exporters": {"enabled": EXPORTERS, "interval": 0.1, "retry_min": 0.1, "retry_max": 0.5,
                            "resend_interval": 1.0, "timeout": 5.0},
        "alertmanager_exporter": {"url": [alertmanager.url]},
        "jsonl_alert_exporter": {"path": str(tmp_path / "alerts.jsonl")},
    }
    for group, values in overrides.items():
        for name, value in values.items():
            CONF.set_override(name, value, group=group)
    storage, _task = register(registration_body(volumes=1, pools=1))
    yield storage
    for group, values in overrides.items():
        for name in values:
            CONF.clear_override(name, group=group)


@pytest.fixture
def dispatcher(storage):
    d = dispatch.AlertDispatcher()
    d.start()
    yield d
    d.stop()


def _jsonl(path=None) -> list[dict]:
    path = path or CONF.jsonl_alert_exporter.path
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f]


def _backlog(name: str) -> dict:
    return db_api.alert_deliveries_backlog().get(name, {"pending": 0, "retrying": 0})


def test_fired_then_cleared_reaches_alertmanager_with_its_labels_and_resolves(dispatcher, storage, alertmanager):
    row, _ = db_api.alert_record(storage["id"], "trap", _Alert(
        "f1", alert_name="Link down", resource_type="port", native_resource_id="eth0", description="eth0 is down",
        location="agent 127.0.0.1, ifIndex 2", recovery_advice="Check the cable"))
    (active,) = wait_until(lambda: alertmanager.alerts(alert_uuid=row["id"]), 15, "the alert in Alertmanager")
    assert active["labels"] == {
        "alertname": "Link down", "storage_id": storage["id"], "storage_name": storage["name"], "severity": "major",
        "category": "fault", "type": "communications", "resource_type": "port", "native_resource_id": "eth0",
        "source": "trap", "alert_uuid": row["id"]}
    assert active["annotations"] == {
        "description": "eth0 is down", "location": "agent 127.0.0.1, ifIndex 2", "recovery_advice": "Check the cable",
        "sequence_number": "f1", "repeat_count": "1"}
    assert active["status"]["state"] == "active"
    wait_until(lambda: [e for e in alertmanager.webhook_events(alert_uuid=row["id"]) if e["status"] == "firing"],
               15, "the firing notification at the webhook")
    db_api.alert_clear(row["id"], "admin")
    wait_until(lambda: [e for e in alertmanager.webhook_events(alert_uuid=row["id"]) if e["status"] == "resolved"],
               15, "the resolved notification at the webhook")
    assert alertmanager.alerts(alert_uuid=row["id"]) == []
    # the event-style exporters got both states, in order; the outbox is empty
    def lines_of_the_alert():
        lines = [x for x in _jsonl() if x["alert"]["id"] == row["id"]]
        return lines if len(lines) >= 2 else None

    lines = wait_until(lines_of_the_alert, 10, "both jsonl lines")
    assert [x["status"] for x in lines] == ["firing", "resolved"]
    wait_until(lambda: db_api.alert_deliveries_backlog() == {}, 10, "an empty outbox")


def test_resend_keeps_an_open_alert_alive(dispatcher, storage, alertmanager):
    row, _ = db_api.alert_record(storage["id"], "trap", _Alert("r1"))
    (first,) = wait_until(lambda: alertmanager.alerts(alert_uuid=row["id"]), 15, "the alert in Alertmanager")
    # endsAt is now + 3 x resend_interval (3 s): a re-send moves it on, so it outlives its first endsAt
    ends = first["endsAt"]
    wait_until(lambda: [a for a in alertmanager.alerts(alert_uuid=row["id"]) if a["endsAt"] > ends], 15,
               "a re-send moving endsAt on")
    first_end = datetime.datetime.fromisoformat(ends.replace("Z", "+00:00"))
    wait_until(lambda: datetime.datetime.now(datetime.UTC) > first_end + datetime.timedelta(seconds=1), 10,
               "the first endsAt passing")
    assert alertmanager.alerts(alert_uuid=row["id"]), "the re-sent alert is still active"


def test_alertmanager_down_while_alerts_are_raised_loses_none(dispatcher, storage, alertmanager, caplog):
    caplog.set_level(logging.INFO, logger="delfin_like.alert_manager.dispatch")
    alertmanager.stop()
    try:
        rows = [db_api.alert_record(storage["id"], "trap", _Alert(f"d{i}"))[0] for i in range(5)]
        wait_until(lambda: _backlog("alertmanager")["retrying"] >= 5, 15, "failed attempts in the outbox")
        # the other exporters are not held back
        wait_until(lambda: {x["alert"]["id"] for x in _jsonl()} >= {r["id"] for r in rows}, 10, "the jsonl lines")
        wait_until(lambda: _backlog("jsonl")["pending"] == 0, 10, "the jsonl rows settled")
        db_api.alert_clear(rows[0]["id"], "admin")  # cleared while it is down
    finally:
        alertmanager.start()
    for r in rows[1:]:
        wait_until(lambda r=r: alertmanager.alerts(alert_uuid=r["id"]), 15, f"alert {r['sequence_number']}")
    wait_until(lambda: _backlog("alertmanager")["pending"] == 0, 15, "the alertmanager backlog delivered")
    assert alertmanager.alerts(alert_uuid=rows[0]["id"]) == []
    down = [r.getMessage() for r in caplog.records if "alertmanager is failing" in r.getMessage()]
    back = [r.getMessage() for r in caplog.records if "alertmanager delivers again" in r.getMessage()]
    assert len(down) == 1 and len(back) == 1, (down, back)  # one line each, however many attempts failed


def test_an_unwritable_jsonl_never_blocks_alertmanager_or_log(dispatcher, storage, alertmanager, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="delfin_like.exporters.alerts.log")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    CONF.set_override("path", str(blocker / "alerts.jsonl"), group="jsonl_alert_exporter")  # not a directory
    row, _ = db_api.alert_record(storage["id"], "trap", _Alert("j1"))
    wait_until(lambda: alertmanager.alerts(alert_uuid=row["id"]), 15, "the alert in Alertmanager")
    wait_until(lambda: [r for r in caplog.records if row["id"] in r.getMessage()], 10, "the log line")
    wait_until(lambda: _backlog("jsonl")["retrying"] == 1, 10, "the jsonl delivery failing")
    fixed = tmp_path / "fixed.jsonl"
    CONF.set_override("path", str(fixed), group="jsonl_alert_exporter")
    lines = wait_until(lambda: _jsonl(str(fixed)), 15, "the jsonl line once the path is fixed")
    assert [(x["alert"]["id"], x["status"]) for x in lines] == [(row["id"], "firing")]


def test_backlog_on_metrics(dispatcher, storage, alertmanager):
    from delfin_like.api.controllers import metrics

    dispatcher.stop()
    db_api.alert_record(storage["id"], "trap", _Alert("m1"))
    text = metrics.render().decode()
    for name in EXPORTERS:
        assert f'delfin_like_alert_deliveries_pending{{exporter="{name}"}} 1.0' in text
