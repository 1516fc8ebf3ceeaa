"""Alert sync of one storage: initial, no-change re-sync, churn (issue 14 target: 10,000 alerts in <= 2 s).

For each size (alerts listed by the fake driver) and database, a fresh child process registers one
fake storage (its inventory synced first, untimed, so alerts link to their inventory rows) and runs
the alert syncs through the task manager's own job (``task_manager.jobs.alert_sync.run``: alert lock
-> driver listing -> stored fingerprints -> one-transaction apply):

* ``initial``: every alert is new;
* ``no_change``: the array unchanged, must write 0 rows;
* ``churn``: 1% new alerts on the array and 1% of the open ones cleared there.

Rows written are the task's own count and, independently, the alerts rows whose ``updated_at`` moved
during the step (read from the database). The last figure is the /metrics query of the open alerts
(``db.api.alerts_open_counts``). Prints one JSON document (and each run on stderr as it ends).

    python benchmarks/alert_sync_bench.py                          # 10,000 on sqlite and postgresql
    python benchmarks/alert_sync_bench.py --sizes 1000 --databases sqlite,postgresql,mysql
"""

import argparse
import json
import os
import resource
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_bench import in_fresh_database  # noqa: E402 - a database of the run's own, dropped after it


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _touched_since(moment) -> int:
    import sqlalchemy as sa

    from delfin_like.db.sqlalchemy import engine, models

    alerts = models.Alert.__table__
    with engine.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(alerts)
                            .where(alerts.c.updated_at >= moment)).scalar_one()


def _child(url: str, alerts: int, state_path: str, profile: str | None, out) -> None:
    import datetime

    from cryptography.fernet import Fernet

    from delfin_like import coordination
    from delfin_like import driver_manager as dm
    from delfin_like.common import crypto
    from delfin_like.conf import CONF
    from delfin_like.db import api, migration
    from delfin_like.task_manager.jobs import alert_sync, sync

    CONF([], project="delfin_like", default_config_files=[])
    CONF.set_override("state_path", state_path)
    CONF.set_override("fernet_keys", [Fernet.generate_key().decode()], group="security")
    migration.upgrade("head", url=url)
    api.configure(url)
    attrs = {"pools": 10, "volumes": 1000, "alerts": alerts, "serial_number": f"ALBENCH{uuid.uuid4().hex[:10]}"}
    body = {"vendor": "fake_storage", "model": "fake_driver",
            "rest": {"host": "127.0.0.1", "port": 8443, "username": "admin", "password": "bench"},
            "extra_attributes": attrs}
    storage, task = api.storage_register(
        dm.probe(dm.access_info_from_request(body)),
        {"vendor": body["vendor"], "model": body["model"], "rest": crypto.encrypt_block(body["rest"]),
         "extra_attributes": attrs},
        [("rest", "127.0.0.1", 8443)],
    )
    sid = storage["id"]
    sync.run(api.task_claim(task["id"], "bench", 600), "bench")  # the inventory the alerts refer to
    churn = max(1, alerts // 100)
    results = {"rss_before_mb": _peak_rss_mb()}
    for step in ("initial", "no_change", "churn"):
        if step == "churn":
            driver = dm.load(dm.access_info_from_stored(api.access_info_get(sid)))
            # clear 1% of the open alerts on the array (the fake clears by serial, in this process) ...
            open_rows = api.alert_list({"storage_id": sid, "source": "sync", "state": "open"}, churn, None, None,
                                       "occur_time:asc")
            for row in open_rows:
                driver.clear_alert(row["sequence_number"])
            # ... and raise 1% new ones
            api.access_info_update(sid, {**attrs, "alerts": alerts + churn})
        alert_task, _ = api.task_create_alert_sync(sid, "normal")
        claimed = api.task_claim(alert_task["id"], "bench", 600)
        moment = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        profiler = None
        if profile and step == "initial":
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        start, cpu = time.perf_counter(), time.process_time()
        result = alert_sync.run(claimed, "bench")
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        results[step] = {
            "seconds": round(elapsed, 3),
            "cpu_seconds": round(cpu, 3),
            "result": result,
            "rows_touched_in_db": _touched_since(moment),
            "peak_rss_mb": _peak_rss_mb(),
        }
    start = time.perf_counter()
    rows = api.alerts_open_counts()
    results["metrics_open_alerts_query"] = {"seconds": round(time.perf_counter() - start, 4),
                                            "open": sum(r["open"] for r in rows)}
    coordination.stop()
    out.send(results)
    out.close()


def _fresh_child(url: str, state_path: str, alerts: int, profile: str | None, out) -> None:
    _child(url, alerts, state_path, profile, out)


def run_one(database: str, alerts: int, profile: str | None = None) -> dict:
    return in_fresh_database(database, _fresh_child, (alerts, profile))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite, postgresql, mysql")
    parser.add_argument("--profile", help="write a cProfile of each initial alert sync to PATH.<database>.<size>")
    args = parser.parse_args(argv)
    report = {"benchmark": "alert_sync", "runs": []}
    for database in args.databases.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            run = {"database": database, "alerts": size}
            load_before = os.getloadavg()[0]
            profile = f"{args.profile}.{database}.{size}" if args.profile else None
            run.update(run_one(database, size, profile))
            run["load_average_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
            report["runs"].append(run)
            print(json.dumps(run), file=sys.stderr)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
