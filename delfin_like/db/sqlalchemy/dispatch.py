"""Which tasks the scheduler casts (again): the database side of at-least-once delivery.

A cast is at-most-once, so the ``tasks`` table decides what still has to run:
RUNNING tasks whose lease expired (their worker died), PENDING tasks nobody
claimed for a while (their cast was lost), and PENDING tasks whose retry
back-off (``not_before``) is over. Every function here marks what it returns
(``updated_at`` touched, ``not_before`` cleared) so the next scan does not
resend it at once.
"""

import datetime

import sqlalchemy as sa

from delfin_like.common.constants import TaskStatus
from delfin_like.db.sqlalchemy import models
from delfin_like.db.sqlalchemy.engine import translate_errors, write
from delfin_like.db.sqlalchemy.utils import finish_values, task_dict, utcnow

tasks = models.Task.__table__


def _task_dicts(conn, ids: list[str]) -> list[dict]:
    if not ids:
        return []
    rows = conn.execute(sa.select(tasks).where(tasks.c.id.in_(ids)).order_by(tasks.c.created_at)).all()
    return [task_dict(r) for r in rows]


def _mark_sent(conn, ids: list[str], now) -> None:
    if ids:
        conn.execute(tasks.update().where(tasks.c.id.in_(ids)).values(updated_at=now, not_before=None))


@translate_errors
def tasks_to_redispatch(pending_older_than: float, max_attempts: int | None = None) -> list[dict]:
    """Tasks to cast again, marked as sent.

    * RUNNING ones whose lease expired: back to PENDING (or FAILED once ``max_attempts`` are spent);
    * PENDING ones whose retry back-off (``not_before``) is over;
    * PENDING ones without a back-off left unclaimed for ``pending_older_than`` seconds.

    :returns: task dicts, oldest first.
    """
    now = utcnow()
    with write() as conn:
        expired = (tasks.c.status == TaskStatus.RUNNING) & (tasks.c.lease_expires_at < now)
        if max_attempts is not None:
            conn.execute(
                tasks.update()
                .where(expired, tasks.c.attempts >= max_attempts)
                .values(
                    **finish_values(TaskStatus.FAILED, None, "task manager lost (lease expired); attempts spent", now)
                )
            )
        reset = conn.execute(sa.select(tasks.c.id).where(expired)).scalars().all()
        if reset:
            conn.execute(
                tasks.update()
                .where(tasks.c.id.in_(reset))
                .values(
                    status=TaskStatus.PENDING,
                    lease_owner=None,
                    lease_expires_at=None,
                    error="task manager lost (lease expired)",
                    updated_at=now,
                )
            )
        cutoff = now - datetime.timedelta(seconds=pending_older_than)
        pending = tasks.c.status == TaskStatus.PENDING
        waiting = (
            conn.execute(
                sa.select(tasks.c.id).where(
                    pending,
                    sa.or_(
                        tasks.c.not_before <= now,
                        sa.and_(tasks.c.not_before.is_(None), tasks.c.updated_at < cutoff),
                    ),
                )
            )
            .scalars()
            .all()
        )
        _mark_sent(conn, waiting, now)
        return _task_dicts(conn, list(dict.fromkeys([*reset, *waiting])))


@translate_errors
def tasks_pending_to_cast() -> list[dict]:
    """Every PENDING task not inside a retry back-off, marked as sent, oldest first.

    For the moment the first task manager joins: casts made while none was up
    may have gone to lanes nobody had declared yet, i.e. nowhere.
    """
    now = utcnow()
    with write() as conn:
        ids = (
            conn.execute(
                sa.select(tasks.c.id).where(
                    tasks.c.status == TaskStatus.PENDING,
                    sa.or_(tasks.c.not_before.is_(None), tasks.c.not_before <= now),
                )
            )
            .scalars()
            .all()
        )
        _mark_sent(conn, ids, now)
        return _task_dicts(conn, ids)


def retry_delay(attempts: int, base: float, cap: float) -> float:
    """Seconds before attempt ``attempts + 1``: ``base`` doubled per attempt made beyond the first,
    at most ``cap``."""
    if attempts < 1 or base <= 0:
        return 0.0
    return min(cap, base * 2 ** min(attempts - 1, 32))
