"""The task managers' own records: who runs, since when, last report, task counters.

Each task manager writes its row at start, at every report (heartbeat and
counters) and at stop. The API derives up/down from the age of the last
report; the scheduler prunes rows silent for longer than a retention time.
"""

import datetime

import sqlalchemy as sa

from delfin_like.db.sqlalchemy import models, query
from delfin_like.db.sqlalchemy.engine import read, translate_errors, write
from delfin_like.db.sqlalchemy.utils import utcnow

task_managers = models.TaskManagerRecord.__table__

TASK_MANAGER_FILTERS = ("host",)
TASK_MANAGER_SORTS = ("id", "host", "started_at", "last_heartbeat", "tasks_running", "tasks_done")
TASK_MANAGER_LISTING = query.Listing(
    task_managers, (task_managers,), TASK_MANAGER_FILTERS, TASK_MANAGER_SORTS, (("started_at", "desc"),),
    indexed_sorts=("started_at",),
)
_COUNTERS = ("tasks_running", "tasks_done", "tasks_failed")


def _member_dict(row) -> dict:
    out = dict(row._mapping)
    out["lanes"] = [lane for lane in out["lanes"].split(",") if lane]
    return out


@translate_errors
def task_manager_register(member_id: str, host: str, pid: int, lanes) -> dict:
    """Record a task manager that just started (a row with the same id is replaced); returns it."""
    now = utcnow()
    values = {
        "host": host,
        "pid": pid,
        "lanes": ",".join(lanes),
        "started_at": now,
        "last_heartbeat": now,
        "tasks_running": 0,
        "tasks_done": 0,
        "tasks_failed": 0,
        "stopped_at": None,
    }
    with write() as conn:
        changed = conn.execute(task_managers.update().where(task_managers.c.id == member_id).values(**values))
        if changed.rowcount != 1:
            conn.execute(task_managers.insert(), {"id": member_id, **values})
        row = conn.execute(sa.select(task_managers).where(task_managers.c.id == member_id)).first()
    return _member_dict(row)


@translate_errors
def task_manager_report(
    member_id: str, tasks_running: int, tasks_done: int, tasks_failed: int, stopped: bool = False
) -> bool:
    """Store a task manager's heartbeat and counters (and, with ``stopped``, that it stopped).

    :returns: False when its row is gone (pruned while it was cut off): register again.
    """
    now = utcnow()
    values = {
        "last_heartbeat": now,
        "tasks_running": tasks_running,
        "tasks_done": tasks_done,
        "tasks_failed": tasks_failed,
    }
    if stopped:
        values["stopped_at"] = now
    with write() as conn:
        return (
            conn.execute(task_managers.update().where(task_managers.c.id == member_id).values(**values)).rowcount == 1
        )


@translate_errors
def task_manager_list(filters=None, limit=None, offset=None, marker=None, sort=None, with_count=False) -> list[dict]:
    """Task manager records (``lanes`` as a list), newest start first unless sorted otherwise."""
    with read() as conn:
        return TASK_MANAGER_LISTING.run(conn, _member_dict, filters, limit, offset, marker, sort, with_count)


@translate_errors
def task_managers_prune(silent_for: float) -> int:
    """Delete the records of task managers whose last report is older than ``silent_for`` seconds."""
    cutoff = utcnow() - datetime.timedelta(seconds=silent_for)
    with write() as conn:
        return conn.execute(task_managers.delete().where(task_managers.c.last_heartbeat < cutoff)).rowcount
