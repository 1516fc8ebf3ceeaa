"""Every alembic revision upgrades an empty database to head, walks back down and up
again, and head matches the models exactly (no drift), on SQLite, PostgreSQL and MariaDB."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from delfin_like.db import migration
from delfin_like.db.sqlalchemy import (
    alert_outbox,  # noqa: F401 - its table joins models.Base.metadata
    jobs,  # noqa: F401 - its table joins models.Base.metadata
    metrics,  # noqa: F401 - its tables join models.Base.metadata
    models,
)
from delfin_like.db.sqlalchemy import engine as db_engine


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def empty_db(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrate.sqlite'}"
    return request.getfixturevalue(f"{request.param}_url")


def _revisions_base_to_head():
    script = ScriptDirectory.from_config(migration._config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def _drift(url: str) -> list:
    engine = db_engine.create_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(ctx, models.Base.metadata)
    finally:
        engine.dispose()


def test_upgrade_each_revision_then_no_drift(empty_db):
    assert migration.current(empty_db) is None
    for revision in _revisions_base_to_head():
        migration.upgrade(revision, url=empty_db)  # from the previous revision's schema
        assert migration.current(empty_db) == revision
    assert migration.current(empty_db) == migration.head()
    assert _drift(empty_db) == []


def test_downgrade_to_base_and_up_again(empty_db):
    migration.upgrade("head", url=empty_db)
    migration.downgrade("base", url=empty_db)
    engine = db_engine.create_engine(empty_db)
    try:
        tables = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()
    assert tables == set()
    migration.upgrade("head", url=empty_db)
    assert _drift(empty_db) == []


def test_unique_native_ids_enforced_by_the_database(empty_db):
    migration.upgrade("head", url=empty_db)
    engine = db_engine.create_engine(empty_db)
    try:
        uniques = {
            table: {tuple(u["column_names"]) for u in sa.inspect(engine).get_unique_constraints(table)}
            for table in ("storage_pools", "volumes", "storages", "storage_endpoints")
        }
    finally:
        engine.dispose()
    assert ("storage_id", "native_storage_pool_id") in uniques["storage_pools"]
    assert ("storage_id", "native_volume_id") in uniques["volumes"]
    assert ("serial_number",) in uniques["storages"]
    assert ("host", "port") in uniques["storage_endpoints"]
    # the unique index leads with storage_id, so it is the index by-storage queries use


def test_rows_survive_the_upgrade_from_the_previous_revision(empty_db):
    """A database holding data at 0001 upgrades to head with that data intact."""
    migration.upgrade("0001", url=empty_db)
    engine = db_engine.create_engine(empty_db)
    now = "2026-01-01 00:00:00"
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO storages (id, name, vendor, model, serial_number, status, raw_capacity, total_capacity,"
                " used_capacity, free_capacity, subscribed_capacity, fingerprint, deleting, created_at)"
                " VALUES ('s1', 'a', 'v', 'm', 'SN1', 'normal', 1, 1, 0, 1, 0, 'f', :false, :now)"
            ), {"false": False, "now": now})
            conn.execute(sa.text(
                "INSERT INTO volumes (id, storage_id, native_volume_id, name, status, type, total_capacity,"
                " used_capacity, free_capacity, fingerprint, created_at)"
                " VALUES ('v1', 's1', 'vol-1', 'v', 'available', 'thin', 1, 0, 1, 'f', :now)"
            ), {"now": now})
        migration.upgrade("head", url=empty_db)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT serial_number, capabilities FROM storages")).all() == [("SN1", None)]
            assert conn.execute(sa.text("SELECT native_volume_id FROM volumes")).scalars().all() == ["vol-1"]
            assert conn.execute(sa.text("SELECT COUNT(*) FROM disks")).scalar() == 0
    finally:
        engine.dispose()


def test_upgrade_from_0002_schedules_existing_storages(empty_db):
    """At 0003 every storage registered before gets the default periodic sync, spread over one
    interval; tasks keep their rows with no back-off; task managers start empty."""
    migration.upgrade("0002", url=empty_db)
    engine = db_engine.create_engine(empty_db)
    now = "2026-01-01 00:00:00"
    try:
        with engine.begin() as conn:
            for i in (1, 2):
                conn.execute(sa.text(
                    "INSERT INTO storages (id, name, vendor, model, serial_number, status, raw_capacity,"
                    " total_capacity, used_capacity, free_capacity, subscribed_capacity, fingerprint, deleting,"
                    " created_at) VALUES (:id, 'a', 'v', 'm', :sn, 'normal', 1, 1, 0, 1, 0, 'f', :false, :now)"
                ), {"id": f"s{i}", "sn": f"SN{i}", "false": False, "now": now})
            conn.execute(sa.text(
                "INSERT INTO tasks (id, type, storage_id, priority, status, attempts, created_at)"
                " VALUES ('t1', 'sync', 's1', 'normal', 'RUNNING', 1, :now)"
            ), {"now": now})
        migration.upgrade("0003", url=empty_db)
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT storage_id, kind, resource_type, interval_seconds, enabled, next_run_at, created_at"
                " FROM schedules ORDER BY storage_id")).all()
            assert [(r.storage_id, r.kind, r.resource_type, r.interval_seconds, bool(r.enabled)) for r in rows] == [
                ("s1", "periodic_sync", "storage", 3600, True), ("s2", "periodic_sync", "storage", 3600, True)]
            offsets = [(_as_datetime(r.next_run_at) - _as_datetime(r.created_at)).total_seconds() for r in rows]
            assert offsets == [1800, 3600]
            assert conn.execute(sa.text("SELECT id, status, not_before FROM tasks")).all() == [
                ("t1", "RUNNING", None)]
            assert conn.execute(sa.text("SELECT COUNT(*) FROM task_managers")).scalar() == 0
        migration.downgrade("0002", url=empty_db)
        assert "schedules" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _as_datetime(value):
    import datetime

    return value if isinstance(value, datetime.datetime) else datetime.datetime.fromisoformat(value)


def test_a_schedule_goes_with_its_storage(empty_db):
    """schedules.storage_id cascades: deleting a storage row deletes its schedules."""
    migration.upgrade("0003", url=empty_db)
    engine = db_engine.create_engine(empty_db)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO storages (id, name, vendor, model, serial_number, status, raw_capacity, total_capacity,"
                " used_capacity, free_capacity, subscribed_capacity, fingerprint, deleting, created_at)"
                " VALUES ('s1', 'a', 'v', 'm', 'SN1', 'normal', 1, 1, 0, 1, 0, 'f', :false, '2026-01-01')"
            ), {"false": False})
            conn.execute(sa.text(
                "INSERT INTO schedules (id, storage_id, kind, resource_type, enabled, created_at)"
                " VALUES ('p1', 's1', 'periodic_sync', 'storage', :true, '2026-01-01')"), {"true": True})
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM storages"))
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT COUNT(*) FROM schedules")).scalar() == 0
    finally:
        engine.dispose()


def _storage_with_volumes(engine, count: int) -> None:
    """Storage ``s1`` with ``count`` volumes, in the columns every revision since 0001 has."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO storages (id, name, vendor, model, serial_number, status, raw_capacity, total_capacity,"
            " used_capacity, free_capacity, subscribed_capacity, fingerprint, deleting, created_at)"
            " VALUES ('s1', 'a', 'v', 'm', 'SN1', 'normal', 1, 1, 0, 1, 0, 'f', :false, :now)"
        ), {"false": False, "now": "2026-01-01 00:00:00"})
        conn.execute(sa.text(
            "INSERT INTO volumes (id, storage_id, native_volume_id, name, status, type, total_capacity,"
            " used_capacity, free_capacity, fingerprint, created_at)"
            " VALUES (:id, 's1', :id, :id, 'available', 'thin', 1, 0, 1, 'f', '2026-01-01 00:00:00')"
        ), [{"id": f"v{i}"} for i in range(count)])


