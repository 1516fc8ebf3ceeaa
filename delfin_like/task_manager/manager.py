"""The task manager: claims tasks, keeps their leases, runs the jobs, hands work back.

A cast carries only a task id; the ``tasks`` row is the truth. ``run_task``
claims the row (PENDING → RUNNING with a lease owned by this process), runs
the job for its type and records the outcome. Transient failures (lock,
coordination, database, unreachable back end) hand the task back for another
attempt; anything else fails it with the user-facing message. A lease-renewal
thread keeps the leases of running tasks alive; a task whose process died
loses its lease and the scheduler casts it again (at-least-once).
"""

import os
import threading
import time
import uuid

from oslo_context import context as oslo_context
from oslo_log import log as logging
from oslo_service import service

from delfin_like.alert_manager import platform as platform_alerts
from delfin_like.common import exception
from delfin_like.common.constants import Lane, TaskStatus, TaskType
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.rpc import client as rpc_client
from delfin_like.rpc import server as rpc_server
from delfin_like.task_manager import endpoints, membership
from delfin_like.task_manager.jobs import alert_sync, csd_jobs, perf, remove, sync

LOG = logging.getLogger(__name__)

JOBS = {
    TaskType.SYNC: sync.run,
    TaskType.REMOVE: remove.run,
    **dict.fromkeys(TaskType.PERF, perf.run),
    TaskType.JOB_SUBMIT: csd_jobs.run_submit,
    TaskType.JOB_CANCEL: csd_jobs.run_cancel,
    TaskType.ALERT_SYNC: alert_sync.run,
}

# worth another attempt later: the condition is outside the task and may pass
TRANSIENT_ERRORS = (
    exception.LockUnavailable,
    exception.CoordinationUnavailable,
    exception.DatabaseUnavailable,
    exception.BackendUnreachable,
)


