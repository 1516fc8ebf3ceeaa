"""SQL of preprocessing jobs: the platform's mirror of the jobs its back ends run.

A job row is created with the task that submits it, in one transaction; the
task manager then mirrors what the back end reports (status, times, message,
error, exit code) into the row. Cancelling records a second task on the same
row. ``(storage_id, job_id)`` is unique: a back end knows a job id once.
"""

import datetime
import json

import sqlalchemy as sa
from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, exc
from sqlalchemy.orm import Mapped, mapped_column

from delfin_like.common import exception
from delfin_like.common.constants import TaskStatus, TaskType
from delfin_like.db.sqlalchemy import models, query
from delfin_like.db.sqlalchemy.engine import read, translate_errors, write
from delfin_like.db.sqlalchemy.models import ID, NAME, Base, Timestamp, TimestampMixin
from delfin_like.db.sqlalchemy.utils import new_id, task_values, utcnow

ACTIVE = ("PENDING", "RUNNING")
FINISHED = ("COMPLETED", "FAILED", "CANCELLED")
# what the back end reports and the task manager may write
MIRRORED = ("status", "node", "message", "error", "exit_code", "submitted_at", "started_at", "completed_at")


class Job(Base, TimestampMixin):
    """A job submitted through the platform to a storage that runs jobs."""

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("storage_id", "job_id"),
        # status lookups, and GET /v1/jobs?status=<x> in the default created_at order (revision 0011)
        Index("ix_jobs_status_created_at_id", "status", "created_at", "id"),
        *models.list_indexes("jobs", sorts=("created_at",)),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    storage_id: Mapped[str] = mapped_column(ID, ForeignKey("storages.id", ondelete="CASCADE"), nullable=False)
    job_id: Mapped[str] = mapped_column(String(128), nullable=False)
    name: Mapped[str] = mapped_column(NAME, nullable=False)
    namespace: Mapped[str] = mapped_column(String(64), nullable=False)
    # the submitted spec as JSON (command, paths, resources, csd, labels, env, timeout)
    spec: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    node: Mapped[str | None] = mapped_column(NAME)
    message: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    submitted_at: Mapped[datetime.datetime | None] = mapped_column(Timestamp)
    started_at: Mapped[datetime.datetime | None] = mapped_column(Timestamp)
    completed_at: Mapped[datetime.datetime | None] = mapped_column(Timestamp)
    submit_task_id: Mapped[str | None] = mapped_column(ID)
    cancel_task_id: Mapped[str | None] = mapped_column(ID)


jobs = Job.__table__
tasks = models.Task.__table__
storages = models.Storage.__table__


def _dict(row) -> dict:
    out = dict(row._mapping)
    out["spec"] = json.loads(out["spec"]) if out.get("spec") else {}
    return out


def _get(conn, job_id: str):
    row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
    if row is None:
        raise exception.JobNotFound(job_id)
    return row


@translate_errors
def job_create(storage_id: str, spec: dict, priority: str) -> tuple[dict, dict]:
    """Record a job (PENDING) and the task that submits it, atomically.

    :param spec: the validated spec; ``job_id``, ``name`` and ``namespace`` are columns too.
    :returns: ``(job, task)``.
    :raises StorageNotFound, StorageBeingDeleted, JobAlreadyExists:
    """
    now = utcnow()
    task = task_values(TaskType.JOB_SUBMIT, storage_id, priority, now)
    values = {
        "id": new_id(),
        "storage_id": storage_id,
        "job_id": spec["job_id"],
        "name": spec.get("name") or spec["job_id"],
        "namespace": spec.get("namespace") or "default",
        "spec": json.dumps(spec, sort_keys=True),
        "status": "PENDING",
        # true whether or not a task manager runs: the task is queued, nothing has taken it yet
        "message": "queued: its submit task has not started",
        "submit_task_id": task["id"],
        "created_at": now,
        "updated_at": now,
    }
    try:
        with write() as conn:
            row = conn.execute(sa.select(storages.c.deleting).where(storages.c.id == storage_id)).first()
            if row is None:
                raise exception.StorageNotFound(storage_id)
            if row.deleting:
                raise exception.StorageBeingDeleted(storage_id)
            taken = conn.execute(
                sa.select(jobs.c.id).where(jobs.c.storage_id == storage_id, jobs.c.job_id == spec["job_id"])
            ).first()
            if taken:
                raise exception.JobAlreadyExists(spec["job_id"])
            conn.execute(tasks.insert(), task)
            conn.execute(jobs.insert(), values)
    except exc.IntegrityError:
        # a concurrent submit of the same id won the race the check above could not see
        raise exception.JobAlreadyExists(spec["job_id"])
    return job_get(values["id"]), _task_dict(task["id"])


