"""The node's job records in SQLite, so a restarted agent still knows every job.

One file (``<state-dir>/jobs.sqlite``), WAL journal: a committed change survives
the agent being killed. Every write is one short transaction under a lock; the
agent is the only writer.
"""

import dataclasses
import json
import os
import sqlite3
import threading

from delfin_like_drivers.csd.agent.jobspec import JobSpec

SCHEMA_VERSION = 1

PENDING = "PENDING"
RUNNING = "RUNNING"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"
ACTIVE = (PENDING, RUNNING)
FINISHED = (COMPLETED, FAILED, CANCELLED)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL UNIQUE,
    namespace TEXT NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    submitted_at REAL NOT NULL,
    started_at REAL,
    completed_at REAL,
    message TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    exit_code INTEGER,
    pid INTEGER NOT NULL DEFAULT 0,
    pid_start INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status);
"""


@dataclasses.dataclass(frozen=True)
class JobRecord:
    spec: JobSpec
    status: str
    submitted_at: float
    started_at: float | None = None
    completed_at: float | None = None
    message: str = ""
    error: str = ""
    exit_code: int | None = None
    pid: int = 0
    # the process's start time in clock ticks since boot, to recognise it after a restart
    pid_start: int | None = None

    @property
    def job_id(self) -> str:
        return self.spec.job_id


class DuplicateJob(Exception):
    """A job with that id was recorded before."""


class JobStore:
    """SQLite-backed job records; safe to share between threads."""

    def __init__(self, path: str):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.row_factory = sqlite3.Row
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"{path} was written by a newer agent (schema {version})")
            self._conn.executescript(_SCHEMA)
            self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @staticmethod
    def _record(row: sqlite3.Row) -> JobRecord:
        return JobRecord(
            spec=JobSpec.from_dict(json.loads(row["spec"])),
            status=row["status"],
            submitted_at=row["submitted_at"],
            started_at=row["started_at"],
            completed_at=row["completed_at"],
            message=row["message"],
            error=row["error"],
            exit_code=row["exit_code"],
            pid=row["pid"],
            pid_start=row["pid_start"],
        )

    def insert(self, record: JobRecord) -> None:
        """Record a new job; DuplicateJob if its id was used before."""
        try:
            with self._lock:
                self._conn.execute(
                    "INSERT INTO jobs (job_id, namespace, spec, status, submitted_at, message) VALUES (?,?,?,?,?,?)",
                    (
                        record.job_id,
                        record.spec.namespace,
                        json.dumps(record.spec.to_dict()),
                        record.status,
                        record.submitted_at,
                        record.message,
                    ),
                )
        except sqlite3.IntegrityError:
            raise DuplicateJob(record.job_id)

    def update(self, job_id: str, **fields) -> JobRecord:
        """Change some columns of a job; returns the new record."""
        allowed = {"status", "started_at", "completed_at", "message", "error", "exit_code", "pid", "pid_start"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._lock:
            self._conn.execute(f"UPDATE jobs SET {assignments} WHERE job_id = ?", (*fields.values(), job_id))
            row = self._conn.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return self._record(row)

    def get(self, job_id: str) -> JobRecord | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return self._record(row) if row else None

    def list(self, namespace: str = "", statuses: tuple[str, ...] = ()) -> list[JobRecord]:
        """Jobs in submission order, optionally of one namespace and some statuses."""
        sql, args = "SELECT * FROM jobs WHERE 1=1", []
        if namespace:
            sql += " AND namespace = ?"
            args.append(namespace)
        if statuses:
            sql += f" AND status IN ({', '.join('?' for _ in statuses)})"
            args.extend(statuses)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY seq", args).fetchall()
        return [self._record(row) for row in rows]

    def count(self, status: str) -> int:
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM jobs WHERE status = ?", (status,)).fetchone()[0]
