"""A month of windows for 100 storages, compressed in time, with retention on: row counts and database size.

Writes the rows the sync, perf and job paths write (a ``tasks`` row per perf
window and per sync with their result JSON, a failed window now and then with
its error and a recorded gap, a preprocessing job a day, the storage's and the
schedules' pointers to their latest task), with synthetic timestamps, one
simulated ``[retention] interval`` at a time, and after each interval runs
retention as the scheduler leader does (``Retention.run_once``, the ``[retention]``
defaults unless overridden). Prints the row counts and the database size after
every simulated day, then one JSON document; with retention on the figures
level off. On PostgreSQL a plain ``VACUUM`` stands in for autovacuum once per
simulated day (a real day gives autovacuum plenty of turns).

    python benchmarks/retention_bench.py
    python benchmarks/retention_bench.py --storages 10 --days 7
    python benchmarks/retention_bench.py --db-url postgresql+psycopg://postgres@127.0.0.1:5432/test

``--db-url`` names a server: a fresh database is created on it and dropped at the end.
"""

import argparse
import datetime
import json
import os
import random
import sys
import tempfile
import time
import uuid

DAY = 86400


def _server_db(admin_url: str):
    """Create a fresh database on the server of ``admin_url``; returns its URL and a dropper."""
    import sqlalchemy as sa

    parsed = sa.engine.make_url(admin_url)
    name = f"delfin_bench_{uuid.uuid4().hex[:8]}"
    quote = "`" if parsed.get_backend_name() in ("mysql", "mariadb") else '"'
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {quote}{name}{quote}")

    def drop():
        with engine.connect() as conn:
            force = " WITH (FORCE)" if quote == '"' else ""
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quote}{name}{quote}{force}")
        engine.dispose()

    return parsed.set(database=name).render_as_string(hide_password=False), drop


def _setup(url: str, state_path: str, overrides: dict):
    from delfin_like.conf import CONF
    from delfin_like.db import api, migration

    CONF([], project="delfin_like", default_config_files=[])
    CONF.set_override("state_path", state_path)
    for name, value in overrides.items():
        if value is not None:
            CONF.set_override(name, value, group="retention")
    migration.upgrade("head", url=url)
    api.configure(url)
    return CONF


