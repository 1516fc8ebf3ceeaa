"""The alert delivery outbox in the db layer, on SQLite, PostgreSQL and MariaDB (issue 14, alerts out):
every writer queues in its own transaction, a repeat queues nothing, a recovery clears the faults it
ends, and the dispatcher's reads and settles keep what was queued again meanwhile."""

import datetime

import pytest

from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from tests.db_helpers import register, registration_body, sync
from tests.functional.db.test_alerts_db import _Alert


def _storage():
    CONF.set_override("enabled", ["alertmanager", "jsonl"], group="alert_exporters")
    storage, task = register(registration_body(volumes=2, pools=1))
    sync(storage["id"], task["id"])
    return storage


@pytest.fixture
def storage(any_db):
    """On every database: the tests whose SQL differs by dialect (upsert, settle, expiry, cascade)."""
    yield _storage()
    CONF.clear_override("enabled", group="alert_exporters")


@pytest.fixture
def sqlite_storage(sqlite_db):
    """SQLite only: the writers' logic, the same SQL on every database."""
    yield _storage()
    CONF.clear_override("enabled", group="alert_exporters")


def _pending(exporter="jsonl") -> dict[tuple[str, str], int]:
    """(alert id, event) -> generation of the exporter's queued deliveries, due or not."""
    far = datetime.datetime(2100, 1, 1)
    return {(r["alert_uuid"], r["event"]): r["generation"] for r in db_api.alert_deliveries_due(exporter, 10_000, far)}


def test_new_clear_reopen_queue_and_a_repeat_does_not(storage):
    row, _ = db_api.alert_record(storage["id"], "trap", _Alert("1"))
    assert _pending("jsonl") == {(row["id"], "firing"): 0} == _pending("alertmanager")
    db_api.alert_record(storage["id"], "trap", _Alert("1", description="again"))  # a repeat: no state change
    assert _pending() == {(row["id"], "firing"): 0}
    db_api.alert_clear(row["id"], "admin")
    db_api.alert_clear(row["id"], "admin")  # already cleared: nothing
    assert _pending() == {(row["id"], "firing"): 0, (row["id"], "resolved"): 0}
    db_api.alert_record(storage["id"], "trap", _Alert("1"))  # reopens: the pending firing is queued again
    assert _pending() == {(row["id"], "firing"): 1, (row["id"], "resolved"): 0}
    backlog = db_api.alert_deliveries_backlog()
    assert backlog["jsonl"]["pending"] == backlog["alertmanager"]["pending"] == 2


def test_nothing_queued_without_enabled_exporters(sqlite_storage):
    storage = sqlite_storage
    CONF.set_override("enabled", [], group="alert_exporters")
    db_api.alert_record(storage["id"], "trap", _Alert("1"))
    assert db_api.alert_deliveries_backlog() == {}


def test_alert_sync_and_clear_by_sequence_queue_their_changes(sqlite_storage):
    storage = sqlite_storage
    task, _ = db_api.task_create_alert_sync(storage["id"], "urgent")
    assert db_api.task_claim(task["id"], "owner", 60)
    listed = [_Alert("s1"), _Alert("s2", cleared=True)]
    db_api.alert_sync_apply(storage["id"], task["id"], "owner", listed)
    by_seq = {a["sequence_number"]: a["id"] for a in db_api.alert_list({"storage_id": storage["id"]})}
    assert _pending() == {(by_seq["s1"], "firing"): 0, (by_seq["s2"], "resolved"): 0}
    db_api.alert_deliveries_settle("jsonl", [(by_seq["s1"], "firing", 0), (by_seq["s2"], "resolved", 0)])
    task, _ = db_api.task_create_alert_sync(storage["id"], "urgent")
    assert db_api.task_claim(task["id"], "owner", 60)
    # s1 now cleared on the array, s2 reopened, an unchanged listing of either would queue nothing
    db_api.alert_sync_apply(storage["id"], task["id"], "owner", [_Alert("s1", cleared=True), _Alert("s2")])
    assert _pending() == {(by_seq["s1"], "resolved"): 0, (by_seq["s2"], "firing"): 0}
    row, _ = db_api.alert_record(storage["id"], "trap", _Alert("s1"))
    db_api.alert_deliveries_settle("jsonl", [(k[0], k[1], g) for k, g in _pending().items()])
    db_api.alerts_clear_sequence(storage["id"], "s1", "api")  # the trap one (open) and the sync one (cleared)
    assert _pending() == {(row["id"], "resolved"): 0}


