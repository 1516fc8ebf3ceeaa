"""Performance collection throughput and the Prometheus scrape, printed as one JSON document.

1. ``collect``: samples per second from the driver to the exporters on one task manager.
   A fake storage with ``--volumes`` volumes (13 volume metrics each) is synced, then
   volume collection runs window after window through the task manager's own code
   (``TaskManager.run_task`` -> ``jobs.perf.run``: driver, outbox commit, exporter fan-out,
   outbox settle). The first window has totals only; the figure is from the next
   ``--windows`` windows (every metric), per exporter set and database.
2. ``scrape``: ``GET /metrics`` over real HTTP (cheroot, the API's server) with
   ``--series`` latest samples stored, and the rendering alone.

    python benchmarks/perf_bench.py
    python benchmarks/perf_bench.py --volumes 20000 --databases sqlite --exporters prometheus
"""

import argparse
import json
import multiprocessing
import os
import socket
import sys
import tempfile
import time
import uuid

POSTGRES_ADMIN = os.environ.get("DELFIN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
RABBIT_URL = os.environ.get("DELFIN_BENCH_RABBIT_URL", "rabbit://guest:guest@127.0.0.1:5672/")


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _setup(url: str, state_path: str):
    from cryptography.fernet import Fernet

    from delfin_like import rpc  # noqa: F401 - the threading backend before oslo_messaging
    from delfin_like.conf import CONF
    from delfin_like.db import api, migration
    from delfin_like.rpc import transport

    CONF([], project="delfin_like", default_config_files=[])
    CONF.set_override("state_path", state_path)
    CONF.set_override("fernet_keys", [Fernet.generate_key().decode()], group="security")
    transport.register_opts()
    CONF.set_override("transport_url", "fake://")
    migration.upgrade("head", url=url)
    api.configure(url)
    return CONF, api


def _collect_child(url: str, volumes: int, windows: int, exporters: list[str], state_path: str, out) -> None:
    from delfin_like import driver_manager as dm
    from delfin_like.common import crypto

    conf, api = _setup(url, state_path)
    from delfin_like.task_manager import manager
    from delfin_like.task_manager.jobs import perf
    from tests.unit.task_manager import perf_helpers

    conf.set_override("enabled", exporters, group="exporters")
    conf.set_override("transport_url", RABBIT_URL, group="oslo_messaging_notifications")
    conf.set_override("topics", [f"delfin_bench.{uuid.uuid4().hex[:8]}"], group="oslo_messaging_notifications")
    conf.set_override("timeout", 120, group="exporters")
    body = {
        "vendor": "fake_storage",
        "model": "fake_driver",
        "rest": {"host": "127.0.0.1", "port": 8443, "username": "admin", "password": "bench"},
        "extra_attributes": {"pools": 10, "volumes": volumes, "perf_min_interval": 1},
    }
    probed, caps = dm.probe_with_capabilities(dm.access_info_from_request(body))
    storage, task = api.storage_register(
        probed,
        {
            "vendor": "fake_storage",
            "model": "fake_driver",
            "rest": crypto.encrypt_block(body["rest"]),
            "extra_attributes": body["extra_attributes"],
        },
        [("rest", "127.0.0.1", 8443)],
        capabilities=caps,
    )
    loaded = perf.get_exporters().names
    if loaded != exporters:
        raise RuntimeError(f"exporters {exporters} asked, {loaded} loaded: are the entry points installed?")
    tm = manager.TaskManager()
    tm.start()
    try:
        perf_helpers.enable(storage["id"], "volume", interval=1)
        runs = []
        for i in range(windows + 1):
            fired = perf_helpers.fire(storage["id"], "volume")
            started = time.perf_counter()
            status = tm.run_task(None, fired["id"])
            seconds = time.perf_counter() - started
            result = api.task_get(fired["id"])["result"] or {}
            if status != "COMPLETED":
                raise RuntimeError(f"window {i} ended {status}: {api.task_get(fired['id'])['error']}")
            failed = {n: e for n, e in result["exporters"].items() if e["failed"]}
            if failed:
                raise RuntimeError(f"exporters failed: {failed}")
            if i:  # the first window has totals only
                runs.append((result["samples"], seconds))
        samples = sum(n for n, _ in runs)
        seconds = sum(s for _, s in runs)
        out.put(
            {
                "samples_per_window": runs[0][0],
                "windows": len(runs),
                "seconds": round(seconds, 2),
                "samples_per_s": round(samples / seconds),
            }
        )
    finally:
        tm.stop(5)
        perf.close_exporters()


def _scrape_child(url: str, series: int, state_path: str, out) -> None:
    import requests

    conf, api = _setup(url, state_path)
    from delfin_like.api import app, wsgi
    from delfin_like.api.controllers import metrics
    from tests.unit.task_manager import fakes

    per_storage = 10_000
    started = time.perf_counter()
    for s in range(max(1, series // per_storage)):
        storage, _ = fakes.register_fake_storage(host=f"10.99.{s}.1", seed=s)
        metric_names = ("iops", "read_iops", "write_iops")
        rows = [
            (f"vol-{i // 3}", f"volume_{i // 3}", metric_names[i % 3], float(i), "ops/s", "gauge", 1)
            for i in range(per_storage)
        ]
        api.metric_latest_put(storage["id"], "volume", 1, rows)
    load_s = time.perf_counter() - started
    render = []
    for _ in range(3):
        t = time.perf_counter()
        body = metrics.render()
        render.append(time.perf_counter() - t)
    service = wsgi.APIService(app_factory=app.setup_app, host="127.0.0.1", port=0, threads=4)
    service.start()
    try:
        http = []
        for _ in range(3):
            t = time.perf_counter()
            resp = requests.get(f"http://127.0.0.1:{service.port}/metrics", timeout=120)
            http.append(time.perf_counter() - t)
            assert resp.status_code == 200
    finally:
        service.stop()
    lines = sum(1 for line in body.decode().splitlines() if line and not line.startswith("#"))
    out.put(
        {
            "series": lines,
            "load_s": round(load_s, 2),
            "render_s_best": round(min(render), 3),
            "http_scrape_s_best": round(min(http), 3),
            "http_scrape_s_median": round(sorted(http)[1], 3),
            "body_mb": round(len(resp.content) / 1e6, 1),
        }
    )


def _database(kind: str):
    """A fresh database URL and its dropper."""
    if kind == "sqlite":
        path = os.path.join(tempfile.mkdtemp(prefix="perf_bench_"), "bench.sqlite")
        return f"sqlite:///{path}", lambda: None
    import sqlalchemy as sa

    name = f"delfin_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop():
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return sa.engine.make_url(POSTGRES_ADMIN).set(database=name).render_as_string(hide_password=False), drop


def _run(target, *args):
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, out))
    proc.start()
    proc.join(1800)
    if proc.exitcode != 0:
        return {"error": f"child exited {proc.exitcode}"}
    return out.get(timeout=5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volumes", type=int, default=20_000)
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--exporters",
        action="append",
        help="comma-separated exporter set (repeatable); default: prometheus; "
        "prometheus,jsonl; prometheus,notification (when RabbitMQ answers)",
    )
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sets = args.exporters or ["prometheus", "prometheus,jsonl"] + (
        ["prometheus,notification"] if _reachable(5672) else []
    )
    report = {"volumes": args.volumes, "metrics_per_volume": 13, "collect": {}, "scrape": {}}
    for db in args.databases.split(","):
        if db == "postgresql" and not _reachable(5432):
            report["collect"][db] = report["scrape"][db] = "skipped: PostgreSQL not reachable"
            continue
        for names in sets:
            url, drop = _database(db)
            try:
                report["collect"].setdefault(db, {})[names] = _run(
                    _collect_child, url, args.volumes, args.windows, names.split(","), tempfile.mkdtemp()
                )
            finally:
                drop()
        url, drop = _database(db)
        try:
            report["scrape"][db] = _run(_scrape_child, url, args.series, tempfile.mkdtemp())
        finally:
            drop()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