class Simulation:
    """The rows of ``storages`` storages, written one retention interval at a time."""

    def __init__(self, args, start: datetime.datetime):
        from delfin_like.db.sqlalchemy import jobs, metrics, models

        self.args = args
        self.start = start
        self.rng = random.Random(args.seed)
        self.tasks = models.Task.__table__
        self.storages_t = models.Storage.__table__
        self.schedules_t = models.Schedule.__table__
        self.jobs_t = jobs.Job.__table__
        self.gaps_t = metrics.PerfGap.__table__
        self.tables = {
            "tasks": self.tasks,
            "jobs": self.jobs_t,
            "perf_gaps": self.gaps_t,
            "schedules": self.schedules_t,
            "storages": self.storages_t,
        }
        self.types = [f"perf_{t}" for t in args.perf_types.split(",")]
        self.storage_ids: list[str] = []
        self.written = {"tasks": 0, "jobs": 0, "perf_gaps": 0}

    def register(self) -> None:
        from delfin_like.db.sqlalchemy import engine
        from delfin_like.db.sqlalchemy.utils import new_id

        rows, schedules = [], []
        for i in range(self.args.storages):
            sid = new_id()
            self.storage_ids.append(sid)
            rows.append(
                {
                    "id": sid,
                    "name": f"array-{i}",
                    "vendor": "fake_storage",
                    "model": "fake_driver",
                    "serial_number": f"SN-{i:05d}",
                    "status": "normal",
                    "fingerprint": "0" * 32,
                    "deleting": False,
                    "created_at": self.start,
                }
            )
            for kind, rt, interval in [("periodic_sync", "storage", self.args.sync_interval)] + [
                (t, t[5:], self.args.perf_interval) for t in self.types
            ]:
                schedules.append(
                    {
                        "id": new_id(),
                        "storage_id": sid,
                        "kind": kind,
                        "resource_type": rt,
                        "interval_seconds": interval,
                        "enabled": True,
                        "next_run_at": self.start,
                        "created_at": self.start,
                    }
                )
        with engine.write() as conn:
            conn.execute(self.storages_t.insert(), rows)
            conn.execute(self.schedules_t.insert(), schedules)

    def _task(self, sid, type_, finished, status, result, error=None, progress=None) -> dict:
        from delfin_like.db.sqlalchemy.utils import new_id

        started = finished - datetime.timedelta(seconds=2)
        return {
            "id": new_id(),
            "type": type_,
            "storage_id": sid,
            "priority": "normal" if type_.startswith("perf_") else "background",
            "status": status,
            "attempts": 1,
            "lease_owner": None,
            "created_at": started,
            "updated_at": finished,
            "started_at": started,
            "finished_at": finished,
            "result": json.dumps(result, sort_keys=True) if result is not None else None,
            "error": error,
            "progress": json.dumps(progress, sort_keys=True) if progress is not None else None,
        }

    def _perf(self, sid, type_, end: datetime.datetime, gaps: list) -> dict:
        end_us = int(end.replace(tzinfo=datetime.UTC).timestamp() * 1_000_000)
        start_us = end_us - self.args.perf_interval * 1_000_000
        if self.rng.random() < self.args.fail_rate:
            if self.rng.random() < 0.5:
                gaps.append(
                    {
                        "storage_id": sid,
                        "resource_type": type_[5:],
                        "exporter": None,
                        "start_us": start_us,
                        "end_us": end_us,
                        "reason": "collection failed for longer than the retention (3 attempts): "
                        "StorageBackendError: connection reset by peer",
                        "created_at": end,
                    }
                )
            error = "StorageBackendError: the array did not answer within 60 s (GET /api/perf/counters)"
            return self._task(sid, type_, end, "FAILED", None, error)
        result = {
            "resource_type": type_[5:],
            "window_start_us": start_us,
            "window_end_us": end_us,
            "samples": 13 * 200,
            "batches": 1,
            "exporters": {"prometheus": {"delivered": 1, "failed": None}},
            "backlog": {"batches": 0, "exporters": {}, "expired": 0},
            "gap": None,
        }
        return self._task(sid, type_, end, "COMPLETED", result)

    def _sync(self, sid, end: datetime.datetime) -> dict:
        counts = {"added": 0, "updated": 3, "deleted": 0, "unchanged": 197}
        result = {rt: dict(counts) for rt in ("storage_pools", "volumes", "controllers", "ports", "disks")}
        result["rows_written"] = 15
        progress = {"phase": "writing", "current": None, "listed": 0, "done": list(result)[:5], "changes": {}}
        return self._task(sid, "sync", end, "COMPLETED", result, progress=progress)

    def step(self, t0: datetime.datetime, t1: datetime.datetime) -> None:
        """Write every row whose window or task ends in ``(t0, t1]``, in one transaction."""
        import sqlalchemy as sa

        from delfin_like.db.sqlalchemy import engine
        from delfin_like.db.sqlalchemy.utils import new_id

        def ends(interval: int):
            first = int((t0 - self.start).total_seconds()) // interval + 1
            last = int((t1 - self.start).total_seconds()) // interval
            return [self.start + datetime.timedelta(seconds=k * interval) for k in range(first, last + 1)]

        perf_ends, sync_ends, job_ends = ends(self.args.perf_interval), ends(self.args.sync_interval), ends(DAY)
        tasks, gaps, jobs, last_sync, last_sched = [], [], [], {}, {}
        for sid in self.storage_ids:
            for type_ in self.types:
                for end in perf_ends:
                    tasks.append(self._perf(sid, type_, end, gaps))
                    last_sched[(sid, type_)] = tasks[-1]["id"]
            for end in sync_ends:
                tasks.append(self._sync(sid, end))
                last_sync[sid] = last_sched[(sid, "periodic_sync")] = tasks[-1]["id"]
            for end in job_ends:
                for _ in range(self.args.jobs_per_day):
                    submit = self._task(sid, "job_submit", end, "COMPLETED", {"job": "COMPLETED"})
                    tasks.append(submit)
                    jobs.append(
                        {
                            "id": new_id(),
                            "storage_id": sid,
                            "job_id": f"job-{uuid.uuid4().hex}",
                            "name": "compress-logs",
                            "namespace": "default",
                            "spec": json.dumps({"command": ["gzip", "-9", "/data/in"], "csd": "nvme0"}),
                            "status": "COMPLETED",
                            "node": "csd-node-1",
                            "message": "completed",
                            "exit_code": 0,
                            "submit_task_id": submit["id"],
                            "created_at": end,
                            "updated_at": end,
                        }
                    )
        sched = self.schedules_t
        with engine.write() as conn:
            if tasks:
                conn.execute(self.tasks.insert(), tasks)
            if gaps:
                conn.execute(self.gaps_t.insert(), gaps)
            if jobs:
                conn.execute(self.jobs_t.insert(), jobs)
            if last_sync:
                conn.execute(
                    self.storages_t.update()
                    .where(self.storages_t.c.id == sa.bindparam("sid"))
                    .values(last_sync_task_id=sa.bindparam("tid")),
                    [{"sid": s, "tid": t} for s, t in last_sync.items()],
                )
            if last_sched:
                conn.execute(
                    sched.update()
                    .where(sched.c.storage_id == sa.bindparam("sid"), sched.c.kind == sa.bindparam("k"))
                    .values(last_task_id=sa.bindparam("tid"), last_fired_at=t1),
                    [{"sid": s, "k": k, "tid": t} for (s, k), t in last_sched.items()],
                )
        self.written["tasks"] += len(tasks)
        self.written["perf_gaps"] += len(gaps)
        self.written["jobs"] += len(jobs)

    def measure(self) -> dict:
        """Row counts per table and the database size, in bytes."""
        import sqlalchemy as sa

        from delfin_like.db.sqlalchemy import engine

        eng = engine.get_engine()
        dialect = eng.dialect.name
        if dialect == "sqlite":
            raw = eng.raw_connection()  # outside any transaction: the WAL folds back into the file
            try:
                raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
        with eng.connect() as conn:
            rows = {n: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar() for n, t in self.tables.items()}
            if dialect == "sqlite":
                page = conn.exec_driver_sql("PRAGMA page_size").scalar()
                pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
                free = conn.exec_driver_sql("PRAGMA freelist_count").scalar()
                size = {"db_bytes": page * pages, "free_bytes": page * free}
            elif dialect == "postgresql":
                size = {"db_bytes": conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar()}
                size["tasks_bytes"] = conn.exec_driver_sql("SELECT pg_total_relation_size('tasks')").scalar()
            else:
                total, free = conn.exec_driver_sql(
                    "SELECT SUM(data_length + index_length), SUM(data_free) FROM information_schema.tables "
                    "WHERE table_schema = DATABASE()"
                ).one()
                size = {"db_bytes": int(total), "free_bytes": int(free or 0)}
        return {"rows": rows, **size}

    def vacuum(self) -> None:
        """PostgreSQL: what autovacuum does over a real day (dead rows become reusable space)."""
        from delfin_like.db.sqlalchemy import engine

        eng = engine.get_engine()
        if eng.dialect.name != "postgresql":
            return
        with eng.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            for name in ("tasks", "jobs", "perf_gaps", "storages", "schedules"):
                conn.exec_driver_sql(f"VACUUM {name}")


