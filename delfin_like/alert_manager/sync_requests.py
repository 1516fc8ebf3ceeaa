"""Alert syncs a trap receiver requests when a trap could not be parsed whole (issue 14).

The sink calls :meth:`AlertSyncRequests.request` for a matched, authenticated trap its storage's
driver could not turn into an alert (the parse failed, or the driver raised the sdk's
``AlertIncomplete``): the array's event log has what the trap did not carry. The request never
blocks the sink: it is rate-limited per storage (``[alert_sync] trap_request_interval``) and handed
to a thread of its own, which queues the alert sync as the API does
(``db.api.task_create_alert_sync``, which reuses the storage's PENDING one, so at most one is
queued per storage) and casts it through the RPC client. A cast that fails leaves the task row
PENDING: the scheduler's re-dispatch casts it later, so no request is lost once its row is written.
"""

from __future__ import annotations

import collections
import logging
import threading
import time

from oslo_context import context as oslo_context

from delfin_like.common import exception
from delfin_like.common.constants import Lane
from delfin_like.conf import CONF
from delfin_like.db import api as db_api

LOG = logging.getLogger(__name__)

# requested: an alert sync queued (or a queued one reused); rate_limited: a request within the
# storage's interval, dropped; request_failed: the database refused (the next trap tries again);
# cast_failed: queued, but the bus was away (the re-dispatch casts it)
COUNTERS = ("sync_requested", "sync_rate_limited", "sync_request_failed", "sync_cast_failed")


class AlertSyncRequests:
    """Rate-limited, asynchronous alert sync requests of a trap receiver.

    :param rpcapi: the RPC client casting the tasks (default: a TaskAPI on the process's transport,
        made at the first cast).
    :param interval: seconds between two requests of one storage; default ``[alert_sync]
        trap_request_interval``.
    """

    def __init__(self, rpcapi=None, interval: float | None = None, clock=time.monotonic):
        self._rpcapi = rpcapi
        self._interval = CONF.alert_sync.trap_request_interval if interval is None else interval
        self._clock = clock
        self._cond = threading.Condition()
        self._last: dict[str, float] = {}  # storage id -> when its last request was accepted
        self._queue: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._counters = dict.fromkeys(COUNTERS, 0)
        self._stopping = False
        self._thread: threading.Thread | None = None

    def counters(self) -> dict[str, int]:
        with self._cond:
            return dict(self._counters)

    def request(self, storage_id: str) -> bool:
        """Ask for an alert sync of the storage; returns at once. False when rate-limited."""
        with self._cond:
            now = self._clock()
            last = self._last.get(storage_id)
            if last is not None and now - last < self._interval:
                self._counters["sync_rate_limited"] += 1
                return False
            self._last[storage_id] = now
            self._queue[storage_id] = None
            self._cond.notify()
        return True

    def start(self) -> None:
        with self._cond:
            self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="alert-sync-requests", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread; requests still waiting are dropped (their traps are logged and counted)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                storage_id, _ = self._queue.popitem(last=False)
            try:
                self.queue_now(storage_id)
            except Exception:  # noqa: BLE001 - the thread must outlive any one request
                LOG.exception("Alert sync request of storage %s failed", storage_id)

    def queue_now(self, storage_id: str) -> dict | None:
        """Queue (or reuse) the storage's alert sync and cast it if new; returns the task, or None."""
        try:
            task, created = db_api.task_create_alert_sync(storage_id, Lane.NORMAL)
        except (exception.StorageNotFound, exception.StorageBeingDeleted):
            return None
        except exception.DelfinLikeException as e:
            with self._cond:
                self._counters["sync_request_failed"] += 1
                self._last.pop(storage_id, None)  # nothing was queued: the next trap may ask again
            LOG.warning("Could not queue an alert sync of storage %s: %s", storage_id, e.msg)
            return None
        with self._cond:
            self._counters["sync_requested"] += 1
        if not created:
            LOG.info("Alert sync of storage %s requested by a trap: task %s already queued", storage_id, task["id"])
            return task
        try:
            self._client().run_task(oslo_context.RequestContext(), task)
        except exception.DelfinLikeException as e:
            with self._cond:
                self._counters["sync_cast_failed"] += 1
            LOG.warning("Alert sync %s of storage %s queued, cast failed (%s): the scheduler's re-dispatch "
                        "casts it", task["id"], storage_id, e.msg)
            return task
        LOG.info("Alert sync %s of storage %s requested by a trap it could not parse whole", task["id"], storage_id)
        return task

    def _client(self):
        if self._rpcapi is None:
            from delfin_like.rpc import client as rpc_client

            self._rpcapi = rpc_client.TaskAPI()
        return self._rpcapi
