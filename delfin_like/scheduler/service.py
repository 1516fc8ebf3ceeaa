"""The scheduler: periodic and one-shot syncs, and the re-dispatch that makes delivery at-least-once.

Several ``delfin-like-scheduler`` processes may run; a tooz election picks the
one that acts (:class:`~delfin_like.coordination.LeaderElection`), and a
follower takes over within ``[scheduler] leader_timeout`` when the leader
dies (at once when it stops: SIGTERM resigns). Every tick the leader

* fires the due schedules (:mod:`delfin_like.scheduler.schedules`; exactly
  once per due time even if two schedulers briefly both act),
* casts every waiting task again when the first task manager joins an empty
  membership group (casts made while none was up may have gone nowhere),
* and, every re-dispatch interval, casts again the RUNNING tasks whose lease
  expired, the PENDING ones nobody claimed, and those whose retry back-off is
  over (RPC casts are at-most-once; the ``tasks`` table is the truth),
* and, every ``[retention] interval``, prunes old records in a thread of its own
  (:mod:`delfin_like.scheduler.retention`),
* and, with each re-dispatch scan, gives every storage that has no periodic alert sync schedule
  (registered before there was one) its schedule, due at once (one read when none is missing);
* and runs the alert dispatcher (:mod:`delfin_like.alert_manager.dispatch`): the outbox of alert
  deliveries goes to the alert exporters from lanes of their own, paused while it does not lead.

The all-in-one runs it without an election: it is the only process.
"""

import threading
import time

from oslo_context import context as oslo_context
from oslo_log import log as logging
from oslo_service import service

from delfin_like import coordination, deployment
from delfin_like.alert_manager import dispatch
from delfin_like.common import exception
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.rpc import client as rpc_client
from delfin_like.scheduler import retention, schedules

LOG = logging.getLogger(__name__)


def scan_interval() -> float:
    """Seconds between re-dispatch scans: ``[scheduler] redispatch_interval``, else a third of
    the shorter of the re-dispatch delay and the lease."""
    if CONF.scheduler.redispatch_interval:
        return CONF.scheduler.redispatch_interval
    return max(1.0, min(CONF.task_manager.redispatch_after, CONF.task_manager.lease_seconds) / 3)


def _cast_all(rpcapi: rpc_client.TaskAPI, tasks: list[dict], why: str) -> int:
    """Cast ``tasks``; stops at the first bus failure (the rest wait for the next scan)."""
    cast = 0
    ctxt = oslo_context.RequestContext()
    for task in tasks:
        try:
            rpcapi.run_task(ctxt, task)
            cast += 1
        except exception.MessageBusUnavailable:
            LOG.warning("Message bus unavailable; %d task(s) wait for the next scan", len(tasks) - cast)
            break
    if tasks:
        LOG.info("%s: cast %d of %d task(s)", why, cast, len(tasks))
    return cast


class Redispatcher:
    """One scan at a time of the tasks that need casting again."""

    def __init__(self, rpcapi: rpc_client.TaskAPI | None = None):
        self.rpcapi = rpcapi or rpc_client.TaskAPI()

    def scan_once(self) -> int:
        """Cast every task due for re-dispatch; returns how many were cast."""
        try:
            tasks = db_api.tasks_to_redispatch(
                CONF.task_manager.redispatch_after, max_attempts=CONF.task_manager.max_attempts
            )
        except exception.DelfinLikeException as e:
            LOG.warning("Re-dispatch scan failed: %s", e)
            return 0
        return _cast_all(self.rpcapi, tasks, "Re-dispatch")

    def cast_waiting(self) -> int:
        """Cast every PENDING task outside a retry back-off (a task manager just joined)."""
        try:
            tasks = db_api.tasks_pending_to_cast()
        except exception.DelfinLikeException as e:
            LOG.warning("Could not list the waiting tasks: %s", e)
            return 0
        return _cast_all(self.rpcapi, tasks, "A task manager joined")