def new_owner_id() -> str:
    """A lease owner id unique to this process: ``<host>:<pid>:<random>``."""
    return f"{CONF.host}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class TaskManager:
    """Runs tasks and owns their leases. Create and :meth:`start` it after fork."""

    def __init__(self, rpcapi: rpc_client.TaskAPI | None = None):
        """:param rpcapi: used to hand tasks back on shutdown; default a new TaskAPI."""
        self.rpcapi = rpcapi or rpc_client.TaskAPI()
        self.owner = new_owner_id()
        self._running: dict[str, dict] = {}
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        # set only once stop() has handed back what did not finish: leases are renewed until then
        self._stopped = threading.Event()
        self._renewer: threading.Thread | None = None
        # tasks this process ended COMPLETED / FAILED (for GET /v1/task-managers)
        self._done = 0
        self._failed = 0

    @property
    def running(self) -> list[str]:
        """Ids of the tasks this process is running now."""
        with self._cond:
            return list(self._running)

    def counters(self) -> tuple[int, int, int]:
        """``(tasks running now, tasks ended COMPLETED, tasks ended FAILED)`` by this process."""
        with self._cond:
            return len(self._running), self._done, self._failed

    def start(self) -> None:
        """Take a fresh owner id (we may be a forked child) and start renewing leases."""
        self.owner = new_owner_id()
        self._stopping.clear()
        self._stopped.clear()
        self._renewer = threading.Thread(target=self._renew_loop, name="lease-renewal", daemon=True)
        self._renewer.start()
        LOG.info("Task manager %s started", self.owner)

    def _renew_loop(self) -> None:
        while True:
            lease = CONF.task_manager.lease_seconds
            # a third of the lease: two renewals may fail before it lapses
            if self._stopped.wait(lease / 3):
                return
            self.renew_leases(lease)

    def renew_leases(self, lease_seconds: int | None = None) -> int:
        """Extend the leases of the running tasks; returns how many were extended."""
        ids = self.running
        if not ids:
            return 0
        lease = lease_seconds or CONF.task_manager.lease_seconds
        try:
            renewed = db_api.task_renew_leases(self.owner, ids, lease)
        except exception.DelfinLikeException as e:
            LOG.warning("Lease renewal of %d tasks failed: %s", len(ids), e)
            return 0
        if renewed < len(ids):
            self._report_unrenewed(ids, renewed)
        return renewed

    def _report_unrenewed(self, ids: list[str], renewed: int) -> None:
        """Say which leases were not renewed and why. A task this process finished between listing
        its running tasks and the renewal is no news (it happens all the time with short tasks);
        a task cancelled, or taken over by another owner, is."""
        news = []
        still_running = set(self.running)
        for task_id in ids:
            if task_id not in still_running:
                continue  # ended here meanwhile, whichever way
            try:
                state = db_api.task_state(task_id)
            except exception.TaskNotFound:
                news.append(f"{task_id} (gone)")
                continue
            except exception.DelfinLikeException:
                return  # the database is away: the next renewal tells
            if state["status"] in (TaskStatus.COMPLETED, TaskStatus.FAILED) and state["lease_owner"] == self.owner:
                continue  # ended here meanwhile
            if state["status"] == TaskStatus.RUNNING and state["lease_owner"] == self.owner:
                continue  # renewed
            news.append(f"{task_id} ({state['status']}, lease owner {state['lease_owner'] or 'none'})")
        if news:
            LOG.warning("Renewed %d of %d leases; not renewed: %s", renewed, len(ids), ", ".join(news))

    def run_task(self, context, task_id: str) -> str | None:
        """Claim and run task ``task_id``; returns its final status here, or None if not run."""
        if self._stopping.is_set():
            self._hand_back_unclaimed(context, task_id)
            return None
        try:
            task = db_api.task_claim(task_id, self.owner, CONF.task_manager.lease_seconds)
        except exception.DelfinLikeException as e:
            # still PENDING: the scheduler casts it again later
            LOG.warning("Could not claim task %s: %s", task_id, e)
            return None
        if task is None:
            LOG.info("Task %s already taken or finished; skipping", task_id)
            return None
        with self._cond:
            self._running[task_id] = task
        status = None
        try:
            status = self._execute(task)
            return status
        finally:
            with self._cond:
                self._running.pop(task_id, None)
                self._done += status == TaskStatus.COMPLETED
                self._failed += status == TaskStatus.FAILED
                self._cond.notify_all()

    def _execute(self, task: dict) -> str:
        outcome: dict = {}
        status = None
        try:
            status = self._execute_job(task, outcome)
            return status
        finally:
            if "error" in outcome or status == TaskStatus.COMPLETED:
                # never raises: an alert that cannot be recorded does not change the task's end
                platform_alerts.note_outcome(task.get("storage_id"), task["type"], outcome.get("error"), status)

    def _execute_job(self, task: dict, outcome: dict) -> str:
        task_id = task["id"]
        job = JOBS.get(task["type"])
        LOG.info("Running %s task %s of storage %s (attempt %s, lane %s)", task["type"], task_id,
                 task.get("storage_id"), task.get("attempts"), task.get("priority"))
        try:
            if job is None:
                raise exception.InvalidInput(f"unknown task type {task['type']!r}")
            if job(task, self.owner) is None:
                # nothing written: cancelled, or no longer ours; the row has the outcome
                return self._status_of(task_id)
            return TaskStatus.COMPLETED
        except TRANSIENT_ERRORS as e:
            outcome["error"] = e
            return self._release(task_id, e.msg)
        except exception.DelfinLikeException as e:
            outcome["error"] = e
            LOG.warning("Task %s failed: %s", task_id, e.msg)
            return self._finish_failed(task_id, e.msg)
        except Exception as e:  # noqa: BLE001 - a task must end in a status, never stay RUNNING
            outcome["error"] = e
            LOG.exception("Task %s failed unexpectedly", task_id)
            return self._finish_failed(task_id, f"internal error ({type(e).__name__})")

    @staticmethod
    def _status_of(task_id: str) -> str:
        try:
            return db_api.task_state(task_id)["status"]
        except exception.DelfinLikeException:
            return TaskStatus.CANCELLED

    def _release(self, task_id: str, error: str, backoff: float | None = None, spent: bool = True) -> str:
        try:
            status = db_api.task_release(
                task_id, self.owner, error, CONF.task_manager.max_attempts, backoff=backoff, spent=spent
            )
        except exception.DelfinLikeException as e:
            # the lease lapses and the scheduler re-dispatches it
            LOG.warning("Could not hand back task %s: %s", task_id, e)
            return TaskStatus.RUNNING
        LOG.info("Task %s handed back (%s): %s", task_id, status, error)
        return status or TaskStatus.RUNNING

    def _finish_failed(self, task_id: str, error: str) -> str:
        try:
            db_api.task_finish(task_id, TaskStatus.FAILED, error=error, owner=self.owner)
        except exception.DelfinLikeException as e:
            LOG.warning("Could not record the failure of task %s: %s", task_id, e)
        return TaskStatus.FAILED

    def _hand_back_unclaimed(self, context, task_id: str) -> None:
        """A cast picked up while stopping: cast it again for another task manager."""
        try:
            task = db_api.task_get(task_id)
            if task["status"] == TaskStatus.PENDING:
                self.rpcapi.run_task(context, task)
                LOG.info("Stopping: task %s cast again for another task manager", task_id)
        except exception.DelfinLikeException as e:
            LOG.warning("Stopping: could not hand task %s on (%s); the scheduler will", task_id, e)

    def refuse_new_tasks(self) -> None:
        """From now on a cast is handed on unclaimed; running tasks carry on (and keep their leases)."""
        self._stopping.set()

    def stop(self, timeout: float) -> None:
        """Stop: refuse new tasks, let running ones finish for ``timeout`` s, hand back the rest."""
        self._stopping.set()
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._running and time.monotonic() < deadline:
                self._cond.wait(min(1.0, max(0.0, deadline - time.monotonic())))
            left = dict(self._running)
        for task_id, task in left.items():
            # nothing went wrong with the task: its attempt is given back, and no back-off holds it
            # if the cast below does not get through
            status = self._release(task_id, "task manager stopped before the task finished", backoff=0.0, spent=False)
            if status == TaskStatus.PENDING:
                try:
                    self.rpcapi.run_task(oslo_context.RequestContext(), task)
                except exception.DelfinLikeException as e:
                    LOG.warning("Could not cast task %s again (%s); the scheduler will", task_id, e)
        self._stopped.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        LOG.info("Task manager %s stopped; %d running task(s) handed back", self.owner, len(left))


