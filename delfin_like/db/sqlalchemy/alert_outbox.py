"""SQL of the alert delivery outbox (issue 14, alerts out; revision 0013).

A writer of alerts (:mod:`.alerts`) calls :func:`queue` inside the transaction that creates, clears
or reopens an alert: one ``alert_deliveries`` row per enabled exporter (``[alert_exporters]
enabled`` of the writing process) and event (``firing`` or ``resolved``). The row already pending
for that (alert, exporter, event) is reused (its ``generation`` bumped, its back-off kept), so an
alert has at most two rows per exporter however often it flaps. The dispatcher
(:mod:`delfin_like.alert_manager.dispatch`) reads the due rows with the alert's current fields,
delivers, and deletes what it delivered, only in the generation it read: a row queued again
meanwhile stays for the next round (at-least-once, nothing lost across a crash).
"""

import datetime

import sqlalchemy as sa
from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.orm import Mapped, mapped_column

from delfin_like.conf import CONF
from delfin_like.db.sqlalchemy import bulk, models
from delfin_like.db.sqlalchemy.engine import read, translate_errors, write
from delfin_like.db.sqlalchemy.models import ID, Base, Timestamp
from delfin_like.db.sqlalchemy.utils import utcnow

FIRING = "firing"
RESOLVED = "resolved"
EVENTS = (FIRING, RESOLVED)