def _task_dict(task_id: str) -> dict:
    from delfin_like.db.sqlalchemy import api  # the task view lives there

    return api.task_get(task_id)


@translate_errors
def job_get(job_id: str) -> dict:
    """The job row; JobNotFound if absent."""
    with read() as conn:
        return _dict(_get(conn, job_id))


_FILTER_KEYS = ("storage_id", "status", "job_id", "namespace", "name", "node")
_SORT_KEYS = ("created_at", "job_id", "name", "namespace", "status", "id")
JOB_LISTING = query.Listing(
    jobs, tuple(jobs.c), _FILTER_KEYS, _SORT_KEYS, (("created_at", "asc"),), indexed_sorts=("created_at",)
)


@translate_errors
def job_list(
    filters: dict | None = None,
    limit: int | None = None,
    offset: int | None = None,
    marker: str | None = None,
    sort=None,
    with_count: bool = False,
) -> list[dict]:
    """Jobs with exact filters (``storage_id``, ``status``, ``job_id``, ``namespace``, ``name``, ``node``),
    paged and sorted like every list (default: oldest first). :raises InvalidInput:"""
    with read() as conn:
        return JOB_LISTING.run(conn, _dict, filters, limit, offset, marker, sort, with_count)


@translate_errors
def job_for_task(task_id: str) -> dict | None:
    """The job a submit or cancel task works on, or None (the job went with its storage)."""
    with read() as conn:
        row = conn.execute(
            sa.select(jobs).where(sa.or_(jobs.c.submit_task_id == task_id, jobs.c.cancel_task_id == task_id))
        ).first()
    return _dict(row) if row else None


@translate_errors
def job_mirror(job_id: str, values: dict, keep_cancelled: bool = True) -> dict:
    """Write what the back end reported (keys of ``MIRRORED``); returns the job.

    A job the platform recorded CANCELLED stays CANCELLED (``keep_cancelled``):
    a late report of its run must not bring it back.
    """
    unknown = set(values) - set(MIRRORED)
    if unknown:
        raise ValueError(f"cannot mirror {sorted(unknown)}")
    with write() as conn:
        row = _get(conn, job_id)
        if keep_cancelled and row.status == "CANCELLED" and values.get("status") != "CANCELLED":
            values = {k: v for k, v in values.items() if k not in ("status", "error", "completed_at")}
        if values:
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values, updated_at=utcnow()))
        return _dict(_get(conn, job_id))


@translate_errors
def job_cancel_request(job_id: str, priority: str) -> tuple[dict, dict | None, bool]:
    """Ask for a job to stop: record the cancel task (or reuse a pending one).

    :returns: ``(job, task, created)``; ``task`` is None when the job is finished (nothing to do).
    """
    now = utcnow()
    task_id, created = None, False
    with write() as conn:
        row = _get(conn, job_id)
        if row.status not in FINISHED:
            if (
                row.cancel_task_id
                and conn.execute(
                    sa.select(tasks.c.id).where(
                        tasks.c.id == row.cancel_task_id, tasks.c.status.in_((TaskStatus.PENDING, TaskStatus.RUNNING))
                    )
                ).first()
            ):
                task_id = row.cancel_task_id
            else:
                task = task_values(TaskType.JOB_CANCEL, row.storage_id, priority, now)
                conn.execute(tasks.insert(), task)
                conn.execute(
                    jobs.update()
                    .where(jobs.c.id == job_id)
                    .values(cancel_task_id=task["id"], message="cancel requested", updated_at=now)
                )
                task_id, created = task["id"], True
    # read after the commit: the task view opens its own connection
    return job_get(job_id), (_task_dict(task_id) if task_id else None), created
