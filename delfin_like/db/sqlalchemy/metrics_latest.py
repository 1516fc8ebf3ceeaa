"""SQL of the latest sample per series, which the API serves to Prometheus at ``GET /metrics``.

One row per (storage, resource type, resource, metric), written by the
``prometheus`` exporter of whichever task manager collected the window, so a
single scrape of any API process sees every storage, and the values survive
a task manager restart. Writes are batched upserts that never let an older
window overwrite a newer one (a retried batch may arrive late); series the
newest window no longer reports are deleted.
"""

import sqlalchemy as sa
from sqlalchemy import BigInteger, Double, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from delfin_like.common.constants import ALERT_SEVERITIES, AlertState, TaskType
from delfin_like.db.sqlalchemy import models
from delfin_like.db.sqlalchemy.engine import read, translate_errors, write
from delfin_like.db.sqlalchemy.models import ID, NAME, Base

# rows per upsert statement: bounded so MySQL's max_allowed_packet and SQLite's variable limit hold
_CHUNK = 2000


class MetricLatest(Base):
    __tablename__ = "metric_latest"

    storage_id: Mapped[str] = mapped_column(ID, ForeignKey("storages.id", ondelete="CASCADE"), primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    resource_id: Mapped[str] = mapped_column(NAME, primary_key=True)
    metric: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource_name: Mapped[str | None] = mapped_column(NAME)
    value: Mapped[float] = mapped_column(Double, nullable=False)
    unit: Mapped[str] = mapped_column(String(16), nullable=False)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    timestamp_us: Mapped[int] = mapped_column(BigInteger, nullable=False)
    window_end_us: Mapped[int] = mapped_column(BigInteger, nullable=False)


latest_t = MetricLatest.__table__
storages_t = models.Storage.__table__
COLUMNS = ("resource_id", "resource_name", "metric", "value", "unit", "type", "timestamp_us")
_KEY = ("storage_id", "resource_type", "resource_id", "metric")
_UPDATED = ("resource_name", "value", "unit", "type", "timestamp_us", "window_end_us")


_ALL = ("storage_id", "resource_type", "window_end_us", *COLUMNS)


def _upsert_sql(dialect: str, source: str | None = None) -> str:
    """An INSERT that updates an existing series only with a window at least as new.

    Raw SQL through the DB-API (``executemany``; on PostgreSQL ``COPY`` into a
    temporary table, then one INSERT ... SELECT): SQLAlchemy's per-row parameter
    processing would dominate a 100k-sample window.
    """
    cols = ", ".join(_ALL)
    if dialect in ("mysql", "mariadb"):
        newer = "window_end_us <= VALUES(window_end_us)"
        # MySQL assigns left to right: window_end_us, which the condition reads, goes last
        sets = ", ".join(f"{c} = IF({newer}, VALUES({c}), {c})" for c in _UPDATED)
        values = ", ".join(["%s"] * len(_ALL))
        return f"INSERT INTO metric_latest ({cols}) VALUES ({values}) ON DUPLICATE KEY UPDATE {sets}"
    sets = ", ".join(f"{c} = excluded.{c}" for c in _UPDATED)
    conflict = (
        f"ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET {sets} "
        "WHERE metric_latest.window_end_us <= excluded.window_end_us"
    )
    if source is not None:
        return f"INSERT INTO metric_latest ({cols}) SELECT {cols} FROM {source} {conflict}"
    return f"INSERT INTO metric_latest ({cols}) VALUES ({', '.join(['?'] * len(_ALL))}) {conflict}"


def _upsert(conn, rows: list[tuple]) -> None:
    dialect = conn.dialect
    dbapi_conn = conn.connection.dbapi_connection
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        conn.exec_driver_sql(
            "CREATE TEMP TABLE IF NOT EXISTS metric_latest_in "
            "(LIKE metric_latest INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        with dbapi_conn.cursor() as cursor:
            with cursor.copy(f"COPY metric_latest_in ({', '.join(_ALL)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        conn.exec_driver_sql(_upsert_sql("postgresql", source="metric_latest_in"))
        conn.exec_driver_sql("DELETE FROM metric_latest_in")
        return
    if dialect.name not in ("sqlite", "mysql", "mariadb"):
        raise NotImplementedError(f"no latest-sample upsert for {dialect.name}")
    cursor = dbapi_conn.cursor()
    try:
        for i in range(0, len(rows), _CHUNK):
            cursor.executemany(_upsert_sql(dialect.name), rows[i : i + _CHUNK])
    finally:
        cursor.close()


def delete_series(conn, storage_id: str, resource_type: str) -> int:
    """Delete every latest sample of one resource type of a storage (inside the caller's transaction)."""
    return conn.execute(
        latest_t.delete().where(latest_t.c.storage_id == storage_id, latest_t.c.resource_type == resource_type)
    ).rowcount


@translate_errors
def metric_latest_put(
    storage_id: str, resource_type: str, window_end_us: int, rows: list[tuple], replace: bool = True
) -> int:
    """Store the samples of one window as the latest of their series.

    :param rows: tuples ordered as :data:`COLUMNS`.
    :param replace: also delete the series of this resource type that no window
        ending at or after ``window_end_us`` reported (pass False for all but the first
        batch of a window split in several).
    :returns: rows deleted as stale.
    """
    with write() as conn:
        _upsert(conn, [(storage_id, resource_type, window_end_us, *row) for row in rows])
        if not replace:
            return 0
        return conn.execute(
            latest_t.delete().where(
                latest_t.c.storage_id == storage_id,
                latest_t.c.resource_type == resource_type,
                latest_t.c.window_end_us < window_end_us,
            )
        ).rowcount


@translate_errors
def metric_latest_rows() -> list[tuple]:
    """Every latest sample with its storage's labels, grouped by metric:
    ``(metric, unit, type, storage_id, storage_name, serial_number, resource_type, resource_id,
    resource_name, value)`` tuples."""
    t, s = latest_t, storages_t
    stmt = (
        sa.select(
            t.c.metric,
            t.c.unit,
            t.c.type,
            t.c.storage_id,
            s.c.name,
            s.c.serial_number,
            t.c.resource_type,
            t.c.resource_id,
            t.c.resource_name,
            t.c.value,
        )
        .join(s, s.c.id == t.c.storage_id)
        .order_by(t.c.metric, t.c.storage_id, t.c.resource_type, t.c.resource_id)
    )
    with read() as conn:
        return [tuple(r) for r in conn.execute(stmt)]


@translate_errors
def perf_collection_states() -> list[dict]:
    """Per collected series: storage labels, ``enabled``, ``last_end_us``, ``failures``, ``gaps``,
    ``gap_us`` and ``pending_batches`` (the outbox backlog)."""
    from delfin_like.db.sqlalchemy import metrics

    c, s, sch, b = metrics.collections_t, storages_t, metrics.schedules_t, metrics.batches_t
    pending = (
        sa.select(b.c.storage_id, b.c.resource_type, sa.func.count().label("n"))
        .group_by(b.c.storage_id, b.c.resource_type)
        .subquery()
    )
    stmt = (
        sa.select(
            c.c.storage_id,
            s.c.name.label("storage_name"),
            s.c.serial_number,
            c.c.resource_type,
            sch.c.enabled,
            c.c.last_end_us,
            c.c.failures,
            c.c.gaps,
            c.c.gap_us,
            sa.func.coalesce(pending.c.n, 0).label("pending_batches"),
        )
        .join(s, s.c.id == c.c.storage_id)
        .outerjoin(
            sch,
            sa.and_(
                sch.c.storage_id == c.c.storage_id, sch.c.kind == sa.literal(TaskType.PERF_PREFIX) + c.c.resource_type
            ),
        )
        .outerjoin(
            pending, sa.and_(pending.c.storage_id == c.c.storage_id, pending.c.resource_type == c.c.resource_type)
        )
        .order_by(c.c.storage_id, c.c.resource_type)
    )
    with read() as conn:
        return [dict(r._mapping, enabled=bool(r.enabled)) for r in conn.execute(stmt)]


@translate_errors
def alerts_open_counts() -> list[dict]:
    """Open alerts per storage and severity, for /metrics: ``{"storage_id", "storage_name",
    "serial_number", "severity", "open"}`` for every storage not being deleted and every severity
    (0 where it has none, so a cleared series reads 0 rather than vanishing). One query: the
    open alerts grouped by storage and severity, joined to the storages."""
    a, s = models.Alert.__table__, storages_t
    counted = (
        sa.select(a.c.storage_id, a.c.severity, sa.func.count().label("n"))
        .where(a.c.state == AlertState.OPEN)
        .group_by(a.c.storage_id, a.c.severity)
        .subquery()
    )
    stmt = (
        sa.select(s.c.id, s.c.name, s.c.serial_number, counted.c.severity, counted.c.n)
        .select_from(s.outerjoin(counted, counted.c.storage_id == s.c.id))
        .where(s.c.deleting.is_(False))
        .order_by(s.c.id)
    )
    out, per_storage = [], {}
    with read() as conn:
        for storage_id, name, serial, severity, n in conn.execute(stmt):
            counts = per_storage.get(storage_id)
            if counts is None:
                counts = per_storage[storage_id] = dict.fromkeys(ALERT_SEVERITIES, 0)
                out.append((storage_id, name, serial, counts))
            if severity is not None:
                counts[severity] = counts.get(severity, 0) + n
    return [{"storage_id": sid, "storage_name": name, "serial_number": serial, "severity": severity, "open": n}
            for sid, name, serial, counts in out for severity, n in counts.items()]
