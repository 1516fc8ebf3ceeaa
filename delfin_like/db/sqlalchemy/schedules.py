"""Schedules: when the scheduler next creates a task for a storage, and firing each due time once.

A storage's *sync policy* is what the API shows of its sync schedules: the
periodic one (``interval``, ``enabled``) and at most one one-shot
(``next_sync_at``). Firing a due schedule is ONE transaction: a
compare-and-set update of the row (``WHERE id = ? AND next_run_at = <the
value read>``) and the insert of its task. Two schedulers firing the same row
at once (a failover, a leader that paused past its lease) both run the
update but only one matches; the other changes nothing and creates no task.
The caller casts after the commit; a lost cast is recovered by the
re-dispatch scan, because the task row is already there.

A due sync schedule whose storage already has a sync queued does not add a
second one: the firing is recorded against the queued task (periodic
schedules also defer to a RUNNING sync; a one-shot asks for a sync that starts
after its time, so only a PENDING one counts). Missed periods (every
scheduler down for longer than an interval) fold into one firing.

A storage's periodic alert sync (kind ``periodic_alert_sync``, issue 14) is one more row of the
same table, shown in its sync policy. Its ``enabled``/``interval_seconds`` pair tells three
states apart: enabled (the scheduler fires it), paused by the platform (disabled, interval kept:
the driver cannot list alerts; a later alert sync that completes resumes it) and off by the
operator (disabled, no interval). A storage with no such row at all (registered before alert
syncs were scheduled) gets one from :func:`alert_sync_schedules_ensure`.
"""

import datetime

import sqlalchemy as sa
from sqlalchemy import exc

from delfin_like.common import exception
from delfin_like.common.constants import Lane, TaskStatus, TaskType
from delfin_like.db.sqlalchemy import models
from delfin_like.db.sqlalchemy.engine import read, translate_errors, write
from delfin_like.db.sqlalchemy.utils import new_id, task_values, utcnow

schedules = models.Schedule.__table__
storages = models.Storage.__table__
tasks = models.Task.__table__

PERIODIC_SYNC = "periodic_sync"
ONESHOT_SYNC = "oneshot_sync"
PERIODIC_ALERT_SYNC = "periodic_alert_sync"
# resource_type of a schedule that covers the whole storage (perf schedules name one)
WHOLE_STORAGE = "storage"

# what firing a schedule of each kind creates: (task type, lane, statuses of a task that makes it redundant)
# (a perf schedule's kind is its task type; a queued or running task of the series makes a firing redundant)
KIND_TASKS = {
    PERIODIC_SYNC: (TaskType.SYNC, Lane.NORMAL, TaskStatus.ACTIVE),
    ONESHOT_SYNC: (TaskType.SYNC, Lane.NORMAL, (TaskStatus.PENDING,)),
    **{kind: (kind, Lane.NORMAL, TaskStatus.ACTIVE) for kind in TaskType.PERF},
    PERIODIC_ALERT_SYNC: (TaskType.ALERT_SYNC, Lane.NORMAL, TaskStatus.ACTIVE),
}
# the kinds a storage's sync policy shows
POLICY_KINDS = (PERIODIC_SYNC, ONESHOT_SYNC, PERIODIC_ALERT_SYNC)

# sync_policy_set: leave this part of the policy as it is
KEEP = object()


def lock_storage(conn, storage_id: str):
    """The storage row (id, deleting), locked for the transaction; StorageNotFound if absent.

    Every writer here locks the storage row first, as storage_mark_deleting does,
    so the two never wait on each other in opposite orders.
    """
    row = conn.execute(
        sa.select(storages.c.id, storages.c.deleting).where(storages.c.id == storage_id).with_for_update()
    ).first()
    if row is None:
        raise exception.StorageNotFound(storage_id)
    return row


def _sync_rows(conn, storage_id: str) -> dict:
    rows = conn.execute(
        sa.select(schedules).where(
            schedules.c.storage_id == storage_id, schedules.c.kind.in_(POLICY_KINDS)
        )
    ).all()
    return {r.kind: r for r in rows}


def _policy(storage_id: str, rows: dict) -> dict:
    periodic, oneshot = rows.get(PERIODIC_SYNC), rows.get(ONESHOT_SYNC)
    fired = [r for r in (periodic, oneshot) if r is not None and r.last_fired_at is not None]
    last = max(fired, key=lambda r: r.last_fired_at) if fired else None
    return {
        "storage_id": storage_id,
        "interval": periodic.interval_seconds if periodic else None,
        "enabled": bool(periodic and periodic.enabled),
        "next_periodic_sync_at": periodic.next_run_at if periodic and periodic.enabled else None,
        "next_sync_at": oneshot.next_run_at if oneshot else None,
        "last_fired_at": last.last_fired_at if last else None,
        "last_task_id": last.last_task_id if last else None,
        **_alert_policy(rows.get(PERIODIC_ALERT_SYNC)),
    }


