"""Alerts and alert sources in the db layer, on SQLite, PostgreSQL and MariaDB (issue 14)."""

import dataclasses
import datetime

import pytest
import sqlalchemy as sa

from delfin_like.common import exception
from delfin_like.db import api as db_api
from delfin_like.db.sqlalchemy import engine as db_engine
from tests.db_helpers import register, registration_body, sync

UTC = datetime.UTC


@dataclasses.dataclass
class _Alert:
    """What the trap receiver and the syncs hand over: the sdk Alert's attributes (contract)."""

    sequence_number: str
    alert_id: str = "linkDown"
    alert_name: str = "Link down"
    severity: str = "major"
    category: str = "fault"
    type: str = "communications"
    description: str = ""
    occur_time: datetime.datetime | None = None
    resource_type: str = "storage"
    native_resource_id: str | None = None
    location: str | None = None
    recovery_advice: str | None = None
    cleared: bool = False


@pytest.fixture
def storage(any_db):
    storage, task = register(registration_body(volumes=5, pools=1))
    sync(storage["id"], task["id"])
    return storage


def _raw_alert_sources():
    engine = db_engine.get_engine()
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text("SELECT * FROM alert_sources"))]


def test_a_repeated_alert_is_one_row_with_a_count(storage):
    first_at = datetime.datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    row, created = db_api.alert_record(storage["id"], "trap", _Alert("42"), seen_at=first_at)
    assert created and row["repeat_count"] == 1 and row["state"] == "open"
    assert row["first_seen"] == row["last_seen"] == first_at.replace(tzinfo=None)
    again, created = db_api.alert_record(
        storage["id"], "trap", _Alert("42", description="again"), seen_at=first_at + datetime.timedelta(minutes=5))
    assert not created and again["id"] == row["id"] and again["repeat_count"] == 2
    assert again["first_seen"] == row["first_seen"] and again["last_seen"] > row["last_seen"]
    assert again["description"] == "again"
    # the same array event seen by alert sync is the same alert (trap and sync share the identity)
    synced, created = db_api.alert_record(storage["id"], "sync", {"sequence_number": "42", "alert_id": "x",
                                                                  "alert_name": "x", "severity": "minor",
                                                                  "category": "event", "type": "equipment"})
    assert not created and synced["id"] == row["id"] and synced["source"] == "trap"
    # the platform numbers its own alerts: the same sequence number there is another alert
    _, created = db_api.alert_record(storage["id"], "platform", _Alert("42"))
    assert created
    assert len(db_api.alert_list({"storage_id": storage["id"]})) == 2


def test_an_alert_links_the_inventory_row_when_it_exists(storage):
    volume = db_api.resource_list("volumes", {"storage_id": storage["id"]})[0]
    row, _ = db_api.alert_record(storage["id"], "trap", _Alert(
        "1", resource_type="volume", native_resource_id=volume["native_volume_id"]))
    assert row["resource_row_id"] == volume["id"]
    row, _ = db_api.alert_record(storage["id"], "trap", _Alert(
        "2", resource_type="volume", native_resource_id="no-such-volume"))
    assert row["resource_row_id"] is None and row["native_resource_id"] == "no-such-volume"
    row, _ = db_api.alert_record(storage["id"], "trap", _Alert("3"))
    assert row["resource_type"] == "storage" and row["resource_row_id"] == storage["id"]


def test_clear_records_who_and_when_and_a_repeat_reopens(storage):
    row, _ = db_api.alert_record(storage["id"], "trap", _Alert("9"))
    cleared = db_api.alert_clear(row["id"], "admin")
    assert cleared["state"] == "cleared" and cleared["cleared_by"] == "admin" and cleared["cleared_at"]
    assert db_api.alert_clear(row["id"], "someone-else")["cleared_by"] == "admin"
    reopened, _ = db_api.alert_record(storage["id"], "trap", _Alert("9"))
    assert reopened["state"] == "open" and reopened["cleared_by"] is None and reopened["repeat_count"] == 2
    by_array, _ = db_api.alert_record(storage["id"], "trap", _Alert("9", cleared=True))
    assert by_array["state"] == "cleared" and by_array["cleared_by"] == "trap"
    with pytest.raises(exception.AlertNotFound):
        db_api.alert_clear("no-such-alert", "admin")
    with pytest.raises(exception.AlertNotFound):
        db_api.alert_get("no-such-alert")


def test_unknown_storage_or_source_is_refused(any_db):
    with pytest.raises(exception.StorageNotFound):
        db_api.alert_record("no-such-storage", "trap", _Alert("1"))
    with pytest.raises(exception.InvalidInput):
        db_api.alert_record("no-such-storage", "email", _Alert("1"))


def test_alert_list_filters_window_sort_and_pages(storage):
    base = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(7):
        db_api.alert_record(storage["id"], "trap", _Alert(str(i), severity="critical" if i % 2 else "minor"),
                            seen_at=base + datetime.timedelta(hours=i))
    newest_first = db_api.alert_list({"storage_id": storage["id"]}, with_count=True)
    assert [a["sequence_number"] for a in newest_first] == [str(i) for i in reversed(range(7))]
    assert newest_first.total == 7
    critical = db_api.alert_list({"severity": "critical"}, sort="last_seen:asc")
    assert [a["sequence_number"] for a in critical] == ["1", "3", "5"]
    window = db_api.alert_list(since=base + datetime.timedelta(hours=2), until=base + datetime.timedelta(hours=4),
                               with_count=True)
    assert sorted(a["sequence_number"] for a in window) == ["2", "3", "4"] and window.total == 3
    first = db_api.alert_list(limit=3)
    rest = db_api.alert_list(limit=10, marker=first[-1]["id"])
    assert [a["id"] for a in first + rest] == [a["id"] for a in newest_first]
    with pytest.raises(exception.InvalidInput):
        db_api.alert_list({"password": "x"})


