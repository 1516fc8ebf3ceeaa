"""Full stack vs in-process: registration to SYNCED over HTTP on the all-in-one, and the same sync in-process.

Each round starts the real ``delfin-like-all-in-one`` (SQLite, in-memory bus, private port, temp state
dir, no demo storage), POSTs one fake storage with ``--volumes`` volumes and polls its sync task
(``GET /v1/tasks/{id}``, every ``--poll`` s) until it is COMPLETED, then checks the storage says
SYNCED (the same commit ends both). It runs once with a reader thread GETting ``/v1/volumes`` and
``/v1/storages`` back to back throughout (every answer's status and latency recorded) and once
without; and the same initial sync in-process (``sync_bench``'s child: the task manager's own job on
a fresh SQLite). The order of the three rotates from round to round, so a load that drifts during
the run does not favour one. Prints one JSON document: per round and as medians, wall and CPU
seconds of each, the ratios, and where the HTTP time went:

* ``post_s``: the POST (driver probe, rows, cast); ``queued_s``: task created -> claimed;
  ``lock_s``: claimed -> storage lock; ``listing_s``: lock -> the task reports ``writing``
  (driver listing and diff); ``writing_s``: ``writing`` seen -> COMPLETED seen (the write
  transaction, plus up to one poll). Task stamps are the server's clock, polls the client's: one
  machine, one clock. ``server_cpu_s`` is the CPU the all-in-one spent from the POST to SYNCED.

    python benchmarks/fullstack_bench.py --volumes 100000 --repeat 3
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

import psutil
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


def _ts(value: str | None) -> float | None:
    """An API timestamp (UTC) as seconds since the epoch, comparable with ``time.time()``."""
    if not value:
        return None
    stamp = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.UTC)
    return stamp.timestamp()


def _delta(a: float | None, b: float | None) -> float | None:
    return round(b - a, 3) if a is not None and b is not None else None


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of process ``pid`` and its children (the all-in-one forks one worker)."""
    root = psutil.Process(pid)
    total = 0.0
    for p in (root, *root.children(recursive=True)):
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def run_http(volumes: int, profile: str | None = None, readers: bool = True, poll: float = 0.02) -> dict:
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

        cpu_before = _cpu_seconds(proc.pid)
        posted_at = time.time()
        start = time.perf_counter()
        r = session.post(base + "/v1/storages", json=body, timeout=60)
        post_s = time.perf_counter() - start
        r.raise_for_status()
        storage_id = r.json()["id"]
        task_url = f"{base}/v1/tasks/{r.json()['last_sync_task_id']}"
        thread = threading.Thread(target=reader, daemon=True)
        if readers:
            thread.start()
        writing_at = None
        polls = 0
        while True:
            task = session.get(task_url, timeout=60).json()
            polls += 1
            if task["status"] == "COMPLETED":
                break
            if task["status"] in ("FAILED", "CANCELLED"):
                raise RuntimeError(f"sync {task['status']}: {task.get('error')}")
            if writing_at is None and (task.get("progress") or {}).get("phase") == "writing":
                writing_at = time.time()
            time.sleep(poll)
        total = time.perf_counter() - start
        done_at = time.time()
        server_cpu = _cpu_seconds(proc.pid) - cpu_before
        stop.set()
        if readers:
            thread.join()
        status = session.get(f"{base}/v1/storages/{storage_id}", timeout=60).json()["sync_status"]
        if status != "SYNCED":
            raise RuntimeError(f"task COMPLETED but the storage says {status}")
        every = reads["/v1/volumes"] + reads["/v1/storages"]
        created, started, locked = (_ts(task[k]) for k in ("created_at", "started_at", "lock_acquired_at"))
        phases = {
            "post_s": round(post_s, 3),
            "queued_s": _delta(created, started),
            "lock_s": _delta(started, locked),
            "listing_s": _delta(locked, writing_at),
            "writing_s": _delta(writing_at, done_at),
            "posted_to_created_s": _delta(posted_at, created),
        }
        out = {
            "register_to_synced_s": round(total, 3),
            "server_cpu_s": round(server_cpu, 3),
            "phases": phases,
            "polls": polls,
        }
        if readers:
            out["readers"] = {
                "requests": len(every),
                "status_codes": codes,
                "p50_ms": _pct(every, 0.5),
                "p99_ms": _pct(every, 0.99),
                "max_ms": _pct(every, 1.0),
                "mean_ms": round(statistics.mean(every) * 1000, 1) if every else None,
            }
        return out
    finally:
        os.killpg(proc.pid, signal.SIGINT if profile else signal.SIGTERM)  # py-spy writes its profile on SIGINT
        proc.wait(60)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def run_in_process(volumes: int) -> dict:
    initial = sync_bench.run_one("sqlite", volumes, None, steps=("initial",))["initial"]
    return {"seconds": initial["seconds"], "cpu_s": initial["cpu_seconds"]}


