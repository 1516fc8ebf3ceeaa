"""A fleet: N fake storages of M volumes each, synced and re-synced by the split deployment on real services.

Starts the real console scripts as separate processes on one config file:
``delfin-like-db-manage upgrade``, ``--task-managers`` x ``delfin-like-task``, one
``delfin-like-scheduler`` and ``delfin-like-api``, on the machine's RabbitMQ, Redis and
PostgreSQL (a private database ``fleet_bench_<pid>`` created and dropped here, and a
deployment name of its own, so nothing of it meets another deployment on the shared broker
and Redis). Then, over HTTP only:

1. registers ``--storages`` fake storages (``--volumes`` volumes each, a few pools, one
   controller, two ports, two disks) with ``POST /v1/storages`` from ``--register-clients``
   concurrent clients; each registration casts its initial sync (normal lane);
2. waits until every storage is SYNCED (the initial sync of the whole fleet);
3. ``POST /v1/storages/sync`` (every storage, background lane) and waits until every task
   it returned has finished; nothing changed on the arrays, so the re-sync must write 0 rows;
4. (unless ``--no-each``) the same re-sync again through ``POST /v1/storages/{id}/sync`` (urgent
   lane) for every storage from ``--register-clients`` clients: the task managers' own pace,
   next to the sync-all request's.

Prints one JSON document: the times and rates of both phases, the rows written (from the
tasks' results), how the tasks split between the task managers (from their lease owners),
their peak and final RSS (``/proc/<pid>/status`` of each task manager's worker process; the
peak is VmHWM, reset through ``/proc/<pid>/clear_refs`` before the re-sync so the re-sync has
its own peak) and the load average at the start and the end.

    python benchmarks/fleet_bench.py                              # 1,000 storages x 1,000 volumes
    python benchmarks/fleet_bench.py --storages 20 --volumes 100  # smoke size, well under a minute

Every wait is bounded; on any exit (also Ctrl-C and SIGTERM) the processes are stopped, the
lane queues and exchange deleted from the broker, the deployment's Redis keys removed and the
database dropped. The logs stay in a temporary directory only when the run failed.
"""

import argparse
import concurrent.futures
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import requests

POSTGRES_ADMIN = os.environ.get("DELFIN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
RABBIT_URL = os.environ.get("DELFIN_BENCH_RABBIT_URL", "rabbit://guest:guest@127.0.0.1:5672/")
REDIS_URL = os.environ.get("DELFIN_BENCH_REDIS_URL", "redis://127.0.0.1:6379")
BIN = os.path.dirname(sys.executable)
LANES = ("urgent", "normal", "background")
FINISHED = ("COMPLETED", "FAILED", "CANCELLED")


def _script(name: str) -> str:
    path = os.path.join(BIN, name)
    return path if os.path.exists(path) else (shutil.which(name) or path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ------------------------------------------------------------------ the private database


class Database:
    """``fleet_bench_<pid>`` on the server of ``admin_url``: created here, dropped by :meth:`drop`."""

    def __init__(self, admin_url: str):
        import sqlalchemy as sa

        self.name = f"fleet_bench_{os.getpid()}"
        self._engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with self._engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')  # a pid reused after a crash
            conn.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
        self.url = sa.engine.make_url(admin_url).set(database=self.name).render_as_string(hide_password=False)

    def size_mb(self) -> float:
        with self._engine.connect() as conn:
            size = conn.exec_driver_sql(f"SELECT pg_database_size('{self.name}')").scalar()
        return round(size / 2**20, 1)

    def drop(self) -> None:
        with self._engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._engine.dispose()


# ------------------------------------------------------------------ processes


class Proc:
    """One console script on the config file, its output in ``<dir>/<label>.log``, in its own session."""

    def __init__(self, script: str, conf: str, log_dir: str, label: str):
        self.label = label
        self.log_path = os.path.join(log_dir, f"{label}.log")
        with open(self.log_path, "wb") as out:
            self.popen = subprocess.Popen(
                [_script(script), "--config-file", conf], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log(self) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_for_log(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.label} exited ({self.popen.returncode}); see {self.log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.label} did not log {text!r} within {timeout} s; see {self.log_path}")
            time.sleep(0.1)

    def worker_pid(self, timeout: float = 30) -> int:
        """The pid of the forked worker (oslo.service's launcher forks one; it runs the tasks), from any
        thread's children of the launcher (cotyledon forks from a thread of its own)."""
        deadline = time.monotonic() + timeout
        while True:
            children = []
            for tid in os.listdir(f"/proc/{self.popen.pid}/task") if self.popen.poll() is None else []:
                try:
                    with open(f"/proc/{self.popen.pid}/task/{tid}/children") as f:
                        children += [int(p) for p in f.read().split()]
                except (FileNotFoundError, ProcessLookupError):
                    pass
            if len(children) == 1:
                return children[0]
            if time.monotonic() > deadline or self.popen.poll() is not None:
                raise RuntimeError(f"{self.label}: worker processes {children}; see {self.log_path}")
            time.sleep(0.1)

    def stop(self, timeout: float) -> int | None:
        """SIGTERM (graceful), then SIGKILL of the whole group if it is not gone within ``timeout``."""
        if self.popen.poll() is None:
            try:
                self.popen.send_signal(signal.SIGTERM)
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)  # the worker too, if the launcher left it behind
        except ProcessLookupError:
            pass
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            pass
        return self.popen.returncode


def _status_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of ``pid`` in kB (empty if it is gone)."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(value.split()[0])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def _reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (``5`` > clear_refs, Linux 4.0+); False if not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class RssSampler(threading.Thread):
    """Reads the RSS of some pids every ``interval`` s and keeps the largest seen (next to VmHWM)."""

    def __init__(self, pids: list[int], interval: float = 0.25):
        super().__init__(name="rss-sampler", daemon=True)
        self.pids = pids
        self.interval = interval
        self.peak = dict.fromkeys(pids, 0)
        self._halt = threading.Event()

    def reset(self) -> None:
        self.peak = dict.fromkeys(self.pids, 0)

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], _status_kb(pid).get("VmRSS", 0))

    def stop(self) -> None:
        self._halt.set()
        self.join(5)


