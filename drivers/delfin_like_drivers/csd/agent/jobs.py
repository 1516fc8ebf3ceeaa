"""Running jobs for real: a queue, a bounded number of subprocesses, cancel, recovery.

A job is a command run in its own session (process group), working directory
``output_path``, output and errors into ``<state-dir>/logs/<job_id>.log``.
Every state change is written to the :class:`~.store.JobStore` before anyone
can see it. At start, jobs that were RUNNING when the previous agent died
become FAILED with that reason (their leftover processes are stopped) and
PENDING ones are queued again.
"""

import collections
import logging
import math
import os
import signal
import subprocess
import sys
import threading
import time

import grpc

from delfin_like_drivers.csd.agent import jobspec, store
from delfin_like_drivers.csd.agent.jobspec import JobError
from delfin_like_drivers.csd.agent.store import JobRecord

LOG = logging.getLogger(__name__)

# sets the limits on itself, then becomes the job's command (same pid, no race)
_LIMITS_TRAMPOLINE = (
    "import os, resource, sys\n"
    "cpus, memory, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]\n"
    "if cpus:\n"
    "    os.sched_setaffinity(0, {int(c) for c in cpus.split(',')})\n"
    "if memory:\n"
    "    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))\n"
    "try:\n"
    "    os.execvp(argv[0], argv)\n"
    "except OSError as e:\n"
    "    sys.stderr.write(f'cannot start {argv[0]}: {e.strerror}\\n')\n"
    "    sys.exit(127)\n"
)


