"""SQL of performance collection: metrics-config, collection windows, the export outbox.

Each (storage, resource type) that collects has:

* a row in ``schedules`` (kind ``perf_<type>``): interval and on/off, fired by the scheduler;
* a row in ``perf_collections``: which metrics, history or not, and the window
  bookkeeping: ``last_end_us`` (end of the last collected window, microseconds
  since the epoch), the driver's counter readings at that instant, consecutive
  failures, and the gaps recorded so far.

A window is committed in ONE transaction with a compare-and-set on
``last_end_us`` and on the task's lease: its batches go into ``perf_batches``
with one ``perf_batch_exports`` row per exporter still to deliver to, and the
window end moves on. Two task managers can never both commit a window, and a
committed window is never collected again. Exporters then deliver from the
outbox and settle their rows; what a dead process or a failing exporter left
is delivered by the next task of the series (at-least-once), until
``retention`` gives it up and records a gap.
"""

import datetime
import json

import sqlalchemy as sa
from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from delfin_like.common import exception
from delfin_like.common.constants import TaskStatus, TaskType
from delfin_like.db.sqlalchemy import metrics_latest, models, schedules
from delfin_like.db.sqlalchemy.engine import read, translate_errors, write
from delfin_like.db.sqlalchemy.models import ID, Base, Timestamp, TimestampMixin
from delfin_like.db.sqlalchemy.utils import finish_values, new_id, utcnow

# counter readings of 100k volumes do not fit MySQL's 64 KiB TEXT
LongText = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
AutoId = BigInteger().with_variant(Integer, "sqlite")
RESOURCE_TYPE = String(32)