def _median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--volumes", type=int, default=100000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds (each: with readers, without, in-process)")
    parser.add_argument("--poll", type=float, default=0.02, help="seconds between two polls of the task")
    parser.add_argument("--no-readers", action="store_true", help="skip the runs with a reader thread")
    parser.add_argument("--profile", metavar="PATH", help="run the all-in-one under py-spy, raw output to PATH")
    args = parser.parse_args()
    modes = ["in_process", "http"] + ([] if args.no_readers else ["http_readers"])
    rounds = []
    for i in range(args.repeat):
        order = modes[i % len(modes):] + modes[:i % len(modes)]
        result: dict = {"load_before": [round(x, 2) for x in os.getloadavg()]}
        for mode in order:
            if mode == "in_process":
                result[mode] = run_in_process(args.volumes)
            else:
                result[mode] = run_http(args.volumes, args.profile, readers=mode == "http_readers", poll=args.poll)
        inp = result["in_process"]["seconds"]
        result["ratio"] = round(result["http"]["register_to_synced_s"] / inp, 2)
        if "http_readers" in result:
            result["ratio_readers"] = round(result["http_readers"]["register_to_synced_s"] / inp, 2)
        result["order"] = order
        rounds.append(result)
        print(json.dumps(result), file=sys.stderr)

    def med(mode, *keys):
        values = []
        for r in rounds:
            v = r.get(mode)
            for k in keys:
                v = v.get(k) if isinstance(v, dict) else None
            values.append(v)
        return _median(values)

    def best(mode, key):
        return min(r[mode][key] for r in rounds)

    summary = {
        # the least of the rounds: the cost with the least interference from the rest of the machine
        "best_in_process_s": best("in_process", "seconds"),
        "best_http_s": best("http", "register_to_synced_s"),
        "best_ratio": round(best("http", "register_to_synced_s") / best("in_process", "seconds"), 2),
        "in_process_s": med("in_process", "seconds"),
        "in_process_cpu_s": med("in_process", "cpu_s"),
        "http_s": med("http", "register_to_synced_s"),
        "http_server_cpu_s": med("http", "server_cpu_s"),
        "http_phases": {k: med("http", "phases", k) for k in rounds[0]["http"]["phases"]},
        "ratio_median_of_rounds": _median([r["ratio"] for r in rounds]),
        "cpu_ratio": None,
    }
    if summary["in_process_cpu_s"]:
        summary["cpu_ratio"] = round(summary["http_server_cpu_s"] / summary["in_process_cpu_s"], 2)
    if not args.no_readers:
        summary.update(
            best_http_readers_s=best("http_readers", "register_to_synced_s"),
            best_ratio_readers=round(best("http_readers", "register_to_synced_s") / best("in_process", "seconds"), 2),
            http_readers_s=med("http_readers", "register_to_synced_s"),
            http_readers_phases={k: med("http_readers", "phases", k) for k in rounds[0]["http_readers"]["phases"]},
            ratio_readers_median_of_rounds=_median([r["ratio_readers"] for r in rounds]),
            reader_requests=sum(r["http_readers"]["readers"]["requests"] for r in rounds),
            reader_status_codes={
                code: sum(r["http_readers"]["readers"]["status_codes"].get(code, 0) for r in rounds)
                for code in {c for r in rounds for c in r["http_readers"]["readers"]["status_codes"]}
            },
            reader_p50_ms=med("http_readers", "readers", "p50_ms"),
            reader_p99_ms=med("http_readers", "readers", "p99_ms"),
        )
    print(
        json.dumps(
            {
                "volumes": args.volumes,
                "database": "sqlite",
                "poll_s": args.poll,
                "summary": summary,
                "rounds": rounds,
                "load": [round(x, 2) for x in os.getloadavg()],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
