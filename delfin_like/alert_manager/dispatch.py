"""The alert dispatcher: delivers the outbox (``alert_deliveries``) to the alert exporters.

It runs in the scheduler leader (and so inside the all-in-one). Each enabled exporter has a lane,
a thread of its own, so a slow or dead exporter only ever delays itself. A lane, every
``[alert_exporters] interval`` (at once again after a full batch):

1. takes the exporter's due deliveries (``batch_size`` alerts' worth) with each alert's *current*
   row, and hands them to the exporter through the fan-out
   (:class:`~delfin_like.exporters.alerts.AlertExporterSet`: its thread, ``timeout``);
   an event-style exporter gets each pending event of an alert (a fire, then the clear that
   followed it; the current state last), a state exporter (alertmanager) the current state once;
2. on success deletes those rows (only in the generation it read: a row queued again meanwhile
   stays), on failure adds an attempt to each and pushes its next attempt by a jittered doubling
   back-off between ``retry_min`` and ``retry_max``; the lane itself waits as long before it tries
   again. The exporter going down is logged once (with the backlog), its coming back once;
3. for an exporter that wants it (alertmanager), re-sends every open alert each ``resend_interval``
   (at once when this process becomes leader), so Alertmanager keeps them active.

Rows are deleted only after the exporter took them: a crash of the dispatcher redelivers them
(at-least-once). Deliveries to exporters no longer enabled are dropped (logged); those older than
``[retention] alert_delivery_max_age`` are given up by the retention run.
"""

import datetime
import random
import threading
import time
from collections.abc import Callable

from oslo_log import log as logging

from delfin_like.common import exception
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.db.sqlalchemy.utils import utcnow
from delfin_like.exporters import alerts as alert_exporters

LOG = logging.getLogger(__name__)

EXPIRE_EVERY = 60.0


def backoff(attempts: int, rng: Callable[[float, float], float] = random.uniform) -> float:
    """Seconds before retry number ``attempts`` (1 = the first retry): ``retry_min`` doubled per
    attempt up to ``retry_max``, less up to 20 % jitter, never below ``retry_min``."""
    low, high = CONF.alert_exporters.retry_min, max(CONF.alert_exporters.retry_min, CONF.alert_exporters.retry_max)
    delay = min(high, low * 2 ** max(0, min(attempts - 1, 60)))
    return max(low, rng(0.8 * delay, delay))


def build_deliveries(rows: list[dict], events: bool) -> list[alert_exporters.AlertDelivery]:
    """The deliveries of outbox ``rows`` (``db.api.alert_deliveries_due``), in delivery order.

    ``events``: one per pending event, an alert's event that is not its current state first;
    else one per alert, with its current state.
    """
    by_alert: dict[str, list[dict]] = {}
    for row in rows:
        by_alert.setdefault(row["alert_uuid"], []).append(row)
    out = []
    for uuid, pending in by_alert.items():
        alert = pending[0]["alert"]
        current = alert_exporters.FIRING if alert["state"] == "open" else alert_exporters.RESOLVED
        if events:
            for row in sorted(pending, key=lambda r: (r["event"] == current, r["created_at"])):
                out.append(alert_exporters.AlertDelivery(
                    alert, row["event"], alert_exporters.delivery_id(uuid, row["event"], row["created_at"],
                                                                     row["generation"])))
        else:
            row = next((r for r in pending if r["event"] == current), pending[0])
            out.append(alert_exporters.AlertDelivery(
                alert, current, alert_exporters.delivery_id(uuid, row["event"], row["created_at"], row["generation"])))
    return out


class _Lane:
    """What the dispatcher knows of one exporter between rounds."""

    def __init__(self, name: str):
        self.name = name
        self.failures = 0
        self.down_since: float | None = None
        self.retry_at = 0.0
        self.next_resend = 0.0
        self.thread: threading.Thread | None = None
        self.delivered = 0