def _alert_policy(row) -> dict:
    enabled = bool(row is not None and row.enabled and row.interval_seconds)
    return {
        "alert_sync_interval": row.interval_seconds if row is not None else None,
        "alert_sync_enabled": enabled,
        "next_alert_sync_at": row.next_run_at if enabled else None,
        "last_alert_sync_task_id": row.last_task_id if row is not None else None,
    }


def _row(storage_id: str, kind: str, now, **values) -> dict:
    return {
        "id": new_id(),
        "storage_id": storage_id,
        "kind": kind,
        "resource_type": WHOLE_STORAGE,
        "created_at": now,
        "updated_at": now,
        **values,
    }


def add_initial(conn, storage_id: str, policy: dict | None, now) -> None:
    """Insert the schedules of a storage being registered (inside the registration's transaction).

    :param policy: ``{"interval": seconds or None, "enabled": bool, "next_sync_at": naive UTC or None}``,
        optionally ``"alert_sync": {"interval": seconds or None, "enabled": bool}`` (the periodic alert
        sync; enabled False with an interval: paused, the driver lists no alerts); None: no schedule.
    """
    if not policy:
        return
    rows = []
    alert_sync = policy.get("alert_sync")
    if alert_sync is not None:
        interval = alert_sync.get("interval") or None
        enabled = bool(interval and alert_sync.get("enabled", True))
        rows.append(_row(storage_id, PERIODIC_ALERT_SYNC, now, interval_seconds=interval, enabled=enabled,
                         next_run_at=now + datetime.timedelta(seconds=interval) if enabled else None))
    interval = policy.get("interval")
    if interval:
        enabled = policy.get("enabled", True)
        rows.append(
            _row(
                storage_id,
                PERIODIC_SYNC,
                now,
                interval_seconds=interval,
                enabled=enabled,
                next_run_at=now + datetime.timedelta(seconds=interval),
            )
        )
    if policy.get("next_sync_at") is not None:
        rows.append(
            _row(storage_id, ONESHOT_SYNC, now, interval_seconds=None, enabled=True, next_run_at=policy["next_sync_at"])
        )
    if rows:
        conn.execute(schedules.insert(), rows)


def delete_for_storage(conn, storage_id: str) -> int:
    """Delete every schedule of a storage (inside the caller's transaction); returns how many."""
    return conn.execute(schedules.delete().where(schedules.c.storage_id == storage_id)).rowcount


@translate_errors
def sync_policy_get(storage_id: str) -> dict:
    """The storage's sync policy: ``{"storage_id", "interval", "enabled", "next_periodic_sync_at",
    "next_sync_at", "last_fired_at", "last_task_id"}`` (times naive UTC); StorageNotFound if absent."""
    with read() as conn:
        if conn.execute(sa.select(storages.c.id).where(storages.c.id == storage_id)).first() is None:
            raise exception.StorageNotFound(storage_id)
        return _policy(storage_id, _sync_rows(conn, storage_id))


@translate_errors
def sync_policy_set(storage_id: str, interval=KEEP, enabled=KEEP, next_sync_at=KEEP, default_interval: int = 0,
                    alert_sync_interval=KEEP) -> dict:
    """Change a storage's sync schedules in one transaction; returns the new policy.

    :param interval: seconds between periodic syncs (restarts the period from now).
    :param enabled: pause (False) or resume (True, the period restarts from now) periodic syncs.
    :param next_sync_at: naive UTC time of a one-shot sync; None cancels a pending one-shot.
    :param default_interval: the interval when enabling a storage that has none; 0: none configured.
    :param alert_sync_interval: seconds between periodic alert syncs (restarts the period from now);
        0 turns them off.
    Parameters left at :data:`KEEP` keep their stored value.
    :raises StorageNotFound, StorageBeingDeleted:
    :raises InvalidInput: periodic sync enabled with no interval given, stored or configured.
    """
    now = utcnow()
    with write() as conn:
        if lock_storage(conn, storage_id).deleting:
            raise exception.StorageBeingDeleted(storage_id)
        rows = _sync_rows(conn, storage_id)
        if interval is not KEEP or enabled is not KEEP:
            _set_periodic(conn, storage_id, rows.get(PERIODIC_SYNC), interval, enabled, default_interval, now)
        if next_sync_at is not KEEP:
            _set_oneshot(conn, storage_id, rows.get(ONESHOT_SYNC), next_sync_at, now)
        if alert_sync_interval is not KEEP:
            _set_alert_sync(conn, storage_id, rows.get(PERIODIC_ALERT_SYNC), alert_sync_interval, now)
        return _policy(storage_id, _sync_rows(conn, storage_id))


