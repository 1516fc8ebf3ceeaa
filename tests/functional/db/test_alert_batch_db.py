"""The trap sink's bulk write of a batch of alerts gives the rows and outbox rows of recording the same
items one by one, on SQLite, PostgreSQL and MariaDB (issue 14, traps in)."""

import datetime

import pytest
import sqlalchemy as sa

from delfin_like.common import exception
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.db.sqlalchemy import alerts as alert_sql
from delfin_like.db.sqlalchemy import engine as db_engine
from tests.db_helpers import register, registration_body, sync
from tests.functional.db.test_alerts_db import _Alert

BEFORE = datetime.datetime(2026, 3, 1, 9, 0)
AT = datetime.datetime(2026, 3, 1, 10, 0)


def _storages(first_port: int) -> dict:
    """Two synced storages, one removed and one being deleted, by role."""
    out = {}
    for n, role in enumerate(("a", "b", "gone", "deleting")):
        storage, task = register(registration_body(port=first_port + n, volumes=2, pools=2))
        sync(storage["id"], task["id"])
        out[role] = storage["id"]
    db_api.storage_remove(out["gone"])
    db_api.storage_mark_deleting(out["deleting"])
    return out


def _stored_before(ids: dict) -> None:
    db_api.alert_record(ids["a"], "trap", _Alert("10"), seen_at=BEFORE)
    db_api.alert_record(ids["a"], "sync", _Alert("11", cleared=True), seen_at=BEFORE)
    db_api.alert_record(ids["b"], "trap", _Alert("12"), seen_at=BEFORE)


def _batch(ids: dict) -> list:
    pool = {"resource_type": "storage_pool", "native_resource_id": "pool-1"}
    return [
        (ids["a"], "trap", _Alert("1", **pool)),  # new, linked to its inventory row
        (ids["a"], "trap", _Alert("1", description="again", **pool)),  # a repeat in the same batch
        (ids["a"], "trap", _Alert("10", severity="critical")),  # a repeat of a stored row
        (ids["a"], "trap", _Alert("10", cleared=True)),  # ... cleared
        (ids["a"], "sync", _Alert("10")),  # ... reopened (the same array event through alert sync)
        (ids["a"], "trap", _Alert("11")),  # a stored cleared row reopened
        (ids["a"], "trap", _Alert("2", cleared=True)),  # new and cleared
        (ids["a"], "sync", _Alert("2", cleared=True, description="still")),  # cleared again: keeps who and when
        (ids["a"], "platform", _Alert("1")),  # another origin: another row
        (ids["b"], "trap", _Alert("1")),  # another storage, the same number
        (ids["b"], "trap", _Alert("1", cleared=True)),  # new in the batch, then cleared
        (ids["b"], "trap", _Alert("1", native_resource_id="x", resource_type="disk")),  # ... and reopened
        (ids["b"], "trap", _Alert("12", cleared=True)),
        (ids["gone"], "trap", _Alert("3")),  # StorageNotFound for this one only
        (ids["deleting"], "trap", _Alert("4")),  # StorageBeingDeleted
        (ids["a"], "trap", _Alert("")),  # InvalidInput: no sequence number
        (ids["a"], "nowhere", _Alert("5")),  # InvalidInput: unknown source
        (ids["b"], "trap", _Alert("3", occur_time=datetime.datetime(2026, 3, 1, 8, 0, tzinfo=datetime.UTC))),
    ]


def _one_by_one(items) -> list:
    out = []
    for storage_id, source, alert in items:
        try:
            out.append((None, db_api.alert_record(storage_id, source, alert, seen_at=AT)[1]))
        except exception.DelfinLikeException as e:
            out.append(e)
    return out


def _snapshot(ids: dict) -> tuple[list, list]:
    """The rows of the storages' alerts and their outbox rows, with ids replaced by what they stand for."""
    role = {v: k for k, v in ids.items()}
    with db_engine.get_engine().connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.text("SELECT * FROM alerts"))]
        links = {r.id: (r.native_storage_pool_id,) for r in conn.execute(
            sa.text("SELECT id, native_storage_pool_id FROM storage_pools"))}
        deliveries = [dict(r._mapping) for r in conn.execute(sa.text("SELECT * FROM alert_deliveries"))]
    rows = [r for r in rows if r["storage_id"] in role]
    key = {r["id"]: (role[r["storage_id"]], r["origin"], r["sequence_number"]) for r in rows}
    for r in rows:
        r["id"] = key[r["id"]]
        r["storage_id"] = role[r["storage_id"]]
        rid = r["resource_row_id"]
        r["resource_row_id"] = role.get(rid) or links.get(rid, rid)
    deliveries = [{**d, "alert_uuid": key[d["alert_uuid"]]} for d in deliveries if d["alert_uuid"] in key]
    return sorted(rows, key=lambda r: r["id"]), sorted(deliveries, key=lambda d: (d["alert_uuid"], d["exporter"],
                                                                                  d["event"]))


