"""SQL of retention: delete old finished tasks, finished jobs and recorded perf gaps, in batches.

Every function deletes at most ``limit`` rows in ONE short transaction: it
selects the primary keys of the rows to go (``LIMIT``), then deletes exactly
those keys, so no table is locked for longer than one batch and MySQL's rule
against a DELETE reading its own table never applies. The caller
(:mod:`delfin_like.scheduler.retention`) repeats a call until it returns fewer
than ``limit``.

A task is never deleted while it is PENDING or RUNNING, nor when it is:

* the newest FAILED task of its (storage, type), so the cause of the last failure stays visible;
* a storage's ``last_sync_task_id`` (its sync_status) or a schedule's ``last_task_id``;
* the submit or cancel task of a job that has not finished.
"""

import datetime

import sqlalchemy as sa

from delfin_like.common.constants import TaskStatus, TaskType
from delfin_like.db.sqlalchemy import jobs as jobs_sql
from delfin_like.db.sqlalchemy import metrics, models
from delfin_like.db.sqlalchemy.engine import read, translate_errors, write

tasks_t = models.Task.__table__
storages_t = models.Storage.__table__
schedules_t = models.Schedule.__table__
jobs_t = jobs_sql.Job.__table__
gaps_t = metrics.PerfGap.__table__

_FINISHED = list(TaskStatus.FINISHED)
_TYPES = sorted(TaskType.ALL)


def _unreferenced(task_id):
    """WHERE clause: no storage, schedule or unfinished job points at ``task_id``.

    Uncorrelated ``NOT IN`` lists, each read once per statement (the columns have no index).
    """
    pointers = [
        sa.select(storages_t.c.last_sync_task_id).where(storages_t.c.last_sync_task_id.is_not(None)),
        sa.select(schedules_t.c.last_task_id).where(schedules_t.c.last_task_id.is_not(None)),
        *(
            sa.select(column).where(column.is_not(None), jobs_t.c.status.in_(jobs_sql.ACTIVE))
            for column in (jobs_t.c.submit_task_id, jobs_t.c.cancel_task_id)
        ),
    ]
    return sa.and_(*(task_id.not_in(p.scalar_subquery()) for p in pointers))


def _prunable_task():
    """WHERE clause on ``tasks``: finished and not protected (see the module docstring)."""
    newer = tasks_t.alias("newer_failed")
    newest_failed = sa.and_(
        tasks_t.c.status == TaskStatus.FAILED,
        ~sa.exists().where(
            newer.c.storage_id.is_not_distinct_from(tasks_t.c.storage_id),
            newer.c.type == tasks_t.c.type,
            newer.c.status == TaskStatus.FAILED,
            sa.or_(
                newer.c.finished_at > tasks_t.c.finished_at,
                sa.and_(newer.c.finished_at == tasks_t.c.finished_at, newer.c.id > tasks_t.c.id),
            ),
        ),
    )
    return sa.and_(tasks_t.c.status.in_(_FINISHED), ~newest_failed, _unreferenced(tasks_t.c.id))


def _delete_tasks(conn, ids: list[str]) -> int:
    if not ids:
        return 0
    # the status check again: nothing that is not finished goes, whatever happened since the select
    return conn.execute(tasks_t.delete().where(tasks_t.c.id.in_(ids), tasks_t.c.status.in_(_FINISHED))).rowcount


@translate_errors
def tasks_prune_finished_before(before: datetime.datetime, limit: int) -> int:
    """Delete up to ``limit`` prunable tasks that finished before ``before``; returns how many went."""
    with write() as conn:
        ids = (
            conn.execute(sa.select(tasks_t.c.id).where(tasks_t.c.finished_at < before, _prunable_task()).limit(limit))
            .scalars()
            .all()
        )
        return _delete_tasks(conn, list(ids))


@translate_errors
def tasks_beyond_count(keep: int, limit: int) -> list[str]:
    """Up to ``limit`` ids of prunable tasks beyond the ``keep`` newest finished ones of their
    (storage, type), for every registered storage (a removed storage's tasks go by age).

    Per (storage, type) pair, the keep-th newest finish time is read from the index alone
    (``LIMIT 1 OFFSET keep-1``; most pairs have none) and only then the older tasks are listed.
    Delete the ids with :func:`tasks_delete_prunable` (its own short transaction).
    """
    ids: list[str] = []
    with read() as conn:
        storage_ids = conn.execute(sa.select(storages_t.c.id).order_by(storages_t.c.id)).scalars().all()
        for sid in storage_ids:
            for type_ in _TYPES:
                in_pair = sa.and_(
                    tasks_t.c.storage_id == sid, tasks_t.c.type == type_, tasks_t.c.finished_at.is_not(None)
                )
                cutoff = conn.execute(
                    sa.select(tasks_t.c.finished_at)
                    .where(in_pair)
                    .order_by(tasks_t.c.finished_at.desc())
                    .offset(keep - 1)
                    .limit(1)
                ).scalar()
                if cutoff is None:
                    continue
                older = sa.select(tasks_t.c.id).where(in_pair, tasks_t.c.finished_at < cutoff, _prunable_task())
                ids += conn.execute(older.limit(limit - len(ids))).scalars().all()
                if len(ids) >= limit:
                    return ids
    return ids


@translate_errors
def tasks_delete_prunable(ids: list[str]) -> int:
    """Delete the tasks of ``ids`` that are finished and not protected, in one transaction; returns how many."""
    if not ids:
        return 0
    with write() as conn:
        prunable = conn.execute(sa.select(tasks_t.c.id).where(tasks_t.c.id.in_(ids), _prunable_task())).scalars()
        return _delete_tasks(conn, list(prunable))


@translate_errors
def jobs_prune_finished_before(before: datetime.datetime, limit: int) -> int:
    """Delete up to ``limit`` finished jobs last updated before ``before``; returns how many went."""
    last_update = sa.func.coalesce(jobs_t.c.updated_at, jobs_t.c.created_at)
    finished = sa.and_(jobs_t.c.status.in_(jobs_sql.FINISHED), last_update < before)
    with write() as conn:
        ids = conn.execute(sa.select(jobs_t.c.id).where(finished).limit(limit)).scalars().all()
        if not ids:
            return 0
        return conn.execute(jobs_t.delete().where(jobs_t.c.id.in_(ids), finished)).rowcount


@translate_errors
def perf_gaps_prune_before(before: datetime.datetime, limit: int) -> int:
    """Delete up to ``limit`` recorded gaps created before ``before``; returns how many went."""
    with write() as conn:
        ids = (
            conn.execute(sa.select(gaps_t.c.id).where(gaps_t.c.created_at < before).order_by(gaps_t.c.id).limit(limit))
            .scalars()
            .all()
        )
        if not ids:
            return 0
        return conn.execute(gaps_t.delete().where(gaps_t.c.id.in_(ids))).rowcount


@translate_errors
def perf_gaps_prune_overflow(keep: int, limit: int) -> int:
    """Delete up to ``limit`` gaps beyond the ``keep`` newest of their (storage, resource type),
    across every series at once; returns how many went."""
    ranked = (
        sa.select(
            gaps_t.c.id,
            sa.func.row_number()
            .over(partition_by=[gaps_t.c.storage_id, gaps_t.c.resource_type], order_by=gaps_t.c.id.desc())
            .label("rank"),
        )
    ).subquery("ranked")
    with write() as conn:
        ids = conn.execute(sa.select(ranked.c.id).where(ranked.c.rank > keep).limit(limit)).scalars().all()
        if not ids:
            return 0
        return conn.execute(gaps_t.delete().where(gaps_t.c.id.in_(ids))).rowcount