def _set_periodic(conn, storage_id, row, interval, enabled, default_interval, now) -> None:
    new_interval = interval if interval is not KEEP else (row.interval_seconds if row is not None else None)
    new_interval = new_interval or default_interval or None
    new_enabled = enabled if enabled is not KEEP else (row.enabled if row is not None else True)
    if new_interval is None:
        if new_enabled:
            raise exception.InvalidInput("interval: periodic sync needs an interval (none is configured)")
        if row is not None:
            conn.execute(schedules.update().where(schedules.c.id == row.id).values(enabled=False, updated_at=now))
        return
    restart = (
        row is None
        or row.next_run_at is None
        or new_interval != row.interval_seconds
        or (new_enabled and not row.enabled)
    )
    next_run_at = now + datetime.timedelta(seconds=new_interval) if restart else row.next_run_at
    values = {"interval_seconds": new_interval, "enabled": new_enabled, "next_run_at": next_run_at, "updated_at": now}
    if row is None:
        conn.execute(schedules.insert(), _row(storage_id, PERIODIC_SYNC, now, **values))
    else:
        conn.execute(schedules.update().where(schedules.c.id == row.id).values(**values))


def _set_oneshot(conn, storage_id, row, when, now) -> None:
    if when is None:
        if row is not None:
            conn.execute(schedules.delete().where(schedules.c.id == row.id))
    elif row is None:
        conn.execute(
            schedules.insert(),
            _row(storage_id, ONESHOT_SYNC, now, interval_seconds=None, enabled=True, next_run_at=when),
        )
    else:
        conn.execute(
            schedules.update().where(schedules.c.id == row.id).values(next_run_at=when, enabled=True, updated_at=now)
        )


def _set_alert_sync(conn, storage_id, row, interval, now) -> None:
    values = {"interval_seconds": interval or None, "enabled": bool(interval), "updated_at": now,
              "next_run_at": now + datetime.timedelta(seconds=interval) if interval else None}
    if row is None:
        conn.execute(schedules.insert(), _row(storage_id, PERIODIC_ALERT_SYNC, now, **values))
    else:
        conn.execute(schedules.update().where(schedules.c.id == row.id).values(**values))


@translate_errors
def sync_policy_clear(storage_id: str) -> dict:
    """Delete every sync schedule of a storage and turn its periodic alert sync off (the row stays,
    without an interval, so nothing recreates it); returns the (empty) policy. StorageNotFound if absent."""
    now = utcnow()
    with write() as conn:
        lock_storage(conn, storage_id)
        conn.execute(schedules.delete().where(schedules.c.storage_id == storage_id,
                                              schedules.c.kind != PERIODIC_ALERT_SYNC))
        conn.execute(schedules.update().where(schedules.c.storage_id == storage_id,
                                              schedules.c.kind == PERIODIC_ALERT_SYNC)
                     .values(enabled=False, interval_seconds=None, next_run_at=None, updated_at=now))
    return sync_policy_get(storage_id)


# ---------------------------------------------------------------- periodic alert sync


@translate_errors
def alert_sync_schedules_ensure(interval: int, limit: int = 500) -> int:
    """Give storages without a periodic alert sync schedule (registered before there was one) theirs,
    due at once, ``interval`` seconds apart after that; at most ``limit`` per call.

    A read finds them first: when every storage has its row (the usual case) nothing is written.
    A storage whose driver lists no alerts is paused by its first alert sync (see
    :func:`alert_sync_schedule_pause`). :returns: how many schedules were created.
    """
    if not interval:
        return 0
    has_one = sa.select(schedules.c.id).where(schedules.c.storage_id == storages.c.id,
                                              schedules.c.kind == PERIODIC_ALERT_SYNC).exists()
    missing = sa.select(storages.c.id).where(storages.c.deleting.is_(False), ~has_one).limit(limit)
    with read() as conn:
        ids = conn.execute(missing).scalars().all()
    if not ids:
        return 0
    now = utcnow()
    try:
        with write() as conn:
            # read again under the storage rows' locks: a registration or a removal may have come meanwhile
            found = conn.execute(missing.where(storages.c.id.in_(ids)).with_for_update()).scalars().all()
            if found:
                conn.execute(schedules.insert(), [
                    _row(storage_id, PERIODIC_ALERT_SYNC, now, interval_seconds=interval, enabled=True,
                         next_run_at=now) for storage_id in found])
    except exc.IntegrityError:
        return 0  # another scheduler (a failover) created them first: the next call sees them
    return len(found)