# ------------------------------------------------------------------ the API


class Api:
    def __init__(self, base: str):
        self.base = base
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def get(self, path: str, **params) -> dict:
        r = self.session.get(self.base + path, params=params, timeout=120)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body=None) -> requests.Response:
        return self.session.post(self.base + path, json=body, timeout=600)

    def wait_ready(self, proc: Proc, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.session.get(self.base + "/readyz", timeout=10).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if proc.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API is not ready within {timeout} s; see {proc.log_path}")
            time.sleep(0.1)

    def walk(self, path: str, key: str, **params):
        """Every row of a list route, page by page along its ``next`` links (bounded)."""
        body = self.get(path, limit=1000, **params)
        for _ in range(100000):
            yield from body[key]
            link = body.get("next")
            if not link:
                return
            r = self.session.get(link if link.startswith("http") else self.base + link, timeout=120)
            r.raise_for_status()
            body = r.json()
        raise RuntimeError(f"{path}: too many pages")

    def active_tasks(self) -> bool:
        """Whether any task is PENDING or RUNNING: two one-row pages, cheap on the database."""
        return any(self.get("/v1/tasks", status=s, limit=1)["tasks"] for s in ("PENDING", "RUNNING"))


def _body(index: int, volumes: int) -> dict:
    return {
        "vendor": "fake_storage",
        "model": "fake_driver",
        "rest": {
            "host": f"10.{100 + index // 65536}.{index // 256 % 256}.{index % 256}",
            "port": 8443,
            "username": "bench",
            "password": "bench-pw",
        },
        "extra_attributes": {
            "seed": index,
            "pools": 4,
            "volumes": volumes,
            "controllers": 1,
            "ports_per_controller": 2,
            "disks": 2,
        },
    }


def _wait_idle(api: Api, timeout: float, what: str) -> float:
    """Poll until no task is PENDING or RUNNING; returns time.monotonic() when first seen idle."""
    deadline = time.monotonic() + timeout
    while api.active_tasks():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: tasks still active after {timeout} s")
        time.sleep(0.2)
    return time.monotonic()


def _tm_rss(tms: list[Proc], pids: list[int], sampler: RssSampler) -> list[dict]:
    out = []
    for tm, pid in zip(tms, pids, strict=True):
        status = _status_kb(pid)
        out.append(
            {
                "task_manager": tm.label,
                "pid": pid,
                "peak_rss_mb": round(status.get("VmHWM", 0) / 1024, 1),
                "sampled_peak_rss_mb": round(sampler.peak.get(pid, 0) / 1024, 1),
                "final_rss_mb": round(status.get("VmRSS", 0) / 1024, 1),
            }
        )
    return out


def _split(tasks: list[dict], pid_label: dict[int, str]) -> dict[str, int]:
    """Tasks per task manager, from the pid in each lease owner (``<host>:<pid>:<random>``)."""
    split: dict[str, int] = {}
    for task in tasks:
        owner = task.get("lease_owner") or ""
        parts = owner.split(":")
        pid = int(parts[-2]) if len(parts) >= 3 and parts[-2].isdigit() else None
        label = pid_label.get(pid, owner or "none")
        split[label] = split.get(label, 0) + 1
    return dict(sorted(split.items()))


def _seconds(a: str, b: str) -> float:
    parse = datetime.datetime.fromisoformat
    return (parse(b.replace("Z", "+00:00")) - parse(a.replace("Z", "+00:00"))).total_seconds()


def _statuses(tasks: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for t in tasks:
        out[t["status"]] = out.get(t["status"], 0) + 1
    return out


def _rows_written(tasks: list[dict]) -> int:
    return sum((t.get("result") or {}).get("rows_written", 0) for t in tasks)


def _log_counts(procs: list[Proc]) -> dict[str, dict[str, int]]:
    """Lines that tell of trouble, per process: re-casts, skipped duplicates, hand-backs, errors."""
    needles = {
        "already_taken_skips": "already taken or finished; skipping",
        "redispatched": "edispatch",
        "errors": " ERROR ",
        "warnings": " WARNING ",
        "tracebacks": "Traceback",
    }
    out = {}
    for proc in procs:
        text = proc.log()
        counts = {k: text.count(v) for k, v in needles.items()}
        out[proc.label] = {k: v for k, v in counts.items() if v}
    return out


# ------------------------------------------------------------------ clean-up of shared services


def _delete_broker_names(prefix: str) -> None:
    import kombu

    with kombu.Connection(RABBIT_URL.replace("rabbit://", "amqp://", 1), connect_timeout=10) as conn:
        host = socket.gethostname()
        for lane in LANES:
            for name in (f"{prefix}.task.{lane}", f"{prefix}.task.{lane}.{host}"):
                try:
                    kombu.Queue(name, channel=conn.channel()).delete()
                except Exception:  # noqa: BLE001 - never declared: nothing to delete
                    pass
        try:
            kombu.Exchange(prefix, type="topic", channel=conn.channel()).delete()
        except Exception:  # noqa: BLE001
            pass


def _delete_redis_keys(prefix: str) -> int:
    """Delete the keys naming this run's deployment (its name is unique to this run)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=10)
    deleted = 0
    for key in list(client.scan_iter(match=f"*{prefix}*", count=1000)):
        deleted += client.delete(key)
    # tooz keeps a set of every group name (``_tooz_groups``): take out this run's groups only
    for key in list(client.scan_iter(match="*groups", count=1000)):
        if client.type(key) == b"set":
            mine = [m for m in client.smembers(key) if prefix.encode() in m]
            if mine:
                client.srem(key, *mine)
    client.close()
    return deleted


def _profile(directory: str | None, pids: dict[str, int]) -> list[subprocess.Popen]:
    """py-spy on each of ``pids`` (label -> pid), raw (collapsed) stacks to ``<directory>/<label>.txt``."""
    if not directory:
        return []
    os.makedirs(directory, exist_ok=True)
    out = []
    for label, pid in pids.items():
        path = os.path.join(directory, f"{label}.txt")
        command = ["py-spy", "record", "--format", "raw", "--rate", "100", "--pid", str(pid), "-o", path]
        out.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(1)  # attached
    return out


# ------------------------------------------------------------------ the run


def run(args, tmp: str, procs: list[Proc], db: Database, deployment: str) -> dict:
    from cryptography.fernet import Fernet

    port = _free_port()
    conf = os.path.join(tmp, "delfin_like.conf")
    with open(conf, "w") as f:
        f.write(
            f"[DEFAULT]\nstate_path = {tmp}/state\ntransport_url = {RABBIT_URL}\ndeployment_name = {deployment}\n"
            f"[api]\nhost = 127.0.0.1\nport = {port}\n"
            f"[database]\nconnection = {db.url}\n"
            f"[coordination]\nbackend_url = {REDIS_URL}\n"
            f"[security]\nfernet_keys = {Fernet.generate_key().decode()}\n"
        )
        if args.workers_per_lane:
            f.write(f"[task_manager]\nworkers_per_lane = {args.workers_per_lane}\n")
    report: dict = {
        "benchmark": "fleet",
        "storages": args.storages,
        "volumes_per_storage": args.volumes,
        "inventory_per_storage": {k: v for k, v in _body(0, args.volumes)["extra_attributes"].items() if k != "seed"},
        "task_managers": args.task_managers,
        "workers_per_lane": args.workers_per_lane or "default (4)",
        "services": "RabbitMQ, Redis, PostgreSQL on 127.0.0.1",
        "database": db.name,
        "deployment_name": deployment,
        "load_start": _load(),
    }
    started = time.monotonic()
    command = [_script("delfin-like-db-manage"), "--config-file", conf, "upgrade"]
    upgrade = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if upgrade.returncode:
        raise RuntimeError(f"db-manage upgrade failed: {upgrade.stderr[-2000:]}")

    tms = [Proc("delfin-like-task", conf, tmp, f"task{i + 1}") for i in range(args.task_managers)]
    procs.extend(tms)
    for tm in tms:
        tm.wait_for_log("Consuming task lanes", 120)  # its lane queues exist: casts from now on land
    scheduler = Proc("delfin-like-scheduler", conf, tmp, "scheduler")
    procs.append(scheduler)
    scheduler.wait_for_log("Elected leader", 120)
    api_proc = Proc("delfin-like-api", conf, tmp, "api")
    procs.append(api_proc)
    api = Api(f"http://127.0.0.1:{port}")
    api.wait_ready(api_proc, 120)
    tm_pids = [tm.worker_pid() for tm in tms]
    pid_label = {pid: tm.label for tm, pid in zip(tms, tm_pids, strict=True)}
    report["start_up_s"] = round(time.monotonic() - started, 2)
    sampler = RssSampler(tm_pids)
    sampler.start()

    # ---- registration and the initial sync of the fleet
    def register(i: int) -> tuple[str, float]:
        t = time.perf_counter()
        r = api.post("/v1/storages", _body(i, args.volumes))
        if r.status_code != 201:
            raise RuntimeError(f"registration {i}: {r.status_code} {r.text[:500]}")
        return r.json()["id"], time.perf_counter() - t

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(args.register_clients) as pool:
        registered = list(pool.map(register, range(args.storages)))
    registered_at = time.monotonic()
    storage_ids = {sid for sid, _ in registered}
    latencies = sorted(t for _, t in registered)
    idle_at = _wait_idle(api, args.timeout, "initial sync")
    storages = [s for s in api.walk("/v1/storages", "storages") if s["id"] in storage_ids]
    sync_status = _statuses([{"status": s["sync_status"]} for s in storages])
    if sync_status != {"SYNCED": args.storages}:
        raise RuntimeError(f"after the initial sync: {sync_status}")
    initial_tasks = [t for t in api.walk("/v1/tasks", "tasks", type="sync") if t["storage_id"] in storage_ids]
    volumes = api.get("/v1/volumes", limit=1, with_count="true")["count"]
    initial_s = idle_at - started
    report["registration"] = {
        "how": f"POST /v1/storages over HTTP from {args.register_clients} concurrent clients",
        "seconds": round(registered_at - started, 2),
        "per_s": round(args.storages / (registered_at - started), 1),
        "post_p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "post_max_ms": round(latencies[-1] * 1000, 1),
    }
    report["initial"] = {
        "seconds": round(initial_s, 2),
        "what": "first POST /v1/storages to every storage SYNCED (registration and syncs overlap)",
        "tasks": len(initial_tasks),
        "tasks_per_s": round(len(initial_tasks) / initial_s, 1),
        "statuses": _statuses(initial_tasks),
        "rows_written": _rows_written(initial_tasks),
        "volume_rows": volumes,
        "split": _split(initial_tasks, pid_label),
        "task_manager_rss": _tm_rss(tms, tm_pids, sampler),
        "database_mb": db.size_mb(),
        "load": _load(),
    }
    print(json.dumps({"initial": report["initial"]}), file=sys.stderr, flush=True)

    # ---- the re-sync of the whole fleet: nothing changed on the arrays
    profile = {"api": api_proc.worker_pid(), **{v: k for k, v in pid_label.items()}}
    fleet = sorted(storage_ids)

    def sync_all() -> tuple[set[str], str]:
        r = api.post("/v1/storages/sync")
        if r.status_code != 202:
            raise RuntimeError(f"POST /v1/storages/sync: {r.status_code} {r.text[:500]}")
        return {t["id"] for t in r.json()["tasks"]}, "background"

    def sync_each() -> tuple[set[str], str]:
        def one(sid: str) -> str:
            r = api.post(f"/v1/storages/{sid}/sync")
            if r.status_code != 202:
                raise RuntimeError(f"POST /v1/storages/{sid}/sync: {r.status_code} {r.text[:500]}")
            return r.json()["task"]["id"]

        with concurrent.futures.ThreadPoolExecutor(args.register_clients) as pool:
            return set(pool.map(one, fleet)), "urgent"

    def resync(name: str, how: str, request, profile_dir: str | None) -> None:
        report[f"peak_reset_{name}"] = all([_reset_peak(pid) for pid in tm_pids])
        sampler.reset()
        profilers = _profile(profile_dir and os.path.join(profile_dir, name), profile)
        started = time.monotonic()
        task_ids, lane = request()
        answered_s = time.monotonic() - started
        idle_at = _wait_idle(api, args.timeout, name)
        seconds = idle_at - started
        for profiler in profilers:
            profiler.send_signal(signal.SIGINT)  # py-spy writes its profile on SIGINT
            profiler.wait(60)
        tasks = [t for t in api.walk("/v1/tasks", "tasks", priority=lane) if t["id"] in task_ids]
        queued = sorted(_seconds(t["created_at"], t["started_at"]) for t in tasks if t.get("started_at"))
        report[name] = {
            "seconds": round(seconds, 2),
            "what": how,
            "requests_answered_s": round(answered_s, 2),
            "tasks": len(task_ids),
            "tasks_per_s": round(len(task_ids) / seconds, 1),
            "statuses": _statuses(tasks),
            "attempts_over_1": sum(1 for t in tasks if (t.get("attempts") or 0) > 1),
            "rows_written": _rows_written(tasks),
            "queued_p50_s": round(queued[len(queued) // 2], 3) if queued else None,
            "queued_max_s": round(queued[-1], 3) if queued else None,
            "split": _split(tasks, pid_label),
            "task_manager_rss": _tm_rss(tms, tm_pids, sampler),
            "load": _load(),
        }
        if len(tasks) != args.storages or report[name]["statuses"] != {"COMPLETED": args.storages}:
            report[name]["problem"] = f"{len(tasks)} tasks of {args.storages} storages found as listed"
        print(json.dumps({name: report[name]}), file=sys.stderr, flush=True)

    what = "POST /v1/storages/sync (background lane) to every task it returned finished"
    resync("resync", what, sync_all, args.profile)
    if not args.no_each:
        resync(
            "resync_each",
            f"POST /v1/storages/{{id}}/sync (urgent lane) for every storage from {args.register_clients} "
            "concurrent clients, to every task finished",
            sync_each,
            args.profile,
        )
    sampler.stop()
    report["logs"] = _log_counts(procs)
    report["load_end"] = _load()
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--storages", type=int, default=1000)
    parser.add_argument("--volumes", type=int, default=1000, help="volumes per storage")
    parser.add_argument("--task-managers", type=int, default=2)
    parser.add_argument("--workers-per-lane", type=int, default=0, help="[task_manager] workers_per_lane (0: default)")
    parser.add_argument("--register-clients", type=int, default=8, help="concurrent POST /v1/storages clients")
    parser.add_argument("--timeout", type=float, default=1800, help="longest wait for each phase, seconds")
    parser.add_argument(
        "--profile", metavar="DIR", help="py-spy (not a dependency) the API and the task managers in the re-syncs"
    )
    parser.add_argument("--no-each", action="store_true", help="skip the second re-sync, one POST per storage")
    parser.add_argument("--keep-logs", metavar="DIR", help="copy every process's log to DIR at the end")
    args = parser.parse_args(argv)

    def on_term(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    tmp = tempfile.mkdtemp(prefix="fleet-bench-")
    procs: list[Proc] = []
    db = None
    ok = False
    report = None
    deployment = f"fleet_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        db = Database(POSTGRES_ADMIN)
        report = run(args, tmp, procs, db, deployment)
        ok = True
    except KeyboardInterrupt:
        ok = None  # stopped on purpose: nothing to keep
        raise
    finally:
        # ignore a second Ctrl-C while tidying up
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        exits = {p.label: p.stop(60) for p in procs}
        if args.keep_logs:
            os.makedirs(args.keep_logs, exist_ok=True)
            for p in procs:
                shutil.copy(p.log_path, args.keep_logs)
        if report is not None:
            report["exit_codes"] = exits
        prefix = f"delfin_like.{deployment}"
        for what, tidy in (
            ("broker", lambda: _delete_broker_names(prefix)),
            ("redis", lambda: _delete_redis_keys(prefix)),
            ("database", lambda: db and db.drop()),
        ):
            try:
                tidy()
            except Exception as e:  # noqa: BLE001 - tidy the rest anyway
                print(f"clean-up of the {what} failed: {e}", file=sys.stderr)
        if ok is False:
            print(f"fleet_bench failed; logs kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(report, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
