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

from delfin_like.common import exception
from delfin_like.common.constants import Lane, TaskStatus, TaskType
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.rpc import client as rpc_client
from delfin_like.rpc import server as rpc_server
from delfin_like.task_manager import endpoints
from delfin_like.task_manager.jobs import remove, sync

LOG = logging.getLogger(__name__)

JOBS = {
    TaskType.SYNC: sync.run,
    TaskType.REMOVE: remove.run,
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
        self._renewer: threading.Thread | None = None

    @property
    def running(self) -> list[str]:
        """Ids of the tasks this process is running now."""
        with self._cond:
            return list(self._running)

    def start(self) -> None:
        """Take a fresh owner id (we may be a forked child) and start renewing leases."""
        self.owner = new_owner_id()
        self._stopping.clear()
        self._renewer = threading.Thread(target=self._renew_loop, name="lease-renewal", daemon=True)
        self._renewer.start()
        LOG.info("Task manager %s started", self.owner)

    def _renew_loop(self) -> None:
        while True:
            lease = CONF.task_manager.lease_seconds
            # a third of the lease: two renewals may fail before it lapses
            if self._stopping.wait(lease / 3):
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
            LOG.warning("Renewed %d of %d leases; the others were cancelled or lost", renewed, len(ids))
        return renewed

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
        try:
            return self._execute(task)
        finally:
            with self._cond:
                self._running.pop(task_id, None)
                self._cond.notify_all()

    def _execute(self, task: dict) -> str:
        task_id = task["id"]
        job = JOBS.get(task["type"])
        LOG.info("Running %s task %s of storage %s (attempt %s, lane %s)", task["type"], task_id,
                 task.get("storage_id"), task.get("attempts"), task.get("priority"))
        try:
            if job is None:
                raise exception.InvalidInput(f"unknown task type {task['type']!r}")
            job(task, self.owner)
            return TaskStatus.COMPLETED
        except TRANSIENT_ERRORS as e:
            return self._release(task_id, e.msg)
        except exception.DelfinLikeException as e:
            LOG.warning("Task %s failed: %s", task_id, e.msg)
            return self._finish_failed(task_id, e.msg)
        except Exception as e:  # noqa: BLE001 - a task must end in a status, never stay RUNNING
            LOG.exception("Task %s failed unexpectedly", task_id)
            return self._finish_failed(task_id, f"internal error ({type(e).__name__})")

    def _release(self, task_id: str, error: str) -> str:
        try:
            status = db_api.task_release(task_id, self.owner, error, CONF.task_manager.max_attempts)
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

    def stop(self, timeout: float) -> None:
        """Stop: refuse new tasks, let running ones finish for ``timeout`` s, hand back the rest."""
        self._stopping.set()
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._running and time.monotonic() < deadline:
                self._cond.wait(min(1.0, max(0.0, deadline - time.monotonic())))
            left = dict(self._running)
        for task_id, task in left.items():
            status = self._release(task_id, "task manager stopped before the task finished")
            if status == TaskStatus.PENDING:
                try:
                    self.rpcapi.run_task(oslo_context.RequestContext(), task)
                except exception.DelfinLikeException as e:
                    LOG.warning("Could not cast task %s again (%s); the scheduler will", task_id, e)
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        LOG.info("Task manager %s stopped; %d running task(s) handed back", self.owner, len(left))


def shutdown_grace() -> float:
    """Seconds a stopping service lets running tasks finish: within oslo.service's limit."""
    limit = getattr(CONF, "graceful_shutdown_timeout", 60) or 60
    return max(1.0, limit - 10.0)


class TaskManagerService(service.Service):
    """oslo.service wrapper: lane RPC servers in front of a :class:`TaskManager`."""

    def __init__(self, rpcapi: rpc_client.TaskAPI | None = None, lanes=Lane.ALL):
        super().__init__()
        self._rpcapi = rpcapi
        self.lanes = lanes
        self.manager: TaskManager | None = None
        self.servers: rpc_server.LaneServers | None = None

    def start(self) -> None:
        """Start the manager and consume the lanes (runs after fork)."""
        super().start()
        self.manager = TaskManager(self._rpcapi)
        self.manager.start()
        endpoint = endpoints.TaskManagerEndpoint(self.manager)
        self.servers = rpc_server.LaneServers([endpoint], endpoints.RPC_API_VERSION, self.lanes)
        self.servers.start()

    def stop(self, graceful: bool = True) -> None:
        """Stop consuming, finish or hand back in-flight tasks, close the RPC servers."""
        grace = shutdown_grace() if graceful else 0.0
        if self.servers is not None:
            self.servers.stop()
        if self.manager is not None:
            self.manager.stop(grace)
        if self.servers is not None:
            self.servers.wait(timeout=5.0)
        super().stop(graceful)