@translate_errors
def alert_sync_schedule_pause(storage_id: str) -> bool:
    """Pause the storage's periodic alert sync (its driver lists no alerts): disabled, interval kept.

    :returns: True when an enabled schedule was paused now.
    """
    now = utcnow()
    with write() as conn:
        return bool(conn.execute(schedules.update().where(
            schedules.c.storage_id == storage_id, schedules.c.kind == PERIODIC_ALERT_SYNC,
            schedules.c.enabled.is_(True)).values(enabled=False, next_run_at=None, updated_at=now)).rowcount)


@translate_errors
def alert_sync_schedule_resume(storage_id: str) -> bool:
    """Resume a periodic alert sync the platform paused (an alert sync of the storage just completed),
    one interval from now; nothing is written when it is not paused (the usual case).

    :returns: True when a paused schedule was resumed now.
    """
    paused = (schedules.c.storage_id == storage_id) & (schedules.c.kind == PERIODIC_ALERT_SYNC) & \
        schedules.c.enabled.is_(False) & schedules.c.interval_seconds.is_not(None)
    with read() as conn:
        row = conn.execute(sa.select(schedules.c.id, schedules.c.interval_seconds).where(paused)).first()
    if row is None:
        return False
    now = utcnow()
    with write() as conn:
        return bool(conn.execute(schedules.update().where(schedules.c.id == row.id, paused).values(
            enabled=True, next_run_at=now + datetime.timedelta(seconds=row.interval_seconds),
            updated_at=now)).rowcount)


# ---------------------------------------------------------------- the scheduler's side


def _schedule_dict(row) -> dict:
    return dict(row._mapping)


@translate_errors
def schedules_due(now: datetime.datetime | None = None, limit: int = 500) -> list[dict]:
    """Enabled schedules whose ``next_run_at`` is at or before ``now`` (default: the current
    time), oldest first, at most ``limit``: dicts of every schedules column."""
    now = now or utcnow()
    with read() as conn:
        rows = conn.execute(
            sa.select(schedules)
            .where(schedules.c.enabled.is_(True), schedules.c.next_run_at.is_not(None), schedules.c.next_run_at <= now)
            .order_by(schedules.c.next_run_at, schedules.c.id)
            .limit(limit)
        ).all()
    return [_schedule_dict(r) for r in rows]


def next_run(schedule: dict, now: datetime.datetime) -> datetime.datetime | None:
    """When ``schedule`` is due after firing at ``now``: one interval after the due time it
    fires for, or one interval from now when more than an interval was missed; None for a one-shot."""
    interval = schedule.get("interval_seconds")
    if not interval:
        return None
    step = datetime.timedelta(seconds=interval)
    following = schedule["next_run_at"] + step
    return following if following > now else now + step


@translate_errors
def schedule_fire(schedule: dict, now: datetime.datetime | None = None) -> dict | None:
    """Fire one due schedule exactly once: advance it and create (or reuse) its task, in one transaction.

    :param schedule: a row from :func:`schedules_due`, as read (its ``next_run_at`` is the compare value).
    :returns: ``{"schedule_id", "task": task dict, "created": bool}``, or None when another scheduler
        fired this due time first, the schedule changed since it was read, or its storage is gone or
        being deleted. Cast ``task`` only when ``created``.
    """
    now = now or utcnow()
    task_type, lane, redundant_if = KIND_TASKS[schedule["kind"]]
    storage_id = schedule["storage_id"]
    with write() as conn:
        storage = conn.execute(
            sa.select(storages.c.deleting).where(storages.c.id == storage_id).with_for_update()
        ).first()
        if storage is None or storage.deleting:
            return None
        existing = conn.execute(
            sa.select(tasks.c.id)
            .where(tasks.c.storage_id == storage_id, tasks.c.type == task_type, tasks.c.status.in_(redundant_if))
            .order_by(tasks.c.created_at.desc())
            .limit(1)
        ).first()
        task_id = existing.id if existing else new_id()
        advanced = conn.execute(
            schedules.update()
            .where(
                schedules.c.id == schedule["id"],
                schedules.c.next_run_at == schedule["next_run_at"],
                schedules.c.enabled.is_(True),
            )
            .values(next_run_at=next_run(schedule, now), last_fired_at=now, last_task_id=task_id, updated_at=now)
        ).rowcount
        if advanced != 1:
            return None
        if existing is None:
            conn.execute(tasks.insert(), task_values(task_type, storage_id, lane, now, task_id=task_id))
            if task_type == TaskType.SYNC:
                conn.execute(storages.update().where(storages.c.id == storage_id).values(last_sync_task_id=task_id))
        task = conn.execute(sa.select(tasks).where(tasks.c.id == task_id)).first()
    return {"schedule_id": schedule["id"], "task": dict(task._mapping), "created": existing is None}