def test_upgrade_from_0009_adds_the_list_indexes_with_rows_in_place(empty_db):
    """0010 builds the keyset-paging indexes over a table that already holds volumes."""
    migration.upgrade("0009", url=empty_db)
    engine = db_engine.create_engine(empty_db)
    try:
        _storage_with_volumes(engine, 20)
        migration.upgrade("0010", url=empty_db)
        with engine.connect() as conn:
            indexes = {i["name"]: i["column_names"] for i in sa.inspect(conn).get_indexes("volumes")}
            assert indexes["ix_volumes_created_at_id"] == ["created_at", "id"]
            assert indexes["ix_volumes_storage_id_name_id"] == ["storage_id", "name", "id"]
            assert conn.execute(sa.text("SELECT COUNT(*) FROM volumes")).scalar() == 20
        migration.downgrade("0009", url=empty_db)
        with engine.connect() as conn:
            assert "ix_volumes_created_at_id" not in {i["name"] for i in sa.inspect(conn).get_indexes("volumes")}
    finally:
        engine.dispose()


def test_upgrade_from_0010_swaps_the_filter_indexes_with_rows_in_place(empty_db):
    """0011 turns the name indexes into (name, created_at, id) and adds (status, created_at, id) to
    tasks and jobs, over tables that hold rows; the downgrade puts 0010's indexes back."""
    migration.upgrade("0010", url=empty_db)
    engine = db_engine.create_engine(empty_db)
    try:
        _storage_with_volumes(engine, 20)
        migration.upgrade("0011", url=empty_db)

        def indexes(conn, table):
            return {i["name"]: i["column_names"] for i in sa.inspect(conn).get_indexes(table)}

        with engine.connect() as conn:
            volumes = indexes(conn, "volumes")
            assert volumes["ix_volumes_name_created_at_id"] == ["name", "created_at", "id"]
            assert volumes["ix_volumes_storage_id_name_created_at_id"] == ["storage_id", "name", "created_at", "id"]
            assert "ix_volumes_name_id" not in volumes and "ix_volumes_storage_id_name_id" not in volumes
            assert indexes(conn, "storages")["ix_storages_name_created_at_id"] == ["name", "created_at", "id"]
            assert indexes(conn, "tasks")["ix_tasks_status_created_at_id"] == ["status", "created_at", "id"]
            jobs_ix = indexes(conn, "jobs")
            assert jobs_ix["ix_jobs_status_created_at_id"] == ["status", "created_at", "id"]
            assert "ix_jobs_status" not in jobs_ix
            assert conn.execute(sa.text("SELECT COUNT(*) FROM volumes")).scalar() == 20
        migration.downgrade("0010", url=empty_db)
        with engine.connect() as conn:
            volumes = indexes(conn, "volumes")
            assert volumes["ix_volumes_storage_id_name_id"] == ["storage_id", "name", "id"]
            assert "ix_volumes_name_created_at_id" not in volumes
            assert "ix_jobs_status" in indexes(conn, "jobs")
            assert "ix_tasks_status_created_at_id" not in indexes(conn, "tasks")
    finally:
        engine.dispose()