class AlertDelivery(Base):
    """One event of one alert that one exporter has not confirmed yet."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        # the dispatcher's due scan (exporter = ? AND next_attempt_at <= now) and the backlog per exporter
        Index("ix_alert_deliveries_exporter_next_attempt_at", "exporter", "next_attempt_at"),
        # retention: deliveries given up by age
        Index("ix_alert_deliveries_created_at", "created_at"),
    )

    alert_uuid: Mapped[str] = mapped_column(ID, ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True)
    exporter: Mapped[str] = mapped_column(String(64), primary_key=True)
    # firing | resolved
    event: Mapped[str] = mapped_column(String(16), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime.datetime] = mapped_column(Timestamp, nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime.datetime] = mapped_column(Timestamp, nullable=False)


deliveries = AlertDelivery.__table__
alerts = models.Alert.__table__
storages = models.Storage.__table__
ALERT_COLUMNS = tuple(c for c in alerts.c if c.name != "fingerprint")


def enabled_exporters() -> list[str]:
    """The exporters a writer queues for: ``[alert_exporters] enabled`` of this process."""
    return list(dict.fromkeys(CONF.alert_exporters.enabled))


# rows per multi-row upsert on SQLite: 8 parameters a row, within every SQLite's parameter limit
_ROWS_PER_UPSERT = 120
_COLUMNS = ("alert_uuid", "exporter", "event", "generation", "attempts", "next_attempt_at", "last_error",
            "created_at")


def _upsert_sqlite(conn, rows: list[dict]) -> None:
    """Multi-row VALUES through the DB-API, not executemany: the sqlite3 module hands the GIL away around
    every row's step, and waits to get it back each time while other threads (the trap receiver's) run."""
    quote = conn.dialect.identifier_preparer.quote
    head = (f"INSERT INTO {quote(deliveries.name)} ({', '.join(quote(c) for c in _COLUMNS)}) VALUES ")
    tail = (f" ON CONFLICT ({quote('alert_uuid')}, {quote('exporter')}, {quote('event')}) DO UPDATE SET "
            f"{quote('generation')} = {quote(deliveries.name)}.{quote('generation')} + 1")
    one = f"({', '.join('?' * len(_COLUMNS))})"
    times = {}
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        for start in range(0, len(rows), _ROWS_PER_UPSERT):
            chunk = rows[start:start + _ROWS_PER_UPSERT]
            params = []
            for row in chunk:
                for c in _COLUMNS:
                    value = row[c]
                    if isinstance(value, datetime.datetime):
                        value = times.get(value) or times.setdefault(value, bulk.timestamp(conn, value))
                    params.append(value)
            cursor.execute(head + ", ".join([one] * len(chunk)) + tail, params)
    finally:
        cursor.close()


def _upsert(conn, rows: list[dict]):
    """Insert ``rows`` (no key twice); a row already pending keeps its place and back-off, its generation
    bumped."""
    name = conn.dialect.name
    if name == "sqlite":
        _upsert_sqlite(conn, rows)
        return
    if name in ("mysql", "mariadb"):
        stmt = mysql.insert(deliveries)
        # a literal: PyMySQL's executemany rewrite cannot take a bound parameter after VALUES
        stmt = stmt.on_duplicate_key_update(generation=sa.literal_column("generation + 1"))
    else:
        stmt = postgresql.insert(deliveries).on_conflict_do_update(
            index_elements=["alert_uuid", "exporter", "event"],
            set_={"generation": deliveries.c.generation + 1},
        )
    conn.execute(stmt, rows)


def queue(conn, changes, now: datetime.datetime, exporters: list[str] | None = None) -> int:
    """Queue ``changes`` (``(alert row id, event)`` pairs) for every exporter, on ``conn`` (the
    writer's transaction). :returns: rows written."""
    names = enabled_exporters() if exporters is None else exporters
    rows = [
        {"alert_uuid": alert_uuid, "exporter": name, "event": event, "generation": 0, "attempts": 0,
         "next_attempt_at": now, "last_error": None, "created_at": now}
        for alert_uuid, event in dict.fromkeys(changes) for name in names
    ]  # fmt: skip
    if rows:
        _upsert(conn, rows)
    return len(rows)


def _with_storage_name():
    return sa.select(*ALERT_COLUMNS, storages.c.name.label("storage_name")).join(
        storages, storages.c.id == alerts.c.storage_id)


def _alert_dict(row) -> dict:
    out = {c.name: row._mapping[c.name] for c in ALERT_COLUMNS}
    out["storage_name"] = row._mapping["storage_name"]
    return out


@translate_errors
def alert_deliveries_due(exporter: str, limit: int, now: datetime.datetime | None = None) -> list[dict]:
    """The deliveries of ``exporter`` due at ``now``, oldest first, at most ``limit`` alerts' worth.

    Each: ``{alert_uuid, event, generation, attempts, created_at, alert}`` where ``alert`` is the
    alert's current row (with ``storage_name``). An alert's other pending event comes along even when
    it is not due yet, so both events of one alert always travel in one batch, in order.
    """
    now = now or utcnow()
    with read() as conn:
        uuids = list(dict.fromkeys(conn.execute(
            sa.select(deliveries.c.alert_uuid)
            .where(deliveries.c.exporter == exporter, deliveries.c.next_attempt_at <= now)
            .order_by(deliveries.c.next_attempt_at)
            .limit(limit)
        ).scalars()))
        if not uuids:
            return []
        rows = conn.execute(
            sa.select(deliveries.c.alert_uuid, deliveries.c.event, deliveries.c.generation,
                      deliveries.c.attempts, deliveries.c.created_at)
            .where(deliveries.c.exporter == exporter, deliveries.c.alert_uuid.in_(uuids))
        ).all()
        found = {r.id: _alert_dict(r) for r in conn.execute(_with_storage_name().where(alerts.c.id.in_(uuids)))}
    order = {u: i for i, u in enumerate(uuids)}
    out = [
        {"alert_uuid": r.alert_uuid, "event": r.event, "generation": r.generation, "attempts": r.attempts,
         "created_at": r.created_at, "alert": found[r.alert_uuid]}
        for r in rows if r.alert_uuid in found
    ]  # fmt: skip
    out.sort(key=lambda d: (order[d["alert_uuid"]], d["created_at"]))
    return out


@translate_errors
def alert_deliveries_settle(exporter: str, delivered, failed=(), error: str | None = None) -> None:
    """Record one delivery call of ``exporter``, in one transaction.

    :param delivered: ``(alert_uuid, event, generation)`` it took: deleted unless queued again since.
    :param failed: ``(alert_uuid, event, next_attempt_at)`` it did not take: ``attempts`` + 1, the
        next attempt pushed, ``error`` kept.
    """
    with write() as conn:
        if delivered:
            conn.execute(
                deliveries.delete().where(
                    deliveries.c.exporter == exporter, deliveries.c.alert_uuid == sa.bindparam("u"),
                    deliveries.c.event == sa.bindparam("e"), deliveries.c.generation == sa.bindparam("g")),
                [{"u": u, "e": e, "g": g} for u, e, g in delivered])
        if failed:
            conn.execute(
                deliveries.update().where(
                    deliveries.c.exporter == exporter, deliveries.c.alert_uuid == sa.bindparam("u"),
                    deliveries.c.event == sa.bindparam("e"))
                .values(attempts=deliveries.c.attempts + 1, next_attempt_at=sa.bindparam("n"),
                        last_error=(error or "")[:4000]),
                [{"u": u, "e": e, "n": n} for u, e, n in failed])


@translate_errors
def alert_deliveries_expire(keep: list[str]) -> dict[str, int]:
    """Give up the deliveries to exporters not in ``keep`` (no longer enabled). :returns: exporter -> rows."""
    with write() as conn:
        counts = dict(conn.execute(
            sa.select(deliveries.c.exporter, sa.func.count())
            .where(deliveries.c.exporter.not_in(keep or [""])).group_by(deliveries.c.exporter)).all())
        if counts:
            conn.execute(deliveries.delete().where(deliveries.c.exporter.in_(list(counts))))
    return counts


@translate_errors
def alert_deliveries_prune_before(before: datetime.datetime, limit: int) -> int:
    """Delete at most ``limit`` deliveries queued before ``before`` (retention: given up)."""
    with write() as conn:
        keys = conn.execute(
            sa.select(deliveries.c.alert_uuid, deliveries.c.exporter, deliveries.c.event)
            .where(deliveries.c.created_at < before).order_by(deliveries.c.created_at).limit(limit)).all()
        if not keys:
            return 0
        conn.execute(
            deliveries.delete().where(
                deliveries.c.alert_uuid == sa.bindparam("u"), deliveries.c.exporter == sa.bindparam("x"),
                deliveries.c.event == sa.bindparam("e")),
            [{"u": u, "x": x, "e": e} for u, x, e in keys])
    return len(keys)


@translate_errors
def alert_deliveries_backlog() -> dict[str, dict]:
    """Per exporter: ``{"pending": rows, "retrying": rows that failed at least once, "oldest": created_at}``."""
    with read() as conn:
        rows = conn.execute(
            sa.select(deliveries.c.exporter, sa.func.count(),
                      sa.func.sum(sa.case((deliveries.c.attempts > 0, 1), else_=0)),
                      sa.func.min(deliveries.c.created_at))
            .group_by(deliveries.c.exporter)).all()
    return {name: {"pending": n, "retrying": int(r or 0), "oldest": oldest} for name, n, r, oldest in rows}


@translate_errors
def alerts_open_page(after_id: str | None, limit: int) -> list[dict]:
    """Open alerts (with ``storage_name``) in id order after ``after_id``: the re-send to Alertmanager."""
    stmt = _with_storage_name().where(alerts.c.state == "open").order_by(alerts.c.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(alerts.c.id > after_id)
    with read() as conn:
        return [_alert_dict(r) for r in conn.execute(stmt)]