def process_start_ticks(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode(errors="replace")
    except OSError:
        return None
    # the command name may hold spaces and parentheses: fields follow the last ')'
    fields = stat[stat.rfind(")") + 2 :].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _last_line(path: str, limit: int = 500) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 4096))
            lines = [line.strip() for line in f.read().decode(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:limit] if lines else ""


class _Run:
    """A job this agent started: its process and why it is being stopped, if it is."""

    def __init__(self, spec: jobspec.JobSpec, log_path: str):
        self.spec = spec
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.reason: str | None = None  # "cancel", "timeout" or "shutdown"
        self.done = threading.Event()


class JobManager:
    """Accepts, runs, cancels and reports jobs of this node."""

    def __init__(
        self,
        job_store: store.JobStore,
        *,
        node_name: str,
        log_dir: str,
        max_concurrent: int = 2,
        max_pending: int = 1000,
        kill_grace: float = 5.0,
        device_paths=lambda: (),
        path_prefixes: tuple[str, ...] = (),
        cpu_count: int | None = None,
    ):
        """:param device_paths: callable -> block devices of the node's namespaces (for csd jobs)."""
        self.store = job_store
        self.node_name = node_name
        self.log_dir = log_dir
        self.max_concurrent = max(1, max_concurrent)
        self.max_pending = max_pending
        self.kill_grace = kill_grace
        self.device_paths = device_paths
        self.path_prefixes = tuple(os.path.normpath(p) for p in path_prefixes)
        self.cpu_count = cpu_count or os.cpu_count()
        self._cond = threading.Condition()
        self._queue: collections.deque[str] = collections.deque()
        self._running: dict[str, _Run] = {}
        self._draining = False
        self._stopped = False
        self._dispatcher: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Settle what the previous agent left, then start running queued jobs."""
        os.makedirs(self.log_dir, exist_ok=True)
        self.recover()
        self._dispatcher = threading.Thread(target=self._dispatch_loop, name="job-dispatcher", daemon=True)
        self._dispatcher.start()

    def recover(self) -> tuple[int, int]:
        """RUNNING jobs of a previous agent -> FAILED; PENDING ones queued again. Returns both counts."""
        failed = 0
        for record in self.store.list(statuses=(store.RUNNING,)):
            detail = self._stop_leftover(record)
            self.store.update(
                record.job_id,
                status=store.FAILED,
                completed_at=time.time(),
                pid=0,
                error=f"the agent stopped while the job was running{detail}",
                message="failed: agent restarted",
            )
            failed += 1
        pending = [r.job_id for r in self.store.list(statuses=(store.PENDING,))]
        with self._cond:
            self._queue.extend(pending)
        if failed or pending:
            LOG.info("Recovered jobs: %d RUNNING marked FAILED, %d PENDING queued again", failed, len(pending))
        return failed, len(pending)

    @staticmethod
    def _stop_leftover(record: JobRecord) -> str:
        if not record.pid:
            return " (before its process started)"
        # only the very process we started: a recycled pid has another start time
        if record.pid_start is not None and process_start_ticks(record.pid) == record.pid_start:
            _signal_group(record.pid, signal.SIGKILL)
            LOG.warning("Job %s: stopped its leftover process group %d", record.job_id, record.pid)
            return f"; its leftover processes (group {record.pid}) were stopped"
        return f"; its process {record.pid} had already ended"

    def stop(self, grace: float) -> None:
        """Start no more jobs; let running ones finish for ``grace`` s, then stop them (FAILED).

        PENDING jobs stay recorded and run when the agent starts again.
        """
        deadline = time.monotonic() + grace
        with self._cond:
            self._draining = True
            self._cond.notify_all()
            while self._running and time.monotonic() < deadline:
                self._cond.wait(max(0.0, min(1.0, deadline - time.monotonic())))
            left = list(self._running.values())
            for run in left:
                run.reason = run.reason or "shutdown"
        for run in left:
            self._terminate(run)
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._dispatcher is not None:
            self._dispatcher.join(timeout=5)
        if left:
            LOG.warning("Stopped %d running job(s) at shutdown", len(left))

    @property
    def draining(self) -> bool:
        return self._draining

    def counts(self) -> tuple[int, int]:
        """(running, pending) jobs now."""
        with self._cond:
            return len(self._running), len(self._queue)

    # ------------------------------------------------------------ requests

    def submit(self, fields: dict) -> JobRecord:
        """Validate and queue a job; returns its PENDING record. JobError with the gRPC code otherwise."""
        if self._draining:
            raise JobError(grpc.StatusCode.UNAVAILABLE, "the agent is shutting down")
        devices = ()
        if (fields.get("csd") or {}).get("enabled"):
            try:
                devices = tuple(self.device_paths())
            except Exception as e:  # noqa: BLE001 - any failure to read the devices refuses the job
                raise JobError(grpc.StatusCode.UNAVAILABLE, f"cannot read the node's NVMe devices: {e}")
        spec = jobspec.validate(
            fields,
            node_name=self.node_name,
            device_paths=devices,
            path_prefixes=self.path_prefixes,
            cpu_count=self.cpu_count,
        )
        record = JobRecord(spec=spec, status=store.PENDING, submitted_at=time.time(), message="queued")
        with self._cond:
            if self._draining:
                raise JobError(grpc.StatusCode.UNAVAILABLE, "the agent is shutting down")
            if len(self._queue) >= self.max_pending:
                raise JobError(grpc.StatusCode.RESOURCE_EXHAUSTED, f"{len(self._queue)} jobs are already queued")
            try:
                self.store.insert(record)
            except store.DuplicateJob:
                raise JobError(grpc.StatusCode.ALREADY_EXISTS, f"job {spec.job_id} exists already")
            self._queue.append(spec.job_id)
            self._cond.notify_all()
        LOG.info("Job %s (%s) queued: %s", spec.job_id, spec.job_name, " ".join(spec.command)[:200])
        return record

    def get(self, job_id: str) -> JobRecord:
        """The job's record; JobError NOT_FOUND if there is none."""
        # under the lock: a job being spawned is seen before or after, never half-started
        with self._cond:
            record = self.store.get(job_id) if job_id else None
        if record is None:
            raise JobError(grpc.StatusCode.NOT_FOUND, f"no job {job_id!r} on this node")
        return record

    def list_jobs(self, namespace: str = "", statuses: tuple[str, ...] = ()) -> list[JobRecord]:
        """Jobs in submission order, optionally of one namespace and some statuses."""
        with self._cond:
            return self.store.list(namespace=namespace, statuses=statuses)

    def cancel(self, job_id: str) -> JobRecord:
        """Stop a PENDING or RUNNING job; a CANCELLED one is returned as it is.

        A running job's process group gets SIGTERM, then SIGKILL after the kill
        grace; the call returns once the job is recorded CANCELLED.
        """
        with self._cond:
            record = self.get(job_id)
            if record.status == store.CANCELLED:
                return record
            if record.status in store.FINISHED:
                raise JobError(grpc.StatusCode.FAILED_PRECONDITION, f"job {job_id} has already {record.status}")
            if record.status == store.PENDING:
                try:
                    self._queue.remove(job_id)
                except ValueError:
                    pass
                LOG.info("Job %s cancelled before it started", job_id)
                return self.store.update(
                    job_id,
                    status=store.CANCELLED,
                    completed_at=time.time(),
                    error="cancelled before it started",
                    message="cancelled",
                )
            run = self._running.get(job_id)
            if run is None:
                return self.store.get(job_id)
            run.reason = run.reason or "cancel"
        self._terminate(run)
        LOG.info("Job %s cancelled", job_id)
        return self.store.get(job_id)

    # ------------------------------------------------------------ running

    def _terminate(self, run: _Run) -> None:
        """SIGTERM the job's process group, SIGKILL after the grace; wait for the record."""
        if run.proc is None:
            return
        _signal_group(run.proc.pid, signal.SIGTERM)
        if not run.done.wait(self.kill_grace):
            _signal_group(run.proc.pid, signal.SIGKILL)
            run.done.wait(10)

    def _dispatch_loop(self) -> None:
        with self._cond:
            while True:
                while not self._stopped and (
                    self._draining or not self._queue or len(self._running) >= self.max_concurrent
                ):
                    self._cond.wait()
                if self._stopped:
                    return
                job_id = self._queue.popleft()
                record = self.store.get(job_id)
                if record is None or record.status != store.PENDING:
                    continue
                try:
                    self._start(record)
                except Exception:  # noqa: BLE001 - one job's failure must not stop the dispatcher
                    LOG.exception("Job %s could not be started", job_id)
                    self._running.pop(job_id, None)
                    self.store.update(
                        job_id,
                        status=store.FAILED,
                        completed_at=time.time(),
                        error="the agent could not start the job",
                        message="failed",
                    )

    def _env(self, spec: jobspec.JobSpec) -> dict[str, str]:
        # a clean environment: the agent's own (credentials included) stays with the agent
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "HOME": os.environ.get("HOME", "/"),
        }
        env.update(spec.env)
        env.update(
            {
                "CSD_JOB_ID": spec.job_id,
                "CSD_JOB_NAME": spec.job_name,
                "CSD_NAMESPACE": spec.namespace,
                "CSD_DATA_PATH": spec.data_path,
                "CSD_OUTPUT_PATH": spec.output_path,
                "CSD_NODE": self.node_name,
            }
        )
        if spec.csd_enabled:
            env["CSD_DEVICE_PATH"] = spec.csd_device_path
        return env

    def _argv(self, spec: jobspec.JobSpec) -> list[str]:
        if not spec.cpu and not spec.memory:
            return list(spec.command)
        cpus = ""
        if spec.cpu:
            available = sorted(os.sched_getaffinity(0))
            cpus = ",".join(str(c) for c in available[: max(1, math.ceil(spec.cpu))])
        return [sys.executable, "-I", "-S", "-c", _LIMITS_TRAMPOLINE, cpus, str(spec.memory), *spec.command]

    def _fail_start(self, job_id: str, error: str) -> None:
        self._running.pop(job_id, None)
        LOG.warning("Job %s failed to start: %s", job_id, error)
        self.store.update(job_id, status=store.FAILED, completed_at=time.time(), error=error, message="failed")

    def _start(self, record: JobRecord) -> None:
        """Spawn the job (called with the lock held, so a cancel sees it either PENDING or started)."""
        spec = record.spec
        run = _Run(spec, os.path.join(self.log_dir, f"{spec.job_id}.log"))
        self._running[spec.job_id] = run
        # RUNNING before the spawn: a crash in between is reported FAILED, never run twice
        self.store.update(spec.job_id, status=store.RUNNING, started_at=time.time(), message="starting")
        try:
            os.makedirs(spec.output_path, exist_ok=True)
        except OSError as e:
            return self._fail_start(spec.job_id, f"cannot create output_path {spec.output_path}: {e.strerror}")
        try:
            with open(run.log_path, "ab") as log:
                run.proc = subprocess.Popen(
                    self._argv(spec),
                    cwd=spec.output_path,
                    env=self._env(spec),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    close_fds=True,
                )
        except OSError as e:
            return self._fail_start(spec.job_id, f"cannot start {spec.command[0]}: {e.strerror}")
        pid = run.proc.pid
        self.store.update(spec.job_id, pid=pid, pid_start=process_start_ticks(pid), message=f"running as pid {pid}")
        LOG.info("Job %s started as pid %d", spec.job_id, pid)
        threading.Thread(target=self._monitor, args=(run,), name=f"job-{spec.job_id}", daemon=True).start()

    def _monitor(self, run: _Run) -> None:
        spec, proc = run.spec, run.proc
        try:
            code = proc.wait(timeout=spec.timeout_seconds or None)
        except subprocess.TimeoutExpired:
            run.reason = run.reason or "timeout"
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                code = proc.wait(timeout=self.kill_grace)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                code = proc.wait()
        # the job ends with its main process: nothing it left behind keeps running
        _signal_group(proc.pid, signal.SIGKILL)
        status, error, message = self._outcome(run, code)
        with self._cond:
            self.store.update(
                spec.job_id,
                status=status,
                completed_at=time.time(),
                exit_code=code,
                pid=0,
                error=error,
                message=message,
            )
            self._running.pop(spec.job_id, None)
            run.done.set()
            self._cond.notify_all()
        LOG.info("Job %s %s (%s)", spec.job_id, status, error or message)

    def _outcome(self, run: _Run, code: int) -> tuple[str, str, str]:
        """(status, error, message) of a job whose process ended with ``code``."""
        ended = f"exited with code {code}" if code >= 0 else f"killed by signal {-code}"
        if run.reason == "cancel":
            return store.CANCELLED, "cancelled by request", f"stopped ({ended})"
        if run.reason == "timeout":
            return store.FAILED, f"timed out after {run.spec.timeout_seconds} s", f"stopped ({ended})"
        if run.reason == "shutdown":
            return store.FAILED, "the agent shut down while the job was running", f"stopped ({ended})"
        if code == 0:
            return store.COMPLETED, "", ended
        last = _last_line(run.log_path)
        return store.FAILED, f"{ended}: {last}" if last else ended, ended
