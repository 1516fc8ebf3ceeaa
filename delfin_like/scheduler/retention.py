"""Retention: the scheduler leader prunes every table that grows per window or per task.

What goes (``[retention]``; the SQL is :mod:`delfin_like.db.sqlalchemy.retention`):

* finished tasks older than ``task_max_age``, and those beyond the newest
  ``tasks_per_storage_type`` of their (storage, type): every perf window is a task;
* finished jobs older than ``job_max_age``;
* alerts cleared more than ``alert_max_age`` ago (open alerts stay);
* alert deliveries still undelivered ``alert_delivery_max_age`` after they were queued (given up, logged);
* recorded perf gaps older than ``perf_gap_max_age`` or beyond the newest
  ``perf_gaps_per_series`` of their series.

PENDING and RUNNING tasks, the last FAILED task of each (storage, type) and
the tasks a storage, schedule or unfinished job points at are never pruned.
The other perf tables stay bounded by themselves: one ``perf_collections``
and ``metric_latest`` row per series, an outbox emptied by delivery or by
``[exporters] retention_seconds``; ``task_managers`` is pruned by the re-dispatch scan.

Work is done in batches of ``batch_size`` rows, each its own transaction, at
most ``max_batches`` per kind of record and run; the run stops between batches
when the scheduler stops leading.
"""

import datetime
import threading
from collections.abc import Callable

from oslo_log import log as logging

from delfin_like.common import exception
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.db.sqlalchemy.utils import utcnow

LOG = logging.getLogger(__name__)


class Retention:
    """One retention run at a time, every ``[retention] interval`` seconds of ``clock``."""

    def __init__(self, keep_going: Callable[[], bool] | None = None):
        """:param keep_going: asked between batches; False stops the run (leadership lost, service stopping)."""
        self._keep_going = keep_going or (lambda: True)
        self._next_run: float | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.last_counts: dict | None = None

    # -------------------------------------------------------------- one run

    def _go_on(self) -> bool:
        return not self._stopping.is_set() and self._keep_going()

    def _batches(self, prune: Callable[[int], int]) -> int:
        """Call ``prune(limit)`` until it deletes less than a batch, the batch budget is spent or we must stop."""
        size, total = CONF.retention.batch_size, 0
        for _ in range(CONF.retention.max_batches):
            if not self._go_on():
                break
            deleted = prune(size)
            total += deleted
            if deleted < size:
                break
        return total

    def _beyond_count(self, keep: int) -> int:
        """The count rule: each batch is one read of the ids to go, then one short delete transaction."""
        size, total = CONF.retention.batch_size, 0
        for _ in range(CONF.retention.max_batches):
            if not self._go_on():
                break
            ids = db_api.tasks_beyond_count(keep, size)
            total += db_api.tasks_delete_prunable(ids)
            if len(ids) < size:
                break
        return total

    def run_once(self, now: datetime.datetime | None = None) -> dict:
        """Prune once; returns the counts deleted per kind. ``now`` (naive UTC) is for simulations.

        A database failure ends the run (logged); the next run starts over.
        """
        opts = CONF.retention
        now = now or utcnow()
        counts = {"tasks_by_age": 0, "tasks_by_count": 0, "jobs": 0, "alerts": 0, "alert_deliveries": 0,
                  "perf_gaps_by_age": 0, "perf_gaps_by_count": 0}
        try:
            if opts.task_max_age:
                before = now - datetime.timedelta(seconds=opts.task_max_age)
                counts["tasks_by_age"] = self._batches(lambda n: db_api.tasks_prune_finished_before(before, n))
            if opts.tasks_per_storage_type:
                counts["tasks_by_count"] = self._beyond_count(opts.tasks_per_storage_type)
            if opts.job_max_age:
                before = now - datetime.timedelta(seconds=opts.job_max_age)
                counts["jobs"] = self._batches(lambda n: db_api.jobs_prune_finished_before(before, n))
            if opts.alert_max_age:
                cleared_before = now - datetime.timedelta(seconds=opts.alert_max_age)
                counts["alerts"] = self._batches(lambda n: db_api.alerts_prune_cleared_before(cleared_before, n))
            if opts.alert_delivery_max_age:
                queued_before = now - datetime.timedelta(seconds=opts.alert_delivery_max_age)
                counts["alert_deliveries"] = self._batches(
                    lambda n: db_api.alert_deliveries_prune_before(queued_before, n))
                if counts["alert_deliveries"]:
                    LOG.warning("Gave up %d alert deliveries undelivered for over %d s",
                                counts["alert_deliveries"], opts.alert_delivery_max_age)
            if opts.perf_gap_max_age:
                before = now - datetime.timedelta(seconds=opts.perf_gap_max_age)
                counts["perf_gaps_by_age"] = self._batches(lambda n: db_api.perf_gaps_prune_before(before, n))
            if opts.perf_gaps_per_series:
                keep = opts.perf_gaps_per_series
                counts["perf_gaps_by_count"] = self._batches(lambda n: db_api.perf_gaps_prune_overflow(keep, n))
        except exception.DelfinLikeException as e:
            LOG.warning("Retention run stopped: %s", e)
        if any(counts.values()):
            LOG.info(
                "Retention pruned %s",
                ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items() if n),
            )
        self.last_counts = counts
        return counts

    # -------------------------------------------------------------- under the scheduler

    def maybe_start(self, clock: float) -> bool:
        """Start a run in a thread of its own if one is due at monotonic time ``clock`` and none is
        running (a long run never delays the scheduler's tick); True when one started."""
        if not CONF.retention.enabled:
            return False
        if self._next_run is not None and clock < self._next_run:
            return False
        if self._thread is not None and self._thread.is_alive():
            return False
        self._next_run = clock + CONF.retention.interval
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run_logged, name="retention", daemon=True)
        self._thread.start()
        return True

    def _run_logged(self) -> None:
        try:
            self.run_once()
        except Exception:  # noqa: BLE001 - a bad run must not kill the next one
            LOG.exception("Retention run crashed")

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the run in progress, if any; True when none is running any more."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the run in progress after its current batch."""
        self._stopping.set()
        self.wait(timeout)

    def reset(self) -> None:
        """Run at the next chance (a new leader prunes at once)."""
        self._next_run = None