def test_upgrade_from_0011_adds_alerts_and_alert_sources_with_rows_in_place(empty_db):
    """0012 adds the alerts and alert_sources tables next to existing storages; the unique
    (storage_id, source, sequence_number) is the database's; both go with their storage and
    with the downgrade."""
    migration.upgrade("0011", url=empty_db)
    engine = db_engine.create_engine(empty_db)
    try:
        _storage_with_volumes(engine, 3)
        engine.dispose()  # SQLite: a pooled connection may keep the schema it read before the upgrade
        migration.upgrade("0012", url=empty_db)
        with engine.begin() as conn:
            inspector = sa.inspect(conn)
            indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("alerts")}
            assert indexes["ix_alerts_storage_id_last_seen_id"] == ["storage_id", "last_seen", "id"]
            assert indexes["ix_alerts_created_at_id"] == ["created_at", "id"]
            assert indexes["ix_alerts_cleared_at"] == ["cleared_at"]
            uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("alerts")}
            assert ("storage_id", "source", "sequence_number") in uniques
            assert conn.execute(sa.text("SELECT COUNT(*) FROM volumes")).scalar() == 3
            row = {"storage_id": "s1", "seq": "7", "t": "2026-01-01 00:00:00"}
            insert = sa.text(
                "INSERT INTO alerts (id, storage_id, sequence_number, alert_id, alert_name, severity, category,"
                " type, resource_type, source, state, first_seen, last_seen, repeat_count, fingerprint, created_at)"
                " VALUES (:id, :storage_id, :seq, 'a', 'a', 'major', 'fault', 'equipment', 'storage', 'trap',"
                " 'open', :t, :t, 1, 'f', :t)")
            conn.execute(insert, {**row, "id": "a1"})
            conn.execute(sa.text(
                "INSERT INTO alert_sources (storage_id, version, host, port, retry_num, expiration, created_at)"
                " VALUES ('s1', 'snmpv2c', '127.0.0.1', 162, 1, 2000, :t)"), row)
        with pytest.raises(sa.exc.IntegrityError):
            with engine.begin() as conn:
                conn.execute(insert, {**row, "id": "a2"})
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM volumes"))
            conn.execute(sa.text("DELETE FROM storages"))
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT COUNT(*) FROM alerts")).scalar() == 0
            assert conn.execute(sa.text("SELECT COUNT(*) FROM alert_sources")).scalar() == 0
        migration.downgrade("0011", url=empty_db)
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            assert "alerts" not in tables and "alert_sources" not in tables
    finally:
        engine.dispose()