def _outcomes(results) -> list:
    return [type(r).__name__ if isinstance(r, Exception) else r for r in results]


@pytest.fixture
def exporters(any_db):
    CONF.set_override("enabled", ["alertmanager", "jsonl"], group="alert_exporters")
    yield
    CONF.clear_override("enabled", group="alert_exporters")


def test_the_bulk_batch_writes_what_one_by_one_writes(exporters, monkeypatch):
    one, bulk = _storages(9100), _storages(9200)
    _stored_before(one)
    _stored_before(bulk)
    expected = _one_by_one(_batch(one))

    def not_one_by_one(*args, **kwargs):
        raise AssertionError("the batch took the one-by-one path")

    monkeypatch.setattr(alert_sql, "_record_many_once", not_one_by_one)
    got = db_api.alert_record_many(_batch(bulk), seen_at=AT, want_rows=False)
    monkeypatch.undo()
    assert _outcomes(got) == _outcomes(expected)
    assert _outcomes(got)[:3] == [(None, True), (None, False), (None, False)]
    assert _outcomes(got)[13:17] == ["StorageNotFound", "StorageBeingDeleted", "InvalidInput", "InvalidInput"]
    rows_one, outbox_one = _snapshot(one)
    rows_bulk, outbox_bulk = _snapshot(bulk)
    assert rows_bulk == rows_one
    assert outbox_bulk == outbox_one
    by_key = {r["id"]: r for r in rows_bulk}
    assert by_key[("a", "array", "1")]["repeat_count"] == 2
    assert by_key[("a", "array", "1")]["resource_row_id"] == ("pool-1",)
    assert by_key[("a", "array", "10")]["state"] == "open" and by_key[("a", "array", "10")]["repeat_count"] == 4
    assert by_key[("a", "array", "2")]["cleared_by"] == "trap"
    generations = {(d["alert_uuid"], d["exporter"], d["event"]): d["generation"] for d in outbox_bulk}
    assert generations[(("b", "array", "1"), "jsonl", "firing")] == 1  # queued twice in the batch
    # a later batch of repeats on the stored rows: the same again, and nothing new queued for an open repeat
    again = [(ids["a"], "trap", _Alert("1")) for ids in (one,)]
    _one_by_one(again)
    db_api.alert_record_many([(bulk["a"], "trap", _Alert("1"))], seen_at=AT, want_rows=False)
    assert _snapshot(bulk) == _snapshot(one)


def test_a_batch_with_a_recovery_clears_the_faults_it_ends(exporters):
    ids = _storages(9300)
    port = {"resource_type": "port", "native_resource_id": "port-1", "type": "communications"}
    db_api.alert_record(ids["a"], "trap", _Alert("20", **port), seen_at=BEFORE)
    results = db_api.alert_record_many([
        (ids["a"], "trap", _Alert("21", **port)),
        (ids["a"], "trap", _Alert("22", category="recovery", **port)),
    ], seen_at=AT, want_rows=False)
    assert results == [(None, True), (None, True)]
    rows = {r["sequence_number"]: r for r in db_api.alert_list({"storage_id": ids["a"]})}
    assert {s: (r["state"], r["cleared_by"]) for s, r in rows.items()} == {
        "20": ("cleared", "recovery"), "21": ("cleared", "recovery"), "22": ("cleared", "trap")}


def test_a_batch_of_dicts(exporters):
    ids = _storages(9400)
    results = db_api.alert_record_many([(ids["a"], "trap", {"sequence_number": 7, "alert_id": "x", "alert_name": "y",
                                                            "severity": "minor", "category": "fault",
                                                            "type": "other"})], want_rows=False)
    assert results == [(None, True)]
    (row,) = db_api.alert_list({"storage_id": ids["a"]})
    assert (row["sequence_number"], row["resource_type"], row["resource_row_id"]) == ("7", "storage", ids["a"])


def test_a_row_inserted_meanwhile_makes_the_batch_go_one_by_one(exporters, monkeypatch):
    """A concurrent receiver stored the alert after the bulk path read the stored rows: the insert
    fails, the transaction rolls back, and the batch is recorded one by one (that one a repeat)."""
    from delfin_like.db.sqlalchemy import alert_batch

    ids = _storages(9500)
    db_api.alert_record(ids["a"], "trap", _Alert("30"), seen_at=BEFORE)
    monkeypatch.setattr(alert_batch, "_stored_rows", lambda conn, storage_id, keys: {})  # read before it was there
    results = db_api.alert_record_many([(ids["a"], "trap", _Alert("31")), (ids["a"], "trap", _Alert("30"))],
                                       seen_at=AT, want_rows=False)
    assert results == [(None, True), (None, False)]
    rows = {r["sequence_number"]: r for r in db_api.alert_list({"storage_id": ids["a"]})}
    assert (rows["30"]["repeat_count"], rows["31"]["repeat_count"]) == (2, 1)