class Scheduler:
    """What one scheduler process does at each tick; acts only while it leads (or without election)."""

    def __init__(
        self, rpcapi: rpc_client.TaskAPI | None = None, elect: bool = True, redispatch_interval: float | None = None
    ):
        """:param elect: take part in the leader election (False: always act, the all-in-one);
        :param redispatch_interval: seconds between re-dispatch scans, default :func:`scan_interval`."""
        self.rpcapi = rpcapi or rpc_client.TaskAPI()
        self.elect = elect
        self.redispatcher = Redispatcher(self.rpcapi)
        self.firer = schedules.ScheduleFirer(self.rpcapi)
        # a run stops between batches once this scheduler no longer leads
        self.retention = retention.Retention(keep_going=lambda: self.is_leader)
        # started at the first tick it leads; its lanes pause while another scheduler leads
        self.alert_dispatch = dispatch.AlertDispatcher(keep_going=lambda: self.is_leader)
        self._redispatch_interval = redispatch_interval
        self.coordinator: coordination.Coordinator | None = None
        self.election: coordination.LeaderElection | None = None
        self._members: set[str] | None = None
        self._next_scan = 0.0

    def open(self) -> None:
        """Connect to the coordination backend for the election (after fork); retried at each tick."""
        if not self.elect:
            return
        timeout = CONF.scheduler.leader_timeout
        url = coordination.with_lock_timeout(coordination.backend_url(), timeout)
        # beat three times per lock timeout: two beats may fail before the lead lapses
        self.coordinator = coordination.Coordinator(url, heartbeat_interval=max(0.2, timeout / 3))
        self.election = coordination.LeaderElection(self.coordinator, deployment.election_group())
        self._connect()

    def _connect(self) -> bool:
        if self.coordinator.started:
            return True
        try:
            self.coordinator.start()
            return True
        except exception.CoordinationUnavailable:
            LOG.warning("Coordination backend unavailable; the election waits for it")
            return False

    @property
    def is_leader(self) -> bool:
        return not self.elect or bool(self.election and self.election.is_leader)

    def _lead(self) -> bool:
        """Campaign (or check the lead); True when this scheduler should act now."""
        if not self.elect:
            return True
        if not self._connect():
            return False
        was = self.election.is_leader
        leads = self.election.campaign()
        if leads and not was:
            # a new leader scans at once and learns the membership from scratch
            self._next_scan = 0.0
            self._members = None
            self.retention.reset()
            self.alert_dispatch.reset()
        return leads

    def tick(self) -> None:
        """One round: fire due schedules, notice task managers joining, re-dispatch when its time has come."""
        if not self._lead():
            return
        try:
            counts = self.firer.fire_due()
            if counts["lost"]:
                LOG.info("%d due schedule(s) were fired by another scheduler or changed", counts["lost"])
        except exception.DelfinLikeException as e:
            LOG.warning("Due-schedule scan failed: %s", e)
        self._watch_members()
        self.retention.maybe_start(time.monotonic())
        self.alert_dispatch.start()
        self.alert_dispatch.maybe_expire(time.monotonic())
        if time.monotonic() >= self._next_scan:
            self._next_scan = time.monotonic() + (self._redispatch_interval or scan_interval())
            self.redispatcher.scan_once()
            self._ensure_alert_sync_schedules()
            try:
                pruned = db_api.task_managers_prune(CONF.scheduler.task_manager_retention)
                if pruned:
                    LOG.info(
                        "Forgot %d task manager(s) silent for over %d s", pruned, CONF.scheduler.task_manager_retention
                    )
            except exception.DelfinLikeException as e:
                LOG.warning("Pruning task manager records failed: %s", e)

    @staticmethod
    def _ensure_alert_sync_schedules() -> None:
        try:
            created = db_api.alert_sync_schedules_ensure(CONF.alert_sync.interval)
        except exception.DelfinLikeException as e:
            LOG.warning("Creating the missing alert sync schedules failed: %s", e)
            return
        if created:
            LOG.info("Created the periodic alert sync schedule of %d storage(s) that had none (every %d s, "
                     "first due now)", created, CONF.alert_sync.interval)

    def _watch_members(self) -> None:
        if self.coordinator is None or not self.coordinator.started:
            return
        try:
            members = coordination.group_members(self.coordinator, deployment.membership_group())
        except exception.CoordinationUnavailable as e:
            LOG.debug("Membership not readable: %s", e)
            return
        previous, self._members = self._members, members
        if previous is None:
            return
        if members - previous:
            LOG.info("Task manager(s) joined: %s", ", ".join(sorted(members - previous)))
        if not previous and members:
            self.redispatcher.cast_waiting()

    def close(self) -> None:
        """Stop a retention run and the alert dispatcher, resign at once (a follower takes over at its
        next tick) and disconnect."""
        self.retention.stop()
        self.alert_dispatch.stop()
        if self.election is not None:
            self.election.resign()
        if self.coordinator is not None:
            self.coordinator.stop()


class SchedulerService(service.Service):
    """oslo.service wrapper running :class:`Scheduler` ticks in a thread."""

    def __init__(self, rpcapi: rpc_client.TaskAPI | None = None, interval: float | None = None, elect: bool = False):
        """:param interval: seconds between re-dispatch scans, default :func:`scan_interval`;
        :param elect: take part in the leader election (``delfin-like-scheduler``)."""
        super().__init__()
        self._rpcapi = rpcapi
        self._interval = interval
        self._elect = elect
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.scheduler: Scheduler | None = None

    @property
    def redispatcher(self) -> Redispatcher | None:
        return self.scheduler.redispatcher if self.scheduler else None

    def start(self) -> None:
        """Start ticking (after fork)."""
        super().start()
        self.scheduler = Scheduler(self._rpcapi, elect=self._elect, redispatch_interval=self._interval)
        self.scheduler.open()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()
        LOG.info(
            "Scheduler started (%s); due schedules every %g s, re-dispatch every %g s",
            f"election {deployment.election_group()}" if self._elect else "no election",
            CONF.scheduler.tick_interval,
            self._interval or scan_interval(),
        )

    def _loop(self) -> None:
        while True:
            try:
                self.scheduler.tick()
            except Exception:  # noqa: BLE001 - the loop must outlive any one bad tick
                LOG.exception("Scheduler tick crashed")
            if self._stop.wait(CONF.scheduler.tick_interval):
                return

    def stop(self, graceful: bool = True) -> None:
        """Stop ticking (a tick in progress finishes its casts) and resign the leadership."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self.scheduler is not None:
            self.scheduler.close()
        super().stop(graceful)
