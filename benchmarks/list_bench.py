"""List latency over HTTP at any table size and page depth: ``GET /v1/volumes?limit=1000``.

For each database, a child process fills a fresh database with ``--rows`` volumes in ``--storages``
fake storages through the task manager's own sync job (the rows are what a real sync writes), then the
real ``delfin-like-all-in-one`` is started on that database (private port, temp state dir, no demo
storage, no periodic sync) and each case below is requested ``--requests`` times, one client on
loopback. Prints one JSON document: p50/p99/max milliseconds and rows per page for every case.

Cases: the first page (default order ``created_at, id``); a page at marker depth ``--depth`` (default 90%
of the rows); the first page and a deep page with ``storage_id=`` (depth within one storage); ``sort=name:asc``
first page and at depth; ``offset`` at its bound, for comparison.

    python benchmarks/list_bench.py --rows 1000000 --databases sqlite,postgresql
    python benchmarks/list_bench.py --rows 100000 --databases sqlite
"""

import argparse
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_bench  # noqa: E402 - its server-database helper and admin URLs


def _fill(url: str, storages: int, per_storage: int, state_path: str, key: str, out) -> None:
    """Child: register ``storages`` fake storages and run one initial sync of each (the task manager's job)."""
    from delfin_like import coordination
    from delfin_like import driver_manager as dm
    from delfin_like.common import crypto
    from delfin_like.conf import CONF
    from delfin_like.db import api, migration
    from delfin_like.task_manager.jobs import sync as sync_job

    CONF([], project="delfin_like", default_config_files=[])
    CONF.set_override("state_path", state_path)
    CONF.set_override("fernet_keys", [key], group="security")
    migration.upgrade("head", url=url)
    api.configure(url)
    start = time.perf_counter()
    ids = []
    for n in range(storages):
        body = {
            "vendor": "fake_storage",
            "model": "fake_driver",
            "rest": {"host": f"192.0.2.{n + 1}", "port": 8443, "username": "admin", "password": "bench"},
            "extra_attributes": {"pools": 10, "volumes": per_storage, "seed": n, "churn": 0, "generation": 0},
        }
        storage, task = api.storage_register(
            dm.probe(dm.access_info_from_request(body)),
            {
                "vendor": body["vendor"],
                "model": body["model"],
                "rest": crypto.encrypt_block(body["rest"]),
                "extra_attributes": body["extra_attributes"],
            },
            [("rest", body["rest"]["host"], 8443)],
        )
        sync_job.run(api.task_claim(task["id"], "bench", 600), "bench")
        ids.append(storage["id"])
    coordination.stop()
    out.send({"storage_ids": ids, "fill_s": round(time.perf_counter() - start, 1)})
    out.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ms(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 1)


