"""Rows as the sync, perf and job paths write them, with chosen timestamps, for the retention tests."""

import datetime
import json

import sqlalchemy as sa

from delfin_like.common.constants import TaskStatus
from delfin_like.db.sqlalchemy import engine, jobs, metrics, models
from delfin_like.db.sqlalchemy.utils import new_id, utcnow

tasks_t = models.Task.__table__


def ago(**kw) -> datetime.datetime:
    return utcnow() - datetime.timedelta(**kw)


def storage(name: str = "array") -> str:
    """A bare storages row; returns its id."""
    sid = new_id()
    now = utcnow()
    with engine.write() as conn:
        conn.execute(
            models.Storage.__table__.insert(),
            {
                "id": sid,
                "name": name,
                "vendor": "fake_storage",
                "model": "fake_driver",
                "serial_number": f"SN-{sid}",
                "status": "normal",
                "fingerprint": "0" * 32,
                "deleting": False,
                "created_at": now,
            },
        )
    return sid


def task(storage_id, type_="perf_volume", status=TaskStatus.COMPLETED, finished=None, error=None) -> str:
    """One tasks row; ``finished`` (default: now) is its finish time, or its creation time if unfinished."""
    at = finished or utcnow()
    done = status in TaskStatus.FINISHED
    tid = new_id()
    with engine.write() as conn:
        conn.execute(
            tasks_t.insert(),
            {
                "id": tid,
                "type": type_,
                "storage_id": storage_id,
                "priority": "background",
                "status": status,
                "attempts": 1,
                "created_at": at,
                "updated_at": at,
                "started_at": at if status != TaskStatus.PENDING else None,
                "finished_at": at if done else None,
                "result": json.dumps({"samples": 10}) if status == TaskStatus.COMPLETED else None,
                "error": error or ("boom" if status == TaskStatus.FAILED else None),
            },
        )
    return tid


def tasks(storage_id, count, type_="perf_volume", status=TaskStatus.COMPLETED, start=None, step=60) -> list[str]:
    """``count`` tasks finished ``step`` s apart from ``start`` (default: count*step s ago), oldest first."""
    start = start or ago(seconds=count * step)
    return [task(storage_id, type_, status, start + datetime.timedelta(seconds=i * step)) for i in range(count)]


def job(storage_id, status="COMPLETED", updated=None, submit_task_id=None) -> str:
    at = updated or utcnow()
    jid = new_id()
    with engine.write() as conn:
        conn.execute(
            jobs.Job.__table__.insert(),
            {
                "id": jid,
                "storage_id": storage_id,
                "job_id": f"job-{jid}",
                "name": "job",
                "namespace": "default",
                "spec": "{}",
                "status": status,
                "submit_task_id": submit_task_id,
                "created_at": at,
                "updated_at": at,
            },
        )
    return jid


def gap(storage_id, resource_type="volume", created=None) -> int:
    at = created or utcnow()
    with engine.write() as conn:
        return conn.execute(
            metrics.PerfGap.__table__.insert(),
            {
                "storage_id": storage_id,
                "resource_type": resource_type,
                "start_us": 0,
                "end_us": 1,
                "reason": "given up",
                "created_at": at,
            },
        ).inserted_primary_key[0]


def point_storage_at(storage_id, task_id) -> None:
    """Make ``task_id`` the storage's latest sync task (what its sync_status shows)."""
    table = models.Storage.__table__
    with engine.write() as conn:
        conn.execute(table.update().where(table.c.id == storage_id).values(last_sync_task_id=task_id))


def ids(table) -> set:
    key = list(table.primary_key.columns)[0]
    with engine.read() as conn:
        return set(conn.execute(sa.select(key)).scalars())


def task_ids() -> set[str]:
    return ids(tasks_t)


def schedule(storage_id, kind="periodic_sync", last_task_id=None) -> None:
    now = utcnow()
    with engine.write() as conn:
        conn.execute(
            models.Schedule.__table__.insert(),
            {
                "id": new_id(),
                "storage_id": storage_id,
                "kind": kind,
                "resource_type": "storage",
                "interval_seconds": 3600,
                "enabled": True,
                "next_run_at": now,
                "last_task_id": last_task_id,
                "created_at": now,
            },
        )