class PerfCollection(Base, TimestampMixin):
    """What is collected for one resource type of a storage, and where its windows stand."""

    __tablename__ = "perf_collections"

    storage_id: Mapped[str] = mapped_column(ID, ForeignKey("storages.id", ondelete="CASCADE"), primary_key=True)
    resource_type: Mapped[str] = mapped_column(RESOURCE_TYPE, primary_key=True)
    is_historic: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # JSON list of metric names; NULL: every metric the driver declares for the type
    metrics: Mapped[str | None] = mapped_column(Text)
    last_end_us: Mapped[int | None] = mapped_column(BigInteger)
    counter_state: Mapped[str | None] = mapped_column(LongText)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    gaps: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    gap_us: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class PerfGap(Base):
    """A stretch of time whose samples were given up: never collected, or never delivered to ``exporter``."""

    __tablename__ = "perf_gaps"
    __table_args__ = (Index("ix_perf_gaps_storage_id_resource_type", "storage_id", "resource_type"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    storage_id: Mapped[str] = mapped_column(ID, ForeignKey("storages.id", ondelete="CASCADE"), nullable=False)
    resource_type: Mapped[str] = mapped_column(RESOURCE_TYPE, nullable=False)
    exporter: Mapped[str | None] = mapped_column(String(64))
    start_us: Mapped[int] = mapped_column(BigInteger, nullable=False)
    end_us: Mapped[int] = mapped_column(BigInteger, nullable=False)
    reason: Mapped[str] = mapped_column(String(1024), nullable=False)
    created_at = mapped_column(Timestamp, nullable=False)


class PerfBatch(Base):
    """The outbox: one batch of samples of a committed window, until every exporter has it."""

    __tablename__ = "perf_batches"
    __table_args__ = (
        Index("ix_perf_batches_storage_id_resource_type", "storage_id", "resource_type", "window_end_us"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    storage_id: Mapped[str] = mapped_column(ID, ForeignKey("storages.id", ondelete="CASCADE"), nullable=False)
    resource_type: Mapped[str] = mapped_column(RESOURCE_TYPE, nullable=False)
    window_start_us: Mapped[int] = mapped_column(BigInteger, nullable=False)
    window_end_us: Mapped[int] = mapped_column(BigInteger, nullable=False)
    part: Mapped[int] = mapped_column(Integer, nullable=False)
    sample_count: Mapped[int] = mapped_column(Integer, nullable=False)
    payload: Mapped[str] = mapped_column(LongText, nullable=False)
    created_at = mapped_column(Timestamp, nullable=False)


class PerfBatchExport(Base):
    """One exporter that has not yet confirmed one batch."""

    __tablename__ = "perf_batch_exports"

    batch_id: Mapped[str] = mapped_column(ID, ForeignKey("perf_batches.id", ondelete="CASCADE"), primary_key=True)
    exporter: Mapped[str] = mapped_column(String(64), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


collections_t = PerfCollection.__table__
gaps_t = PerfGap.__table__
batches_t = PerfBatch.__table__
exports_t = PerfBatchExport.__table__
schedules_t = models.Schedule.__table__
storages_t = models.Storage.__table__
tasks_t = models.Task.__table__


def schedule_kind(resource_type: str) -> str:
    """The ``schedules.kind`` (and task type) of perf collection for ``resource_type``."""
    return TaskType.PERF_PREFIX + resource_type


# ---------------------------------------------------------------- metrics-config


def _config_rows(conn, storage_id: str) -> dict[str, dict]:
    kinds = [schedule_kind(rt) for rt in _types()]
    sched = {
        r.resource_type: r
        for r in conn.execute(
            sa.select(schedules_t).where(schedules_t.c.storage_id == storage_id, schedules_t.c.kind.in_(kinds))
        )
    }
    coll = {
        r.resource_type: r
        for r in conn.execute(sa.select(collections_t).where(collections_t.c.storage_id == storage_id))
    }
    out = {}
    for rt, s in sched.items():
        c = coll.get(rt)
        out[rt] = {
            "perf_collection": bool(s.enabled),
            "interval": s.interval_seconds,
            "is_historic": bool(c.is_historic) if c else False,
            "metrics": json.loads(c.metrics) if c is not None and c.metrics else None,
        }
    return out


def _types() -> tuple[str, ...]:
    return tuple(t[len(TaskType.PERF_PREFIX) :] for t in TaskType.PERF)


@translate_errors
def perf_config_get(storage_id: str) -> dict[str, dict]:
    """resource type -> ``{"perf_collection", "interval", "is_historic", "metrics"}`` of a storage
    (types never configured are absent); StorageNotFound if absent."""
    with read() as conn:
        if conn.execute(sa.select(storages_t.c.id).where(storages_t.c.id == storage_id)).first() is None:
            raise exception.StorageNotFound(storage_id)
        return _config_rows(conn, storage_id)


@translate_errors
def perf_config_set(storage_id: str, changes: dict[str, dict]) -> dict[str, dict]:
    """Apply metrics-config changes in one transaction; returns the whole config as :func:`perf_config_get`.

    :param changes: resource type -> ``{"perf_collection": bool, "interval": int, "is_historic": bool,
        "metrics": [names] | None}`` (already validated against the capabilities).
    An enabled type is due at once (the scheduler casts its task within a tick); a
    disabled one stops: its queued task is cancelled and its latest samples are
    withdrawn from /metrics. Window bookkeeping is kept, so re-enabling continues the chain.
    :raises StorageNotFound, StorageBeingDeleted:
    """
    now = utcnow()
    with write() as conn:
        if schedules.lock_storage(conn, storage_id).deleting:
            raise exception.StorageBeingDeleted(storage_id)
        for rt, cfg in changes.items():
            kind = schedule_kind(rt)
            enabled = bool(cfg["perf_collection"])
            sched = {
                "interval_seconds": int(cfg["interval"]),
                "enabled": enabled,
                "next_run_at": now if enabled else None,
                "updated_at": now,
            }
            found = conn.execute(
                sa.select(schedules_t.c.id).where(schedules_t.c.storage_id == storage_id, schedules_t.c.kind == kind)
            ).first()
            if found:
                conn.execute(schedules_t.update().where(schedules_t.c.id == found.id).values(**sched))
            else:
                conn.execute(
                    schedules_t.insert(),
                    {
                        "id": new_id(),
                        "storage_id": storage_id,
                        "kind": kind,
                        "resource_type": rt,
                        "created_at": now,
                        **sched,
                    },
                )
            coll = {
                "is_historic": bool(cfg.get("is_historic")),
                "updated_at": now,
                "metrics": json.dumps(list(cfg["metrics"])) if cfg.get("metrics") else None,
            }
            changed = conn.execute(
                collections_t.update()
                .where(collections_t.c.storage_id == storage_id, collections_t.c.resource_type == rt)
                .values(**coll)
            ).rowcount
            if not changed:
                conn.execute(
                    collections_t.insert(),
                    {
                        "storage_id": storage_id,
                        "resource_type": rt,
                        "failures": 0,
                        "gaps": 0,
                        "gap_us": 0,
                        "created_at": now,
                        **coll,
                    },
                )
            if not enabled:
                conn.execute(
                    tasks_t.update()
                    .where(
                        tasks_t.c.storage_id == storage_id,
                        tasks_t.c.type == kind,
                        tasks_t.c.status == TaskStatus.PENDING,
                    )
                    .values(**finish_values(TaskStatus.CANCELLED, None, "performance collection disabled", now))
                )
                metrics_latest.delete_series(conn, storage_id, rt)
        return _config_rows(conn, storage_id)


# ---------------------------------------------------------------- windows


@translate_errors
def perf_window_state(storage_id: str, resource_type: str) -> dict | None:
    """Everything a perf task needs to collect the next window of a series, or None if the
    storage or its config is gone.

    :returns: ``{"storage": {id, name, serial_number, deleting, capabilities (JSON text)},
        "enabled", "interval", "is_historic", "metrics", "last_end_us", "counter_state" (JSON text),
        "failures", "gaps", "gap_us"}``.
    """
    with read() as conn:
        storage = conn.execute(
            sa.select(
                storages_t.c.id,
                storages_t.c.name,
                storages_t.c.serial_number,
                storages_t.c.deleting,
                storages_t.c.capabilities,
            ).where(storages_t.c.id == storage_id)
        ).first()
        if storage is None:
            return None
        sched = conn.execute(
            sa.select(schedules_t.c.enabled, schedules_t.c.interval_seconds).where(
                schedules_t.c.storage_id == storage_id, schedules_t.c.kind == schedule_kind(resource_type)
            )
        ).first()
        coll = conn.execute(
            sa.select(collections_t).where(
                collections_t.c.storage_id == storage_id, collections_t.c.resource_type == resource_type
            )
        ).first()
    if sched is None or coll is None:
        return None
    return {
        "storage": dict(storage._mapping),
        "enabled": bool(sched.enabled),
        "interval": sched.interval_seconds,
        "is_historic": bool(coll.is_historic),
        "metrics": json.loads(coll.metrics) if coll.metrics else None,
        "last_end_us": coll.last_end_us,
        "counter_state": coll.counter_state,
        "failures": coll.failures,
        "gaps": coll.gaps,
        "gap_us": coll.gap_us,
    }


def _holds(conn, task_id: str, owner: str) -> bool:
    row = conn.execute(
        sa.select(tasks_t.c.status, tasks_t.c.lease_owner).where(tasks_t.c.id == task_id).with_for_update()
    ).first()
    return row is not None and row.status == TaskStatus.RUNNING and row.lease_owner == owner


def _enabled(conn, storage_id: str, resource_type: str) -> bool:
    row = conn.execute(
        sa.select(schedules_t.c.enabled).where(
            schedules_t.c.storage_id == storage_id, schedules_t.c.kind == schedule_kind(resource_type)
        )
    ).first()
    return bool(row and row.enabled)


def _record_gap(conn, storage_id, resource_type, gap: dict, now, exporter=None) -> None:
    conn.execute(
        gaps_t.insert(),
        {
            "storage_id": storage_id,
            "resource_type": resource_type,
            "exporter": exporter,
            "start_us": gap["start_us"],
            "end_us": gap["end_us"],
            "reason": gap["reason"][:1024],
            "created_at": now,
        },
    )


def _where_series(table, storage_id, resource_type):
    return sa.and_(table.c.storage_id == storage_id, table.c.resource_type == resource_type)


@translate_errors
def perf_window_commit(
    task_id: str,
    owner: str,
    storage_id: str,
    resource_type: str,
    expected_last_end_us,
    end_us: int,
    counter_state: str | None,
    batches: list[dict],
    exporters: list[str],
    gap: dict | None = None,
) -> str:
    """Commit one collected window in one transaction.

    :param expected_last_end_us: ``last_end_us`` as read when the window was computed (compare-and-set).
    :param batches: ``{"id", "window_start_us", "part", "sample_count", "payload"}`` each.
    :param exporters: names every batch must still reach.
    :param gap: ``{"start_us", "end_us", "reason"}`` given up before this window, or None.
    :returns: ``"committed"``; ``"lost"`` (the task is no longer this owner's, or another task
        committed this window first) or ``"disabled"`` (collection was switched off): nothing written.
    """
    now = utcnow()
    with write() as conn:
        if not _holds(conn, task_id, owner):
            return "lost"
        if not _enabled(conn, storage_id, resource_type):
            return "disabled"
        last = collections_t.c.last_end_us
        moved = conn.execute(
            collections_t.update()
            .where(
                _where_series(collections_t, storage_id, resource_type),
                last.is_(None) if expected_last_end_us is None else last == expected_last_end_us,
            )
            .values(
                last_end_us=end_us,
                counter_state=counter_state,
                failures=0,
                last_error=None,
                updated_at=now,
                gaps=collections_t.c.gaps + (1 if gap else 0),
                gap_us=collections_t.c.gap_us + ((gap["end_us"] - gap["start_us"]) if gap else 0),
            )
        ).rowcount
        if moved != 1:
            return "lost"
        if gap:
            _record_gap(conn, storage_id, resource_type, gap, now)
        if batches:
            conn.execute(
                batches_t.insert(),
                [
                    {
                        "id": b["id"],
                        "storage_id": storage_id,
                        "resource_type": resource_type,
                        "window_start_us": b["window_start_us"],
                        "window_end_us": end_us,
                        "part": b["part"],
                        "sample_count": b["sample_count"],
                        "payload": b["payload"],
                        "created_at": now,
                    }
                    for b in batches
                ],
            )
            if exporters:
                conn.execute(
                    exports_t.insert(),
                    [{"batch_id": b["id"], "exporter": name, "attempts": 0} for b in batches for name in exporters],
                )
    return "committed"


@translate_errors
def perf_window_failed(
    task_id: str,
    owner: str,
    storage_id: str,
    resource_type: str,
    error: str,
    retry_after: float,
    gap: dict | None = None,
) -> bool:
    """Record a window that could not be collected and fail its task, in one transaction.

    :param retry_after: seconds until the scheduler tries the series again (the back-off).
    :param gap: ``{"start_us", "end_us", "reason"}`` when the window is given up: the chain then
        restarts at ``end_us`` with no counter readings.
    :returns: False if the task was no longer this owner's (nothing written).
    """
    now = utcnow()
    with write() as conn:
        if not _holds(conn, task_id, owner):
            return False
        values = {"failures": collections_t.c.failures + 1, "last_error": error[:4000], "updated_at": now}
        if gap:
            values.update(
                last_end_us=gap["end_us"],
                counter_state=None,
                gaps=collections_t.c.gaps + 1,
                gap_us=collections_t.c.gap_us + (gap["end_us"] - gap["start_us"]),
            )
            _record_gap(conn, storage_id, resource_type, gap, now)
        conn.execute(
            collections_t.update().where(_where_series(collections_t, storage_id, resource_type)).values(**values)
        )
        conn.execute(
            schedules_t.update()
            .where(
                schedules_t.c.storage_id == storage_id,
                schedules_t.c.kind == schedule_kind(resource_type),
                schedules_t.c.enabled.is_(True),
            )
            .values(next_run_at=now + datetime.timedelta(seconds=retry_after), updated_at=now)
        )
        conn.execute(
            tasks_t.update().where(tasks_t.c.id == task_id).values(**finish_values(TaskStatus.FAILED, None, error, now))
        )
    return True


@translate_errors
def perf_gaps_list(storage_id: str, resource_type: str | None = None, limit: int = 100) -> list[dict]:
    """The newest recorded gaps of a storage (optionally of one type), newest first."""
    stmt = sa.select(gaps_t).where(gaps_t.c.storage_id == storage_id).order_by(gaps_t.c.id.desc()).limit(limit)
    if resource_type is not None:
        stmt = stmt.where(gaps_t.c.resource_type == resource_type)
    with read() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


# ---------------------------------------------------------------- outbox


@translate_errors
def perf_batches_pending(storage_id: str, resource_type: str, limit: int = 100) -> list[dict]:
    """Undelivered batches of a series, oldest first: ``{"id", "window_end_us", "payload", "exporters"}``."""
    with read() as conn:
        rows = conn.execute(
            sa.select(batches_t.c.id, batches_t.c.window_end_us, batches_t.c.part, batches_t.c.payload)
            .where(
                _where_series(batches_t, storage_id, resource_type),
                sa.select(exports_t.c.batch_id).where(exports_t.c.batch_id == batches_t.c.id).exists(),
            )
            .order_by(batches_t.c.window_end_us, batches_t.c.part)
            .limit(limit)
        ).all()
        if not rows:
            return []
        pending: dict[str, list[str]] = {}
        for batch_id, name in conn.execute(
            sa.select(exports_t.c.batch_id, exports_t.c.exporter).where(exports_t.c.batch_id.in_([r.id for r in rows]))
        ):
            pending.setdefault(batch_id, []).append(name)
    return [
        {"id": r.id, "window_end_us": r.window_end_us, "payload": r.payload, "exporters": sorted(pending.get(r.id, []))}
        for r in rows
    ]


@translate_errors
def perf_batch_settle(batch_id: str, delivered: list[str], failed: dict[str, str]) -> int:
    """Record one delivery round of a batch: drop the exporters that have it, count the failures;
    the batch goes once no exporter is left. Returns how many exporters still lack it."""
    with write() as conn:
        if delivered:
            conn.execute(
                exports_t.delete().where(exports_t.c.batch_id == batch_id, exports_t.c.exporter.in_(delivered))
            )
        for name, error in failed.items():
            conn.execute(
                exports_t.update()
                .where(exports_t.c.batch_id == batch_id, exports_t.c.exporter == name)
                .values(attempts=exports_t.c.attempts + 1, last_error=error[:4000])
            )
        left = conn.execute(
            sa.select(sa.func.count()).select_from(exports_t).where(exports_t.c.batch_id == batch_id)
        ).scalar()
        if not left:
            conn.execute(batches_t.delete().where(batches_t.c.id == batch_id))
    return left


@translate_errors
def perf_batches_expire(storage_id: str, resource_type: str, before_us: int, keep: list[str]) -> list[dict]:
    """Give up batches of a series whose window ended before ``before_us``, and deliveries to
    exporters no longer enabled (not in ``keep``); each becomes a gap for its exporter.

    :returns: the gaps recorded (``exporter``, ``start_us``, ``end_us``, ``reason``).
    """
    now = utcnow()
    gaps = []
    with write() as conn:
        rows = conn.execute(
            sa.select(batches_t.c.id, batches_t.c.window_start_us, batches_t.c.window_end_us, exports_t.c.exporter)
            .join(exports_t, exports_t.c.batch_id == batches_t.c.id)
            .where(
                _where_series(batches_t, storage_id, resource_type),
                sa.or_(batches_t.c.window_end_us < before_us, exports_t.c.exporter.not_in(keep or [""])),
            )
        ).all()
        for r in rows:
            reason = (
                f"not delivered to exporter {r.exporter} within the retention"
                if r.exporter in keep
                else f"exporter {r.exporter} is no longer enabled"
            )
            gap = {"exporter": r.exporter, "start_us": r.window_start_us, "end_us": r.window_end_us, "reason": reason}
            if not any(g["exporter"] == r.exporter and g["end_us"] == r.window_end_us for g in gaps):
                _record_gap(conn, storage_id, resource_type, gap, now, exporter=r.exporter)
                gaps.append(gap)
            conn.execute(exports_t.delete().where(exports_t.c.batch_id == r.id, exports_t.c.exporter == r.exporter))
        if rows:
            orphans = sa.select(exports_t.c.batch_id).where(exports_t.c.batch_id == batches_t.c.id).exists()
            conn.execute(batches_t.delete().where(_where_series(batches_t, storage_id, resource_type), ~orphans))
    return gaps
