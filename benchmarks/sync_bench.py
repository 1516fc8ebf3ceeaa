"""Sync throughput of one storage: initial sync, no-change re-sync, 1% churn re-sync.

For each size (volumes; 100 pools) and database, a fresh child process
registers one fake storage and runs the three syncs through the same code
path a task manager uses (``task_manager.jobs.sync.run``: storage lock ->
driver -> fingerprints -> diff -> one-transaction apply). Prints one JSON
document: wall seconds, rows written and the child's peak RSS per step.

    python benchmarks/sync_bench.py                       # 1k,10k,100k,1M on sqlite and postgresql
    python benchmarks/sync_bench.py --sizes 100000 --databases sqlite
"""

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import uuid

POSTGRES_ADMIN = os.environ.get("DELFIN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_ADMIN = os.environ.get("DELFIN_BENCH_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


STEPS = ("initial", "no_change", "churn_1pct")


def _child(url: str, volumes: int, state_path: str, lock_url: str | None, out, steps=STEPS) -> None:
    from cryptography.fernet import Fernet

    from delfin_like import coordination
    from delfin_like import driver_manager as dm
    from delfin_like.common import crypto
    from delfin_like.conf import CONF
    from delfin_like.db import api, migration
    from delfin_like.task_manager.jobs import sync as sync_job

    CONF([], project="delfin_like", default_config_files=[])
    CONF.set_override("state_path", state_path)
    if lock_url:
        CONF.set_override("backend_url", lock_url, group="coordination")
    CONF.set_override("fernet_keys", [Fernet.generate_key().decode()], group="security")
    migration.upgrade("head", url=url)
    api.configure(url)
    body = {
        "vendor": "fake_storage", "model": "fake_driver",
        "rest": {"host": "127.0.0.1", "port": 8443, "username": "admin", "password": "bench"},
        "extra_attributes": {"pools": 100, "volumes": volumes, "churn": 1, "generation": 0},
    }
    storage, task = api.storage_register(
        dm.probe(dm.access_info_from_request(body)),
        {"vendor": body["vendor"], "model": body["model"], "rest": crypto.encrypt_block(body["rest"]),
         "extra_attributes": body["extra_attributes"]},
        [("rest", "127.0.0.1", 8443)],
    )
    storage_id = storage["id"]
    results = {"rss_before_mb": _peak_rss_mb()}
    for step, generation in (("initial", 0), ("no_change", 0), ("churn_1pct", 1)):
        if step not in steps:
            continue
        if step != "initial":
            task, _ = api.task_create_sync(storage_id, "normal")
        extra = dict(body["extra_attributes"], generation=generation)
        api.access_info_update(storage_id, extra)
        start, cpu = time.perf_counter(), time.process_time()
        claimed = api.task_claim(task["id"], "bench", 600)
        result = sync_job.run(claimed, "bench")  # the task manager's own job: lock, driver, diff, apply
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        results[step] = {
            "seconds": round(elapsed, 3),
            # this process's CPU time (not the database server's): steadier than wall time on a busy machine
            "cpu_seconds": round(cpu, 3),
            "rows_written": result["rows_written"],
            "volumes": result["volumes"],
            "peak_rss_mb": _peak_rss_mb(),
        }
    coordination.stop()
    out.send(results)
    out.close()


def _server_db(admin_url: str):
    import sqlalchemy as sa

    name = f"delfin_bench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    quote = '"' if engine.dialect.name == "postgresql" else "`"
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {quote}{name}{quote}")

    def drop():
        with engine.connect() as conn:
            suffix = " WITH (FORCE)" if engine.dialect.name == "postgresql" else ""
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quote}{name}{quote}{suffix}")
        engine.dispose()

    return sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def in_fresh_database(database: str, target, args) -> dict:
    """Run ``target(url, state_path, *args, out)`` in a clean child process (honest peak RSS) on a
    database of its own (SQLite under a temporary state path, or one made on the server and dropped
    after); returns what the child sent on ``out``."""
    drop = None
    tmp = tempfile.TemporaryDirectory()
    if database == "sqlite":
        url = f"sqlite:///{tmp.name}/bench.sqlite"
    elif database == "postgresql":
        url, drop = _server_db(POSTGRES_ADMIN)
    else:
        url, drop = _server_db(MYSQL_ADMIN)
    try:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=target, args=(url, tmp.name, *args, child))
        proc.start()
        child.close()
        result = parent.recv()
        proc.join()
        return result
    finally:
        if drop:
            drop()
        tmp.cleanup()


def _sync_child(url, state_path, volumes, lock_url, steps, out) -> None:
    _child(url, volumes, state_path, lock_url, out, steps)


def run_one(database: str, volumes: int, lock_url: str | None, steps=STEPS) -> dict:
    return in_fresh_database(database, _sync_child, (volumes, lock_url, tuple(steps)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite, postgresql, mysql")
    parser.add_argument("--locks", default=None, help="tooz URL, e.g. redis://127.0.0.1:6379 (default: file locks)")
    args = parser.parse_args(argv)
    report = {"benchmark": "sync", "pools": 100, "runs": []}
    for database in args.databases.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            run = {"database": database, "volumes": size, "locks": args.locks or "file"}
            load_before = os.getloadavg()[0]
            run.update(run_one(database, size, args.locks))
            run["load_average_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
            report["runs"].append(run)
            print(json.dumps(run), file=sys.stderr)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
