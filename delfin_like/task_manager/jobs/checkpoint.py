"""Cooperative stop points of a running job.

A job calls :meth:`Checkpoint.check` between its steps and reads every driver
listing through :meth:`Checkpoint.watch`. At most once per ``interval``
seconds a check costs one primary-key read of the task row; when the task is
no longer RUNNING for this task manager (cancelled by ``DELETE
/v1/tasks/{id}``, handed back at shutdown, or re-dispatched to another task
manager after its lease lapsed) the check raises :class:`SyncAborted` and the
job stops without writing. The atomic ownership check inside ``sync_apply``
stays the last word; these checks only make the stop early and cheap.

A job that sets ``progress`` (a JSON-able dict it keeps up to date) has it
written to the task row by :meth:`Checkpoint.report`, at most once per
``interval`` (a job shorter than that writes none) unless forced (a job
forces the report of a new phase, e.g. ``writing``, so an operator, and a
test, sees it however short the phase before); :meth:`Checkpoint.watch`
counts the items of the listing in it (``listed``) and reports as it goes.

With ``lock`` set (what ``coordination.storage_lock`` yields), the same checks,
and :meth:`Checkpoint.check_lock` before the write, also ask the coordination
backend whether the storage lock is still ours: if it is not (a backend that
lost it), the job stops and the task is handed back for another attempt.

With ``deadline`` set (a :class:`delfin_like.sdk.cancel.Token` of ``timeout`` s)
and ``max_items``, :meth:`watch` also stops a listing that passes the
deadline (SyncTimedOut) or yields more than ``max_items`` (SyncTooLarge), so a
huge or endless listing can neither run nor grow the process for ever.
"""

import time
from collections.abc import Iterable, Iterator

from oslo_log import log as logging

from delfin_like.common import exception
from delfin_like.common.constants import TaskStatus
from delfin_like.db import api as db_api

LOG = logging.getLogger(__name__)

# seconds between two reads of the task row: a cancel takes effect within this, or one driver page
DEFAULT_INTERVAL = 1.0


class Checkpoint:
    """Stop checks of one claimed task."""

    def __init__(self, task: dict, owner: str, interval: float = DEFAULT_INTERVAL):
        """:param task: the claimed task (``id``, ``storage_id``); :param owner: our lease owner id;
        :param interval: least seconds between two reads of the task row."""
        self.task_id = task["id"]
        self.storage_id = task.get("storage_id")
        self.owner = owner
        self.interval = interval
        self.reads = 0
        # the storage lock (coordination.storage_lock's handle), once taken
        self.lock = None
        # the claim has just read the row
        self._next = time.monotonic() + interval
        # what the job reports of itself (see report)
        self.progress: dict | None = None
        self._next_report = self._next
        # bounds of every listing watched (see the module docstring); None: unbounded
        self.deadline = None
        self.timeout: float | None = None
        self.max_items: int | None = None

    def check(self, force: bool = False) -> None:
        """Raise SyncAborted if the task is no longer ours to run.

        :param force: read the row even if the last read is younger than ``interval``.
        A database error is not a reason to stop: the write at the end checks again.
        """
        now = time.monotonic()
        if not force and now < self._next:
            return
        self._next = now + self.interval
        self.reads += 1
        try:
            state = db_api.task_state(self.task_id)
        except exception.TaskNotFound:
            state = {"status": None, "lease_owner": None}
        except exception.DatabaseUnavailable:
            LOG.debug("Task %s: cancellation check skipped, database unavailable", self.task_id)
            return
        if state["status"] == TaskStatus.RUNNING and state["lease_owner"] == self.owner:
            self.check_lock()
            return
        if state["status"] == TaskStatus.CANCELLED:
            reason = "the task was cancelled"
        elif state["status"] is None:
            reason = "the task was deleted"
        else:
            reason = "the task was handed back or taken over by another task manager"
        raise exception.SyncAborted(self.storage_id, reason)

    def check_lock(self) -> None:
        """Raise CoordinationUnavailable (transient: the task is handed back) if the storage lock is lost."""
        still_held = getattr(self.lock, "still_held", None)
        if still_held is not None and not still_held():
            LOG.warning("Task %s: the lock of storage %s is no longer ours; stopping", self.task_id, self.storage_id)
            raise exception.CoordinationUnavailable()

    def report(self, force: bool = False) -> None:
        """Write ``progress`` to the task row if ``interval`` has passed since the last write (or the
        claim), or at once with ``force``.

        Best effort: a database error or a task no longer ours is left to :meth:`check`.
        """
        now = time.monotonic()
        if self.progress is None or (not force and now < self._next_report):
            return
        self._next_report = now + self.interval
        try:
            db_api.task_progress_set(self.task_id, self.owner, self.progress)
        except exception.DatabaseUnavailable:
            LOG.debug("Task %s: progress not recorded, database unavailable", self.task_id)

    def check_deadline(self, during: str) -> None:
        """Raise SyncTimedOut if ``deadline`` has passed (``during`` says what the job was doing)."""
        if self.deadline is not None and self.deadline.expired:
            raise exception.SyncTimedOut(storage_id=self.storage_id, timeout=f"{self.timeout:g}", during=during)

    def watch(self, items: Iterable, what: str = "items") -> Iterator:
        """Yield ``items`` (a driver listing of ``what``), checking before each one once ``interval`` has
        passed, counting them in ``progress["listed"]`` when the job keeps a progress, and stopping at
        ``deadline`` or past ``max_items``."""
        progress = self.progress
        deadline, limit = self.deadline, self.max_items
        # the token's own deadline is a float compare per item; its cancel flag and parents
        # (a few attribute reads and calls) are looked at every 256 items
        due = deadline.deadline if deadline is not None and deadline.deadline is not None else float("inf")
        count = 0
        for item in items:
            count += 1
            if limit is not None and count > limit:
                raise exception.SyncTooLarge(storage_id=self.storage_id, limit=limit, resource_type=what)
            now = time.monotonic()
            if deadline is not None and (now >= due or not count & 255) and deadline.expired:
                self.check_deadline(f"listing {what} ({count - 1} listed)")
            if progress is not None:
                progress["listed"] = progress.get("listed", 0) + 1
            if now >= self._next:
                self.check()
            if now >= self._next_report:
                self.report()
            yield item