def test_a_recovery_clears_the_faults_of_its_resource_and_type(sqlite_storage):
    storage = sqlite_storage
    sid = storage["id"]
    down, _ = db_api.alert_record(sid, "trap", _Alert("d1", resource_type="port", native_resource_id="eth0"))
    other_port, _ = db_api.alert_record(sid, "trap", _Alert("d2", resource_type="port", native_resource_id="eth1"))
    other_type, _ = db_api.alert_record(sid, "trap", _Alert("d3", resource_type="port", native_resource_id="eth0",
                                                            type="equipment"))
    by_location, _ = db_api.alert_record(sid, "trap", _Alert("d4", resource_type="port",
                                                             location="agent 127.0.0.1, ifIndex 3"))
    event, _ = db_api.alert_record(sid, "trap", _Alert("d5", resource_type="port", native_resource_id="eth0",
                                                       category="event"))
    up, _ = db_api.alert_record(sid, "trap", _Alert("u1", alert_id="linkUp", severity="informational",
                                                    category="recovery", resource_type="port",
                                                    native_resource_id="eth0"))
    states = {a["id"]: (a["state"], a["cleared_by"]) for a in db_api.alert_list({"storage_id": sid})}
    assert states[down["id"]] == ("cleared", "recovery")
    assert states[other_port["id"]] == states[other_type["id"]] == states[by_location["id"]] == ("open", None)
    assert states[event["id"]] == ("open", None)
    assert states[up["id"]] == ("cleared", "trap")  # the recovery itself: nothing left to act on
    assert (down["id"], "resolved") in _pending()
    assert (up["id"], "resolved") in _pending() and (up["id"], "firing") not in _pending()
    # no native id: the location tells the port
    db_api.alert_record(sid, "trap", _Alert("u2", category="recovery", resource_type="port",
                                            location="agent 127.0.0.1, ifIndex 3"))
    assert db_api.alert_get(by_location["id"])["state"] == "cleared"
    assert db_api.alert_get(other_port["id"])["state"] == "open"


def test_settle_keeps_a_row_queued_again_and_failures_back_off(storage):
    row, _ = db_api.alert_record(storage["id"], "trap", _Alert("1"))
    (due,) = db_api.alert_deliveries_due("jsonl", 10)
    assert due["alert"]["storage_name"] == storage["name"] and due["alert"]["state"] == "open"
    db_api.alert_clear(row["id"], "admin")
    db_api.alert_record(storage["id"], "trap", _Alert("1"))  # reopened while the dispatcher delivered
    db_api.alert_deliveries_settle("jsonl", [(row["id"], "firing", due["generation"])])
    assert (row["id"], "firing") in _pending()  # generation 1 stays for the next round
    later = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) + datetime.timedelta(hours=1)
    db_api.alert_deliveries_settle("jsonl", [], [(row["id"], "firing", later), (row["id"], "resolved", later)],
                                   "ConnectionError: refused")
    assert db_api.alert_deliveries_due("jsonl", 10) == []
    assert db_api.alert_deliveries_backlog()["jsonl"] == {
        "pending": 2, "retrying": 2, "oldest": db_api.alert_deliveries_backlog()["jsonl"]["oldest"]}
    assert db_api.alert_deliveries_due("alertmanager", 10)  # the other exporter is not held back


def test_expire_disabled_exporters_and_prune_by_age(storage):
    db_api.alert_record(storage["id"], "trap", _Alert("1"))
    db_api.alert_record(storage["id"], "trap", _Alert("2"))
    assert db_api.alert_deliveries_expire(["alertmanager"]) == {"jsonl": 2}
    assert set(db_api.alert_deliveries_backlog()) == {"alertmanager"}
    future = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) + datetime.timedelta(seconds=5)
    assert db_api.alert_deliveries_prune_before(future, 1) == 1
    assert db_api.alert_deliveries_prune_before(future, 10) == 1
    assert db_api.alert_deliveries_backlog() == {}


def test_deliveries_go_with_their_alert(storage):
    db_api.alert_record(storage["id"], "trap", _Alert("1"))
    assert db_api.alerts_prune_cleared_before(datetime.datetime(2100, 1, 1), 10) == 0
    row = db_api.alert_list({"storage_id": storage["id"]})[0]
    db_api.alert_clear(row["id"], "admin")
    assert db_api.alerts_prune_cleared_before(datetime.datetime(2100, 1, 1), 10) == 1
    assert db_api.alert_deliveries_backlog() == {}


def test_open_alerts_page_for_the_resend(sqlite_storage):
    storage = sqlite_storage
    ids = sorted(db_api.alert_record(storage["id"], "trap", _Alert(str(i)))[0]["id"] for i in range(5))
    db_api.alert_clear(ids[2], "admin")
    first = db_api.alerts_open_page(None, 2)
    rest = db_api.alerts_open_page(first[-1]["id"], 10)
    assert [a["id"] for a in first + rest] == [i for i in ids if i != ids[2]]
    assert rest[0]["storage_name"] == storage["name"]
