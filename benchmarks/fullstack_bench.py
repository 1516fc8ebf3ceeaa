"""Full stack vs in-process: registration to SYNCED over HTTP on the all-in-one, and the same sync in-process.

Starts the real ``delfin-like-all-in-one`` (SQLite, in-memory bus, private port, temp state dir, no demo
storage), POSTs one fake storage with ``--volumes`` volumes and polls ``GET /v1/storages/{id}`` until its
``sync_status`` is SYNCED, while a reader thread GETs ``/v1/volumes`` and ``/v1/storages`` back to back and
records every answer's status and latency. Then runs the same initial sync in-process (``sync_bench``'s child:
the task manager's own job on a fresh SQLite) in the same run. Prints one JSON document: both times, their
ratio, and the reader's latencies and status codes during the sync.

    python benchmarks/fullstack_bench.py --volumes 100000
"""

import argparse
import datetime
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_bench  # noqa: E402 - the in-process sync, same code path as the task manager


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _script(name: str) -> list[str]:
    path = shutil.which(name) or os.path.join(os.path.dirname(sys.executable), name)
    return [path]


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 1)


def _ts(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _delta(a, b) -> float | None:
    return round((b - a).total_seconds(), 3) if a and b else None


def run_http(volumes: int, profile: str | None = None, readers: bool = True) -> dict:
    tmp = tempfile.mkdtemp(prefix="fullstack-bench-")
    port = _free_port()
    conf = os.path.join(tmp, "aio.conf")
    with open(conf, "w") as f:
        f.write(
            f"[DEFAULT]\nstate_path = {tmp}/state\n[api]\nhost = 127.0.0.1\nport = {port}\n"
            "[all_in_one]\ndemo_storage = false\n"
        )
    log = open(os.path.join(tmp, "aio.log"), "w")
    wrap = []
    if profile:  # the services run in a forked worker: --subprocesses follows it
        wrap = ["py-spy", "record", "--format", "raw", "--rate", "200", "--subprocesses", "-o", profile, "--"]
    proc = subprocess.Popen(
        [*wrap, *_script("delfin-like-all-in-one"), "--config-file", conf],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    session = requests.Session()
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if session.get(base + "/readyz", timeout=30).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"all-in-one not ready; log in {tmp}/aio.log")
            time.sleep(0.05)
        body = {
            "vendor": "fake_storage",
            "model": "fake_driver",
            "rest": {"host": "192.0.2.1", "port": 8443, "username": "admin", "password": "bench-pw"},
            "extra_attributes": {"pools": 100, "volumes": volumes, "churn": 1, "generation": 0},
        }
        stop = threading.Event()
        reads: dict[str, list[float]] = {"/v1/volumes": [], "/v1/storages": []}
        codes: dict[str, int] = {}

        def reader():
            rs = requests.Session()
            while not stop.is_set():
                for path in reads:
                    t = time.perf_counter()
                    try:
                        code = rs.get(base + path, params={"limit": 100}, timeout=60).status_code
                    except requests.RequestException as e:
                        code = type(e).__name__
                    reads[path].append(time.perf_counter() - t)
                    codes[str(code)] = codes.get(str(code), 0) + 1

        start = time.perf_counter()
        r = session.post(base + "/v1/storages", json=body, timeout=60)
        post_s = time.perf_counter() - start
        r.raise_for_status()
        storage_id = r.json()["id"]
        thread = threading.Thread(target=reader, daemon=True)
        if readers:
            thread.start()
        status = None
        while status != "SYNCED":
            status = session.get(f"{base}/v1/storages/{storage_id}", timeout=60).json()["sync_status"]
            if status == "FAILED":
                raise RuntimeError("sync FAILED")
            if status != "SYNCED":
                time.sleep(0.02)
        total = time.perf_counter() - start
        stop.set()
        if readers:
            thread.join()
        every = reads["/v1/volumes"] + reads["/v1/storages"]
        task = session.get(f"{base}/v1/tasks/{r.json()['last_sync_task_id']}", timeout=60).json()
        stamps = {k: _ts(task[k]) for k in ("created_at", "started_at", "lock_acquired_at", "finished_at")}
        phases = {  # where the time goes, from the task's own timestamps (server clock)
            "queued_s": _delta(stamps["created_at"], stamps["started_at"]),
            "lock_s": _delta(stamps["started_at"], stamps["lock_acquired_at"]),
            "sync_s": _delta(stamps["lock_acquired_at"], stamps["finished_at"]),
            "created_to_finished_s": _delta(stamps["created_at"], stamps["finished_at"]),
        }
        return {
            "register_to_synced_s": round(total, 3),
            "post_s": round(post_s, 3),
            "phases": phases,
            "readers": {
                "requests": len(every),
                "status_codes": codes,
                "p50_ms": _pct(every, 0.5),
                "p99_ms": _pct(every, 0.99),
                "max_ms": _pct(every, 1.0),
                "mean_ms": round(statistics.mean(every) * 1000, 1) if every else None,
            },
        }
    finally:
        os.killpg(proc.pid, signal.SIGINT if profile else signal.SIGTERM)  # py-spy writes its profile on SIGINT
        proc.wait(60)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--volumes", type=int, default=100000)
    parser.add_argument("--no-readers", action="store_true", help="no reader thread during the sync")
    parser.add_argument("--profile", metavar="PATH", help="run the all-in-one under py-spy, raw output to PATH")
    args = parser.parse_args()
    http = run_http(args.volumes, args.profile, not args.no_readers)
    in_process = sync_bench.run_one("sqlite", args.volumes, None)["initial"]["seconds"]
    print(
        json.dumps(
            {
                "volumes": args.volumes,
                "database": "sqlite",
                "http": http,
                "in_process_initial_s": in_process,
                "ratio": round(http["register_to_synced_s"] / in_process, 2),
                "load": os.getloadavg(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