def test_upgrade_from_0012_adds_the_alert_delivery_outbox_with_rows_in_place(empty_db):
    """0013 adds alert_deliveries next to existing alerts: (alert, exporter, event) is its key, its
    rows go with their alert, the dispatcher's index is there, and the downgrade removes it."""
    migration.upgrade("0012", url=empty_db)
    engine = db_engine.create_engine(empty_db)
    t = "2026-01-01 00:00:00"
    try:
        _storage_with_volumes(engine, 1)
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO alerts (id, storage_id, sequence_number, alert_id, alert_name, severity, category,"
                " type, resource_type, source, state, first_seen, last_seen, repeat_count, fingerprint, created_at)"
                " VALUES ('a1', 's1', '7', 'a', 'a', 'major', 'fault', 'equipment', 'storage', 'trap',"
                " 'open', :t, :t, 1, 'f', :t)"), {"t": t})
        engine.dispose()  # SQLite: a pooled connection may keep the schema it read before the upgrade
        migration.upgrade("0013", url=empty_db)
        insert = sa.text(
            "INSERT INTO alert_deliveries (alert_uuid, exporter, event, generation, attempts, next_attempt_at,"
            " created_at) VALUES ('a1', :x, :e, 0, 0, :t, :t)")
        with engine.begin() as conn:
            indexes = {i["name"]: i["column_names"] for i in sa.inspect(conn).get_indexes("alert_deliveries")}
            assert indexes["ix_alert_deliveries_exporter_next_attempt_at"] == ["exporter", "next_attempt_at"]
            assert indexes["ix_alert_deliveries_created_at"] == ["created_at"]
            assert conn.execute(sa.text("SELECT COUNT(*) FROM alerts")).scalar() == 1
            conn.execute(insert, [{"x": "alertmanager", "e": "firing", "t": t},
                                  {"x": "alertmanager", "e": "resolved", "t": t},
                                  {"x": "jsonl", "e": "firing", "t": t}])
        with pytest.raises(sa.exc.IntegrityError):
            with engine.begin() as conn:
                conn.execute(insert, {"x": "jsonl", "e": "firing", "t": t})
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM alerts"))
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT COUNT(*) FROM alert_deliveries")).scalar() == 0
        migration.downgrade("0012", url=empty_db)
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            assert "alert_deliveries" not in tables and "alerts" in tables
    finally:
        engine.dispose()


