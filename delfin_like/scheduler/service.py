"""Minimal scheduler: cast again the tasks whose cast was lost or whose worker died.

RPC casts are at-most-once (acked on receipt; a cast to a lane nobody listens
on is dropped), so the ``tasks`` table is the truth and this loop makes
delivery at-least-once: every scan asks the database for PENDING tasks left
unclaimed for ``[task_manager] redispatch_after`` seconds and RUNNING tasks
whose lease expired, and casts them again. A repeat is harmless: a task is
claimed atomically and every job is idempotent. Leader election and periodic
syncs come with the full scheduler; until then several scanners may run (a
duplicate cast is only a wasted claim).
"""

import threading

from oslo_context import context as oslo_context
from oslo_log import log as logging
from oslo_service import service

from delfin_like.common import exception
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.rpc import client as rpc_client

LOG = logging.getLogger(__name__)


def scan_interval() -> float:
    """Seconds between scans: a third of the shorter of the re-dispatch delay and the lease."""
    return max(1.0, min(CONF.task_manager.redispatch_after, CONF.task_manager.lease_seconds) / 3)


class Redispatcher:
    """One scan at a time of the tasks that need casting again."""

    def __init__(self, rpcapi: rpc_client.TaskAPI | None = None):
        self.rpcapi = rpcapi or rpc_client.TaskAPI()

    def scan_once(self) -> int:
        """Cast every task due for re-dispatch; returns how many were cast."""
        try:
            tasks = db_api.tasks_to_redispatch(
                CONF.task_manager.redispatch_after, max_attempts=CONF.task_manager.max_attempts)
        except exception.DelfinLikeException as e:
            LOG.warning("Re-dispatch scan failed: %s", e)
            return 0
        cast = 0
        ctxt = oslo_context.RequestContext()
        for task in tasks:
            try:
                self.rpcapi.run_task(ctxt, task)
                cast += 1
            except exception.MessageBusUnavailable:
                LOG.warning("Message bus unavailable; %d task(s) wait for the next scan", len(tasks) - cast)
                break
        if tasks:
            LOG.info("Re-dispatched %d of %d task(s)", cast, len(tasks))
        return cast


class SchedulerService(service.Service):
    """oslo.service wrapper running :class:`Redispatcher` scans in a thread."""

    def __init__(self, rpcapi: rpc_client.TaskAPI | None = None, interval: float | None = None):
        """:param interval: seconds between scans; default :func:`scan_interval`."""
        super().__init__()
        self._rpcapi = rpcapi
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.redispatcher: Redispatcher | None = None

    def start(self) -> None:
        """Start scanning (after fork)."""
        super().start()
        self.redispatcher = Redispatcher(self._rpcapi)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="redispatch", daemon=True)
        self._thread.start()
        LOG.info("Re-dispatch scans every %.0f s", self._interval or scan_interval())

    def _loop(self) -> None:
        while not self._stop.wait(self._interval or scan_interval()):
            try:
                self.redispatcher.scan_once()
            except Exception:  # noqa: BLE001 - the loop must outlive any one bad scan
                LOG.exception("Re-dispatch scan crashed")

    def stop(self, graceful: bool = True) -> None:
        """Stop scanning; a scan in progress finishes its casts."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        super().stop(graceful)