def test_retention_prunes_only_old_cleared_alerts(storage):
    old, _ = db_api.alert_record(storage["id"], "trap", _Alert("old"))
    db_api.alert_clear(old["id"], "admin")
    db_api.alert_record(storage["id"], "trap", _Alert("open"))
    assert db_api.alerts_prune_cleared_before(datetime.datetime(2000, 1, 1, tzinfo=UTC), 100) == 0
    later = datetime.datetime.now(UTC) + datetime.timedelta(minutes=1)
    assert db_api.alerts_prune_cleared_before(later, 100) == 1
    assert [a["sequence_number"] for a in db_api.alert_list()] == ["open"]


def test_alert_source_secrets_are_encrypted_and_write_only(storage):
    values = {"version": "snmpv3", "username": "trapuser", "security_level": "authPriv",
              "auth_protocol": "SHA", "auth_key": "auth-secret-1", "privacy_protocol": "AES",
              "privacy_key": "priv-secret-2", "engine_id": "800000020109840301", "host": "127.0.0.1",
              "port": 162, "retry_num": 1, "expiration": 2000}
    shown = db_api.alert_source_put(storage["id"], values)
    assert shown["username"] == "trapuser" and shown["port"] == 162
    assert "auth-secret" not in str(shown) and "priv-secret" not in str(shown)
    assert "auth_key" not in db_api.alert_source_get(storage["id"])
    revealed = db_api.alert_source_get(storage["id"], reveal=True)
    assert revealed["auth_key"] == "auth-secret-1" and revealed["privacy_key"] == "priv-secret-2"
    (raw,) = _raw_alert_sources()
    assert raw["auth_key"] and "auth-secret" not in raw["auth_key"] and "priv-secret" not in raw["privacy_key"]

    # a put replaces the whole config
    db_api.alert_source_put(storage["id"], {"version": "snmpv2c", "community_string": "c0mmunity",
                                            "host": "127.0.0.1", "port": 1162, "retry_num": 2, "expiration": 1000})
    (listed,) = db_api.alert_source_page()
    assert listed["version"] == "snmpv2c" and listed["username"] is None and "community_string" not in listed
    assert db_api.alert_sources_for_receivers()[0]["community_string"] == "c0mmunity"
    (raw,) = _raw_alert_sources()
    assert "c0mmunity" not in raw["community_string"] and raw["auth_key"] is None

    db_api.alert_source_delete(storage["id"])
    with pytest.raises(exception.AlertSourceNotFound):
        db_api.alert_source_get(storage["id"])
    with pytest.raises(exception.AlertSourceNotFound):
        db_api.alert_source_delete(storage["id"])
    with pytest.raises(exception.StorageNotFound):
        db_api.alert_source_put("no-such-storage", values)


def test_alerts_and_alert_source_go_with_their_storage(storage):
    db_api.alert_record(storage["id"], "trap", _Alert("1"))
    db_api.alert_source_put(storage["id"], {"version": "snmpv2c", "community_string": "c", "host": "127.0.0.1",
                                            "port": 162, "retry_num": 1, "expiration": 1000})
    db_api.storage_mark_deleting(storage["id"])
    with pytest.raises(exception.StorageBeingDeleted):
        db_api.alert_record(storage["id"], "trap", _Alert("2"))
    db_api.storage_remove(storage["id"])
    assert db_api.alert_list() == [] and list(db_api.alert_source_page()) == []


def test_record_many_is_one_batch_that_skips_a_storage_gone(storage):
    """The trap sink's batch: repeats within it bump the row an earlier one made; an alert of a
    storage that is gone is reported for that one, the others are stored."""
    results = db_api.alert_record_many([
        (storage["id"], "trap", _Alert("61")),
        ("no-such-storage", "trap", _Alert("62")),
        (storage["id"], "trap", _Alert("61", description="again")),
        (storage["id"], "sync", _Alert("63")),
    ], want_rows=False)
    assert [r if isinstance(r, exception.StorageNotFound) else r[1] for r in results][0::2] == [True, False]
    assert isinstance(results[1], exception.StorageNotFound) and results[3] == (None, True)
    rows = {r["sequence_number"]: r for r in db_api.alert_list({"storage_id": storage["id"]})}
    assert (rows["61"]["repeat_count"], rows["61"]["description"], rows["63"]["source"]) == (2, "again", "sync")
    bad = db_api.alert_record_many([(storage["id"], "nowhere", _Alert("64")), (storage["id"], "trap", _Alert("")),
                                    (storage["id"], "trap", _Alert("65"))])
    assert [type(r).__name__ for r in bad[:2]] == ["InvalidInput", "InvalidInput"] and bad[2][1] is True
    assert "64" not in {r["sequence_number"] for r in db_api.alert_list({"storage_id": storage["id"]})}