def test_upgrade_from_0013_merges_trap_and_sync_rows_of_one_event(empty_db):
    """0014 keys alerts on (storage, origin, sequence number): the trap row and the sync row of one
    array event already stored become one row (the older kept, the fields of the one written last,
    the trap's repeat count plus one when the sync came first); platform rows and lone rows stay
    as they are; the dropped row's pending deliveries move to the kept one (but for an exporter and
    event it has); a second row of one event is refused; the downgrade puts the old key back."""
    migration.upgrade("0013", url=empty_db)
    engine = db_engine.create_engine(empty_db)
    insert = sa.text(
        "INSERT INTO alerts (id, storage_id, sequence_number, alert_id, alert_name, severity, category, type,"
        " description, resource_type, source, state, cleared_at, cleared_by, first_seen, last_seen, repeat_count,"
        " fingerprint, created_at, updated_at) VALUES (:id, 's1', :seq, 'a', 'a', 'major', 'fault', 'equipment',"
        " :descr, 'storage', :source, :state, :cleared_at, :cleared_by, :first, :last, :count, :fp, :first,"
        " :updated)")

    def row(id, seq, source, first, last, count=1, updated=None, descr="", state="open", cleared_by=None):
        return {"id": id, "seq": seq, "source": source, "first": f"2026-01-01 00:{first:02d}:00",
                "last": f"2026-01-01 00:{last:02d}:00", "count": count, "descr": descr, "state": state,
                "updated": f"2026-01-01 00:{updated or last:02d}:00", "fp": f"fp-{id}",
                "cleared_at": f"2026-01-01 00:{last:02d}:00" if state == "cleared" else None,
                "cleared_by": cleared_by}

    try:
        _storage_with_volumes(engine, 1)
        with engine.begin() as conn:
            conn.execute(insert, [
                # event 7: trapped 3 times from minute 1 to 20, then listed by a sync at minute 10 (fixed)
                row("t7", "7", "trap", 1, 20, count=3, descr="by trap"),
                row("s7", "7", "sync", 10, 10, updated=30, descr="by sync", state="cleared", cleared_by="array"),
                # event 8: synced at minute 2, trapped twice later
                row("s8", "8", "sync", 2, 2, descr="listed"),
                row("t8", "8", "trap", 5, 9, count=2, descr="trapped"),
                row("t9", "9", "trap", 3, 3),  # trapped only
                row("p7", "7", "platform", 4, 4),  # the platform's own number 7
            ])
            conn.execute(sa.text(
                "INSERT INTO alert_deliveries (alert_uuid, exporter, event, generation, attempts, next_attempt_at,"
                " created_at) VALUES (:a, :x, :e, 0, 0, '2026-01-01', '2026-01-01')"), [
                {"a": "t7", "x": "alertmanager", "e": "firing"}, {"a": "s7", "x": "alertmanager", "e": "firing"},
                {"a": "s7", "x": "alertmanager", "e": "resolved"}, {"a": "t8", "x": "jsonl", "e": "firing"}])
        engine.dispose()
        migration.upgrade("0014", url=empty_db)
        with engine.begin() as conn:
            uniques = {tuple(u["column_names"]) for u in sa.inspect(conn).get_unique_constraints("alerts")}
            assert ("storage_id", "origin", "sequence_number") in uniques
            assert ("storage_id", "source", "sequence_number") not in uniques
            got = {r.id: r for r in conn.execute(sa.text(
                "SELECT id, sequence_number, source, origin, description, state, cleared_by, repeat_count,"
                " first_seen, last_seen FROM alerts"))}
            assert set(got) == {"t7", "s8", "t9", "p7"}
            t7, s8 = got["t7"], got["s8"]
            assert (t7.source, t7.origin, t7.description, t7.state, t7.cleared_by, t7.repeat_count) == (
                "trap", "array", "by sync", "cleared", "array", 3)
            assert (_as_datetime(t7.first_seen).minute, _as_datetime(t7.last_seen).minute) == (1, 20)
            assert (s8.source, s8.description, s8.repeat_count) == ("sync", "trapped", 3)
            assert (_as_datetime(s8.first_seen).minute, _as_datetime(s8.last_seen).minute) == (2, 9)
            assert (got["t9"].origin, got["t9"].repeat_count, got["p7"].origin) == ("array", 1, "platform")
            deliveries = sorted(tuple(r) for r in conn.execute(sa.text(
                "SELECT alert_uuid, exporter, event FROM alert_deliveries")))
            assert deliveries == [("s8", "jsonl", "firing"), ("t7", "alertmanager", "firing"),
                                  ("t7", "alertmanager", "resolved")]
        with pytest.raises(sa.exc.IntegrityError):  # a sync row of trapped event 9: the same alert
            with engine.begin() as conn:
                conn.execute(sa.text(
                    "INSERT INTO alerts (id, storage_id, sequence_number, alert_id, alert_name, severity, category,"
                    " type, resource_type, source, origin, state, first_seen, last_seen, repeat_count, fingerprint,"
                    " created_at) VALUES ('s9', 's1', '9', 'a', 'a', 'major', 'fault', 'equipment', 'storage',"
                    " 'sync', 'array', 'open', '2026-01-01', '2026-01-01', 1, 'f', '2026-01-01')"))
        engine.dispose()
        migration.downgrade("0012", url=empty_db)
        with engine.connect() as conn:
            uniques = {tuple(u["column_names"]) for u in sa.inspect(conn).get_unique_constraints("alerts")}
            assert ("storage_id", "source", "sequence_number") in uniques
            assert "origin" not in {c["name"] for c in sa.inspect(conn).get_columns("alerts")}
            assert conn.execute(sa.text("SELECT COUNT(*) FROM alerts")).scalar() == 4
    finally:
        engine.dispose()