def shutdown_limit() -> float:
    """oslo.service's ``graceful_shutdown_timeout``: after it a stopping process is killed (SIGALRM)."""
    return float(getattr(CONF, "graceful_shutdown_timeout", 60) or 60)


def shutdown_grace() -> float:
    """Seconds a stopping service lets running tasks finish: within oslo.service's limit."""
    return max(1.0, shutdown_limit() - 10.0)


class TaskManagerService(service.Service):
    """oslo.service wrapper: lane RPC servers in front of a :class:`TaskManager`."""

    def __init__(self, rpcapi: rpc_client.TaskAPI | None = None, lanes=Lane.ALL):
        super().__init__()
        self._rpcapi = rpcapi
        self.lanes = lanes
        self.manager: TaskManager | None = None
        self.servers: rpc_server.LaneServers | None = None
        self.membership: membership.Membership | None = None

    def start(self) -> None:
        """Start the manager and consume the lanes (runs after fork)."""
        super().start()
        self.manager = TaskManager(self._rpcapi)
        self.manager.start()
        endpoint = endpoints.TaskManagerEndpoint(self.manager)
        self.servers = rpc_server.LaneServers([endpoint], endpoints.RPC_API_VERSION, self.lanes)
        self.servers.start()
        # joined only once the lanes are consumed: a join tells the scheduler casts can land
        self.membership = membership.Membership(self.manager, self.lanes)
        self.membership.start()

    def stop(self, graceful: bool = True) -> None:
        """Stop consuming, finish or hand back in-flight tasks, close the RPC servers.

        All within :func:`shutdown_limit` (a few seconds are left for the process's own
        clean-up): the lanes stop while running tasks have :func:`shutdown_grace` s to finish.
        """
        grace = shutdown_grace() if graceful else 0.0
        deadline = time.monotonic() + max(grace, shutdown_limit() - 3.0)
        if self.manager is not None:
            # at once: a cast read while the lanes wind down goes to another task manager
            self.manager.refuse_new_tasks()
        lanes_stopping = None
        if self.servers is not None:
            # an idle lane notices a stop only at its next poll (seconds): meanwhile tasks finish
            lanes_stopping = threading.Thread(target=self.servers.stop, name="lanes-stop", daemon=True)
            lanes_stopping.start()
        if self.manager is not None:
            self.manager.stop(grace)
        if lanes_stopping is not None:
            lanes_stopping.join(max(0.0, deadline - time.monotonic()))
        if self.membership is not None:
            self.membership.stop()  # after the hand-back, so the final counters are recorded
            self.membership = None
        if self.servers is not None:
            # what still runs was handed back: its late result is refused, so do not wait long
            self.servers.wait(timeout=max(0.5, min(5.0, deadline - time.monotonic())))
        # exporters may hold files and bus connections; undelivered batches stay in the outbox
        perf.close_exporters()
        super().stop(graceful)