def _marker_at(url: str, depth: int, order: str, storage_id: str | None = None) -> str:
    """The id of the row at ``depth`` in ``order`` (read straight from the database)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    where = "WHERE storage_id = :sid " if storage_id else ""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(f"SELECT id FROM volumes {where}ORDER BY {order} LIMIT 1 OFFSET :depth"),
            {"sid": storage_id, "depth": depth},
        ).one()
    engine.dispose()
    return row[0]


def _analyze(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")
        else:  # MariaDB/MySQL: per table (InnoDB also samples on its own after a bulk load)
            conn.exec_driver_sql("ANALYZE TABLE storages, volumes, tasks").all()
    engine.dispose()


def _start_all_in_one(tmp: str, url: str, key: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    conf = os.path.join(tmp, "aio.conf")
    with open(conf, "w") as f:
        f.write(
            f"[DEFAULT]\nstate_path = {tmp}/state\n[database]\nconnection = {url}\n"
            f"[api]\nhost = 127.0.0.1\nport = {port}\n[all_in_one]\ndemo_storage = false\n"
            f"[scheduler]\nperiodic_sync_interval = 0\n[security]\nfernet_keys = {key}\n"
        )
    exe = shutil.which("delfin-like-all-in-one") or os.path.join(
        os.path.dirname(sys.executable), "delfin-like-all-in-one"
    )
    log = open(os.path.join(tmp, "aio.log"), "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([exe, "--config-file", conf], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if requests.get(base + "/readyz", timeout=30).status_code == 200:
                return proc, base
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"all-in-one not ready; see {tmp}/aio.log")
        time.sleep(0.1)


def _measure(session: requests.Session, base: str, params: dict, count: int) -> dict:
    times, rows, sizes = [], None, 0
    for _ in range(count):
        t = time.perf_counter()
        r = session.get(base + "/v1/volumes", params=params, timeout=120)
        times.append(time.perf_counter() - t)
        r.raise_for_status()
        body = r.json()
        rows, sizes = len(body["volumes"]), len(r.content)
    return {
        "p50_ms": _ms(times, 0.5),
        "p99_ms": _ms(times, 0.99),
        "max_ms": _ms(times, 1.0),
        "rows": rows,
        "bytes": sizes,
    }


def run_database(database: str, rows: int, storages: int, depth: int, count: int) -> dict:
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    tmp = tempfile.mkdtemp(prefix="list-bench-")
    drop = None
    if database == "sqlite":
        url = f"sqlite:///{tmp}/bench.sqlite"
    elif database == "postgresql":
        url, drop = sync_bench._server_db(sync_bench.POSTGRES_ADMIN)
    else:
        url, drop = sync_bench._server_db(sync_bench.MYSQL_ADMIN)
    proc = None
    try:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe(duplex=False)
        filler = ctx.Process(target=_fill, args=(url, storages, rows // storages, tmp, key, child))
        filler.start()
        child.close()
        filled = parent.recv()
        filler.join()
        if database != "sqlite":
            # what autovacuum does within a minute or so of a bulk load: without statistics the planner
            # may pick the storage_id index and sort, which is not what a running deployment sees
            _analyze(url)
        sid = filled["storage_ids"][0]
        per_storage = rows // storages
        deep = _marker_at(url, depth, "created_at, id")
        deep_in_storage = _marker_at(url, per_storage * 9 // 10, "created_at, id", sid)
        deep_by_name = _marker_at(url, depth, "name, created_at, id")
        proc, base = _start_all_in_one(tmp, url, key)
        session = requests.Session()
        cases = {
            "first_page": {"limit": 1000},
            f"marker_depth_{depth}": {"limit": 1000, "marker": deep},
            "storage_id_first_page": {"limit": 1000, "storage_id": sid},
            f"storage_id_marker_depth_{per_storage * 9 // 10}": {
                "limit": 1000,
                "storage_id": sid,
                "marker": deep_in_storage,
            },
            "sort_name_first_page": {"limit": 1000, "sort": "name:asc"},
            f"sort_name_marker_depth_{depth}": {"limit": 1000, "sort": "name:asc", "marker": deep_by_name},
            "offset_10000": {"limit": 1000, "offset": 10000},
        }
        _measure(session, base, {"limit": 1000}, 5)  # warm the server's caches and connection pool
        results = {name: _measure(session, base, params, count) for name, params in cases.items()}
        return {
            "database": database,
            "rows": rows,
            "storages": storages,
            "fill_s": filled["fill_s"],
            "requests_per_case": count,
            "cases": results,
        }
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(60)
        if drop:
            drop()
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--storages", type=int, default=10)
    parser.add_argument("--depth", type=int, help="marker depth in rows (default: 90%% of --rows)")
    parser.add_argument("--requests", type=int, default=200, help="requests per case")
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite, postgresql, mysql")
    args = parser.parse_args(argv)
    depth = args.depth if args.depth is not None else args.rows * 9 // 10
    report = {"benchmark": "list", "load_before": os.getloadavg(), "runs": []}
    for database in args.databases.split(","):
        run = run_database(database, args.rows, args.storages, depth, args.requests)
        print(json.dumps(run), file=sys.stderr)
        report["runs"].append(run)
    report["load_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
