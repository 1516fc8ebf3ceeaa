"""A task manager's presence: a member of the tooz group, and a ``task_managers`` row it keeps fresh.

The group tells the scheduler when the first task manager joins (it then casts
the tasks that waited); the row is what ``GET /v1/task-managers`` shows: host,
lanes, tasks running/done/failed and the last report, from which the API
derives up or down. A report that fails (database or backend down) is retried
at the next interval; the task manager keeps working meanwhile.
"""

import os
import threading

from oslo_log import log as logging

from delfin_like import coordination, deployment
from delfin_like.common import exception
from delfin_like.conf import CONF
from delfin_like.db import api as db_api

LOG = logging.getLogger(__name__)


class Membership:
    """Joins the group, writes the record and reports every ``[task_manager] report_interval`` s."""

    def __init__(self, manager, lanes, coordinator: coordination.Coordinator | None = None):
        """:param manager: the TaskManager (its ``owner`` is the member id, ``counters()`` the figures);
        :param lanes: the lanes it consumes; :param coordinator: default the process-wide one."""
        self.manager = manager
        self.lanes = tuple(lanes)
        self._coordinator = coordinator
        self._registered = False
        self._joined = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def member_id(self) -> str:
        return self.manager.owner

    def start(self) -> None:
        """Register and join now (or at the next report if a service is down), then keep reporting."""
        self._stop.clear()
        self._register()
        self._join()
        self._thread = threading.Thread(target=self._loop, name="membership", daemon=True)
        self._thread.start()

    def _register(self) -> None:
        try:
            db_api.task_manager_register(self.member_id, CONF.host, os.getpid(), self.lanes)
            self._registered = True
        except exception.DelfinLikeException as e:
            LOG.warning("Could not record task manager %s: %s", self.member_id, e)

    def _coord(self) -> coordination.Coordinator:
        return self._coordinator or coordination.get_coordinator()

    def _join(self) -> None:
        try:
            coordination.join_group(
                self._coord(),
                deployment.membership_group(),
                {"id": self.member_id, "host": CONF.host, "lanes": list(self.lanes)},
            )
            self._joined = True
            LOG.info("Task manager %s joined %s", self.member_id, deployment.membership_group())
        except exception.CoordinationUnavailable as e:
            LOG.warning("Could not join %s (retrying): %s", deployment.membership_group(), e)

    def _loop(self) -> None:
        while not self._stop.wait(CONF.task_manager.report_interval):
            if not self._registered:
                self._register()
            elif not self.report():
                self._register()  # the record was pruned while this process was cut off
            if not self._joined:
                self._join()

    def report(self, stopped: bool = False) -> bool:
        """Write the heartbeat and counters; returns False if the record is missing."""
        running, done, failed = self.manager.counters()
        try:
            return db_api.task_manager_report(self.member_id, running, done, failed, stopped=stopped)
        except exception.DelfinLikeException as e:
            LOG.warning("Task manager report failed: %s", e)
            return True  # unknown: keep the record, retry at the next report

    def stop(self) -> None:
        """Stop reporting, leave the group and record the stop (with the final counters)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._joined:
            try:
                coordination.leave_group(self._coord(), deployment.membership_group())
            except exception.CoordinationUnavailable:
                pass
            self._joined = False
        if self._registered:
            self.report(stopped=True)