class AlertDispatcher:
    """One lane per enabled alert exporter; see the module docstring."""

    def __init__(self, exporters: alert_exporters.AlertExporterSet | None = None,
                 keep_going: Callable[[], bool] | None = None):
        """:param exporters: the exporters (default: ``[alert_exporters] enabled``, loaded at :meth:`start`).
        :param keep_going: asked before every round; False pauses the lanes (leadership lost)."""
        self.exporters = exporters
        self._keep_going = keep_going or (lambda: True)
        self._lanes: dict[str, _Lane] = {}
        self._stop = threading.Event()
        self._started = False
        self._next_expire = 0.0
        self._lock = threading.Lock()

    # -------------------------------------------------------------- one round (also for tests)

    def _lane(self, name: str) -> _Lane:
        lane = self._lanes.get(name)
        if lane is None:
            lane = self._lanes[name] = _Lane(name)
        return lane

    def run_round(self, name: str) -> dict:
        """Deliver one batch of ``name``'s due deliveries. :returns: ``{"delivered", "failed"}`` (rows)."""
        lane = self._lane(name)
        rows = db_api.alert_deliveries_due(name, CONF.alert_exporters.batch_size)
        if not rows:
            return {"delivered": 0, "failed": 0}
        plugin = self.exporters.plugin(name)
        deliveries = build_deliveries(rows, plugin.events)
        outcome = self.exporters.deliver(name, deliveries, f"{len(deliveries)} alert deliveries")
        if outcome.ok:
            db_api.alert_deliveries_settle(name, [(r["alert_uuid"], r["event"], r["generation"]) for r in rows])
            lane.delivered += len(deliveries)
            self._went_well(lane)
            LOG.debug("Delivered %d alert states to %s", len(deliveries), name)
            return {"delivered": len(rows), "failed": 0}
        now = utcnow()
        db_api.alert_deliveries_settle(
            name, [],
            [(r["alert_uuid"], r["event"], now + datetime.timedelta(seconds=backoff(r["attempts"] + 1))) for r in rows],
            outcome.error)
        self._went_wrong(lane, outcome.error)
        return {"delivered": 0, "failed": len(rows)}

    def resend_open(self, name: str) -> int:
        """Send every open alert to ``name`` again, in pages; :returns: how many (raises nothing: a
        failed page marks the exporter down and the re-send is tried again with the back-off)."""
        lane = self._lane(name)
        after, sent = None, 0
        size = CONF.alert_exporters.batch_size
        while not self._stop.is_set():
            page = db_api.alerts_open_page(after, size)
            if not page:
                break
            deliveries = [alert_exporters.AlertDelivery(a, alert_exporters.FIRING,
                                                        alert_exporters.delivery_id(a["id"], "resend", None, 0))
                          for a in page]
            outcome = self.exporters.deliver(name, deliveries, f"a re-send of {len(page)} open alerts")
            if not outcome.ok:
                self._went_wrong(lane, outcome.error)
                return sent
            sent += len(page)
            after = page[-1]["id"]
            if len(page) < size:
                break
        lane.next_resend = time.monotonic() + CONF.alert_exporters.resend_interval
        if sent:
            self._went_well(lane)
            LOG.debug("Re-sent %d open alerts to %s", sent, name)
        return sent

    def _backlog(self, name: str) -> int:
        try:
            return db_api.alert_deliveries_backlog().get(name, {}).get("pending", 0)
        except exception.DelfinLikeException:
            return -1

    def _went_wrong(self, lane: _Lane, error: str | None) -> None:
        lane.failures += 1
        delay = backoff(lane.failures)
        lane.retry_at = time.monotonic() + delay
        if lane.down_since is None:
            lane.down_since = time.monotonic()
            LOG.warning("Alert exporter %s is failing (%s); %d deliveries wait, retried with back-off up to %g s",
                        lane.name, error, self._backlog(lane.name), CONF.alert_exporters.retry_max)
        else:
            LOG.debug("Alert exporter %s still failing (attempt %d, next in %.1f s): %s",
                      lane.name, lane.failures, delay, error)

    def _went_well(self, lane: _Lane) -> None:
        if lane.down_since is not None:
            LOG.info("Alert exporter %s delivers again after %.0f s and %d failed attempts; %d deliveries wait",
                     lane.name, time.monotonic() - lane.down_since, lane.failures, self._backlog(lane.name))
        lane.failures = 0
        lane.down_since = None
        lane.retry_at = 0.0

    def expire_disabled(self) -> dict[str, int]:
        """Drop the deliveries queued for exporters that are not enabled any more."""
        dropped = db_api.alert_deliveries_expire(list(dict.fromkeys(CONF.alert_exporters.enabled)))
        for name, count in dropped.items():
            LOG.warning("Dropped %d alert deliveries to %s: it is no longer an enabled alert exporter", count, name)
        return dropped

    # -------------------------------------------------------------- the lanes

    def start(self) -> None:
        """Load the exporters (unless given) and start one lane per exporter; idempotent."""
        with self._lock:
            if self._started:
                return
            self._started = True
            self._stop.clear()
            if self.exporters is None:
                self.exporters = alert_exporters.AlertExporterSet()
            for name in self.exporters.names:
                lane = self._lane(name)
                lane.thread = threading.Thread(target=self._run_lane, args=(lane,), name=f"alert-dispatch-{name}",
                                               daemon=True)
                lane.thread.start()
            if self.exporters.names:
                LOG.info("Alert dispatcher started for %s (every %g s, batches of %d)",
                         ", ".join(self.exporters.names), CONF.alert_exporters.interval,
                         CONF.alert_exporters.batch_size)

    def reset(self) -> None:
        """Re-send at the next chance (a new leader re-sends every open alert at once)."""
        for lane in self._lanes.values():
            lane.next_resend = 0.0

    def maybe_expire(self, clock: float) -> None:
        """Every ``EXPIRE_EVERY`` s of ``clock``: :meth:`expire_disabled` (logged, never raises)."""
        if clock < self._next_expire:
            return
        self._next_expire = clock + EXPIRE_EVERY
        try:
            self.expire_disabled()
        except exception.DelfinLikeException as e:
            LOG.warning("Could not drop deliveries to disabled alert exporters: %s", e)

    def _run_lane(self, lane: _Lane) -> None:
        while not self._stop.is_set():
            wait = CONF.alert_exporters.interval
            try:
                backing_off = lane.retry_at - time.monotonic()
                if backing_off > 0:
                    wait = backing_off
                elif self._keep_going():
                    wait = self._lane_step(lane)
            except exception.DelfinLikeException as e:
                LOG.warning("Alert dispatch to %s failed: %s", lane.name, e)
            except Exception:  # noqa: BLE001 - the lane must outlive any one bad round
                LOG.exception("Alert dispatch to %s crashed", lane.name)
            if self._stop.wait(wait):
                return

    def _lane_step(self, lane: _Lane) -> float:
        """One round of a lane; returns how long to wait before the next."""
        plugin = self.exporters.plugin(lane.name)
        if plugin.resend and time.monotonic() >= lane.next_resend:
            self.resend_open(lane.name)
            if lane.down_since is not None:
                return max(0.0, lane.retry_at - time.monotonic())
        result = self.run_round(lane.name)
        if result["failed"]:
            return max(0.0, lane.retry_at - time.monotonic())
        # a full batch: more may be due at once
        return 0.0 if result["delivered"] >= CONF.alert_exporters.batch_size else CONF.alert_exporters.interval

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every lane (a call in flight finishes on its own) and close the exporters."""
        self._stop.set()
        for lane in self._lanes.values():
            if lane.thread is not None:
                lane.thread.join(timeout)
                lane.thread = None
        with self._lock:
            if self._started and self.exporters is not None:
                self.exporters.close()
            self._started = False

    @property
    def lanes(self) -> dict[str, dict]:
        """Per exporter: ``{"failures", "down", "delivered"}`` (tests, logs)."""
        return {n: {"failures": lane.failures, "down": lane.down_since is not None, "delivered": lane.delivered}
                for n, lane in self._lanes.items()}