def run(args) -> dict:
    from delfin_like.db.sqlalchemy.utils import utcnow

    state = tempfile.mkdtemp(prefix="delfin_retention_bench_")
    drop = None
    if args.db_url:
        url, drop = _server_db(args.db_url)
    else:
        url = f"sqlite:///{os.path.join(state, 'delfin_like.sqlite')}"
    overrides = {
        "enabled": not args.no_retention,
        "tasks_per_storage_type": args.tasks_per_storage_type,
        "task_max_age": args.task_max_age,
        "interval": args.retention_interval,
    }
    try:
        conf = _setup(url, state, overrides)
        from delfin_like.scheduler import retention

        interval = conf.retention.interval
        start = (utcnow() - datetime.timedelta(days=args.days)).replace(microsecond=0)
        sim = Simulation(args, start)
        sim.register()
        pruner = retention.Retention()
        days, pruned, spent, write_s = [], {}, 0.0, 0.0
        steps_per_day = max(1, DAY // interval)
        began = time.monotonic()
        for k in range(args.days * steps_per_day):
            t0 = start + datetime.timedelta(seconds=k * interval)
            t1 = t0 + datetime.timedelta(seconds=interval)
            w = time.perf_counter()
            sim.step(t0, t1)
            write_s += time.perf_counter() - w
            if conf.retention.enabled:
                r = time.perf_counter()
                for kind, n in pruner.run_once(now=t1).items():
                    pruned[kind] = pruned.get(kind, 0) + n
                spent += time.perf_counter() - r
            if (k + 1) % steps_per_day == 0:
                sim.vacuum()
                day = {"day": (k + 1) // steps_per_day, **sim.measure(), "written": dict(sim.written)}
                day["retention_s"] = round(spent, 2)
                day["write_s"] = round(write_s, 2)
                spent = write_s = 0.0
                days.append(day)
                print(json.dumps(day), file=sys.stderr, flush=True)
        last = days[-1]
        return {
            "database": sa_backend(url),
            "storages": args.storages,
            "days": args.days,
            "perf_types": sim.types,
            "perf_interval_s": args.perf_interval,
            "sync_interval_s": args.sync_interval,
            "fail_rate": args.fail_rate,
            "jobs_per_storage_day": args.jobs_per_day,
            "retention": {k: getattr(conf.retention, k) for k in conf.retention.keys()},
            "rows_written_per_storage_day": round(sum(sim.written.values()) / args.storages / args.days),
            "pruned": pruned,
            "per_day": days,
            "final": {
                "rows": last["rows"],
                "db_bytes": last["db_bytes"],
                "db_bytes_per_storage": round(last["db_bytes"] / args.storages),
                "task_rows_per_storage": round(last["rows"]["tasks"] / args.storages),
            },
            "wall_s": round(time.monotonic() - began, 1),
        }
    finally:
        from delfin_like.db import api

        api.dispose()
        if drop:
            drop()


def sa_backend(url: str) -> str:
    import sqlalchemy as sa

    return sa.engine.make_url(url).get_backend_name()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storages", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--perf-types", default="storage,volume,port", help="perf resource types collected")
    parser.add_argument("--perf-interval", type=int, default=300, help="seconds between perf windows")
    parser.add_argument("--sync-interval", type=int, default=3600, help="seconds between periodic syncs")
    parser.add_argument("--fail-rate", type=float, default=0.02, help="share of perf windows that fail")
    parser.add_argument("--jobs-per-day", type=int, default=1, help="preprocessing jobs per storage and day")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--db-url", help="a PostgreSQL or MariaDB server URL (default: a SQLite file)")
    parser.add_argument("--tasks-per-storage-type", type=int, help="override [retention] tasks_per_storage_type")
    parser.add_argument("--task-max-age", type=int, help="override [retention] task_max_age")
    parser.add_argument("--retention-interval", type=int, help="override [retention] interval (simulated seconds)")
    parser.add_argument("--no-retention", action="store_true", help="the same month without retention")
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    print(json.dumps(run(args), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
