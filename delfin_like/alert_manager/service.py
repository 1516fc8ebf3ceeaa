"""The trap receiver wired to the platform: alert sources from the database, traps parsed and stored.

* :class:`DbSources` is the receiver's sources provider: ``refresh()`` reads every alert
  source (snmp-config) with its secrets in clear, plus the storage's serial number (for
  the receiver's serial matching). One query per refresh, whatever the number of sources.
* :class:`AlertSink` is the receiver's sink: the :class:`ReceivedTrap` becomes the sdk's
  ``TrapInfo``, the storage's driver parses it (``parse_alert`` under the driver manager's
  deadline and error translation) and the alert is recorded with source ``"trap"`` (a
  repeat of the same sequence number bumps ``repeat_count``; an event an alert sync stored is
  the same alert). The receiver hands it the traps queued meanwhile together (``many``): one
  transaction per batch. Drivers are cached per storage and rebuilt when its access info
  changes; a storage gone closes its driver.
  A driver that cannot parse the trap, or a parse that fails, is counted and logged
  (rate-limited); it never stops the receiver. Such a trap (the parse failed, the driver
  raised the sdk's ``AlertIncomplete`` or parses no traps) of a storage whose driver lists
  alerts requests an alert sync of it (:mod:`delfin_like.alert_manager.sync_requests`):
  the array's event log has what the trap did not carry.
* :class:`AlertReceiverService` is the oslo.service child that runs both.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent import futures

from delfin_like import driver_manager
from delfin_like.alert_manager import sync_requests, trap_receiver
from delfin_like.common import exception
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.sdk import cancel, models
from delfin_like.sdk import exceptions as sdk_exceptions

LOG = logging.getLogger(__name__)

SINK_COUNTERS = ("recorded", "repeated", "parse_unsupported", "parse_failed", "parse_incomplete", "storage_gone")


class DbSources:
    """``refresh()`` -> the alert sources, secrets in clear, each with its storage's ``serial_number``."""

    def refresh(self) -> list[dict]:
        # one query joined to the storages; no timestamps, which change nothing the receiver uses
        # (they would only move its change digest)
        return db_api.alert_sources_for_receivers()


class AlertSink:
    """``sink(storage_id, ReceivedTrap)`` or ``sink.many([(storage_id, trap), ...])``: parse each with
    its storage's driver, record the alerts (one transaction per batch).

    Drivers are cached per storage; the cached one is checked against the stored access info at
    most every ``DRIVER_CHECK_SECONDS`` (a change applies within that time, a deleted storage at
    its first trap). Parses run on a small persistent pool of threads, a batch's in one call within
    ``[storage_driver] timeout`` (a hung parse is told to stop and counted ``parse_failed``; the
    traps after it in the batch are parsed one by one, each within the timeout).
    """

    DRIVER_CHECK_SECONDS = 2.0
    PARSE_THREADS = 2

    def __init__(self, log_interval: float | None = None, log_burst: int | None = None,
                 requests: sync_requests.AlertSyncRequests | None = None):
        """:param requests: where alert syncs are requested for traps not parsed whole; None: never."""
        opts = CONF.alert_receiver
        self.requests = requests
        self._log = trap_receiver.RateLimitedLog(
            LOG, opts.log_interval if log_interval is None else log_interval,
            opts.log_burst if log_burst is None else log_burst,
        )
        self._lock = threading.Lock()
        # storage id -> (access info fingerprint, driver, the driver lists alerts, monotonic time last checked)
        self._drivers: dict[str, tuple[str, object, bool, float]] = {}
        self._counters = dict.fromkeys(SINK_COUNTERS, 0)
        self._pool = futures.ThreadPoolExecutor(self.PARSE_THREADS, thread_name_prefix="trap-parse")

    def counters(self) -> dict[str, int]:
        with self._lock:
            out = dict(self._counters)
        if self.requests is not None:
            out.update(self.requests.counters())
        return out

    def _count(self, name: str) -> None:
        with self._lock:
            self._counters[name] += 1

    def _driver(self, storage_id: str):
        """``(driver, lists alerts)`` of the storage, cached while its access info stays the same."""
        cached = self._drivers.get(storage_id)
        now = time.monotonic()
        if cached is not None and now - cached[3] < self.DRIVER_CHECK_SECONDS:
            return cached[1], cached[2]
        stored = db_api.access_info_get(storage_id)
        key = repr(sorted((k, repr(v)) for k, v in stored.items()))
        if cached is not None and cached[0] == key:
            self._drivers[storage_id] = (key, cached[1], cached[2], now)
            return cached[1], cached[2]
        if cached is not None:
            driver_manager.close_quietly(cached[1], f"storage {storage_id}")
        driver = driver_manager.load(driver_manager.access_info_from_stored(stored))
        lists = driver_manager.lists_alerts(stored["vendor"], stored["model"])
        self._drivers[storage_id] = (key, driver, lists, now)
        return driver, lists

    def _request_sync(self, storage_id: str, lists_alerts: bool) -> None:
        if self.requests is not None and lists_alerts:
            self.requests.request(storage_id)

    def _forget(self, storage_id: str) -> None:
        cached = self._drivers.pop(storage_id, None)
        if cached is not None:
            driver_manager.close_quietly(cached[1], f"storage {storage_id}")

    def _gone(self, storage_id: str) -> None:
        self._forget(storage_id)
        self._count("storage_gone")
        self._log.log(logging.WARNING, "storage_gone", "trap for storage %s dropped: it is gone or being "
                      "deleted", storage_id)

    @staticmethod
    def _parse_one(driver, info: models.TrapInfo):
        """The driver's parse of ``info`` in the caller's cancel scope: an Alert, or the error as a value."""

        def own_refusal():
            # a driver's own refusal comes back as a value: logged by the caller, rate-limited, not by the wrapper
            try:
                return driver.parse_alert(info)
            except sdk_exceptions.DriverError as e:
                return e

        try:
            return driver_manager.call(own_refusal, what="parse_alert")
        except exception.DelfinLikeException as e:  # unexpected errors, logged by the wrapper
            return e

    def _renew_pool(self) -> None:
        # the hung thread is left to stop at its driver's next cancel check: fresh threads for the next traps
        self._pool.shutdown(wait=False)
        self._pool = futures.ThreadPoolExecutor(self.PARSE_THREADS, thread_name_prefix="trap-parse")

    def _call_parse(self, driver, info: models.TrapInfo):
        """The driver's parse of ``info`` within the deadline: an Alert, or the error as a value."""
        timeout = CONF.storage_driver.timeout
        token = cancel.Token(timeout, what="driver parse_alert")

        def parse():
            with cancel.scope(token):
                return self._parse_one(driver, info)

        future = self._pool.submit(parse)
        try:
            return future.result(timeout)
        except futures.TimeoutError:
            token.cancel(f"no answer within {timeout:g} s")
            self._renew_pool()
            return exception.BackendUnreachable(f"no answer within {timeout:g} s")

    def _call_parse_many(self, jobs: list) -> list:
        """The parses of ``jobs`` (``(driver, TrapInfo)``) in one pool call, the deadline applied to the
        batch: one result per job, as :meth:`_call_parse`. When the batch runs out of time, the parse
        it was in gets the timeout and the rest are parsed one by one, each within its own deadline:
        a hung parse never costs the others."""
        if len(jobs) == 1:
            return [self._call_parse(*jobs[0])]
        timeout = CONF.storage_driver.timeout
        token = cancel.Token(timeout, what="driver parse_alert")
        done: list = []

        def parse_all():
            with cancel.scope(token):
                for driver, info in jobs:
                    if token.expired:
                        break
                    done.append(self._parse_one(driver, info))
            return done

        future = self._pool.submit(parse_all)
        try:
            return future.result(timeout)
        except futures.TimeoutError:
            finished = done[:]  # before the cancel: the parse in progress at the deadline is the one timed out
            token.cancel(f"no answer within {timeout:g} s")
            self._renew_pool()
            if len(finished) == len(jobs):
                return finished
            out = [*finished, exception.BackendUnreachable(f"no answer within {timeout:g} s")]
            return out + [self._call_parse(driver, info) for driver, info in jobs[len(out):]]

    def _info(self, trap: trap_receiver.ReceivedTrap) -> models.TrapInfo:
        return models.TrapInfo(
            source_address=trap.source_address,
            version=trap.version,
            varbinds=trap.varbinds,
            trap_oid=trap.trap_oid,
            engine_id=trap.engine_id,
            community_or_user=trap.community_or_user,
            received_at=trap.received_at,
        )

    def _outcome(self, storage_id: str, trap: trap_receiver.ReceivedTrap, lists_alerts: bool, alert):
        """``alert`` (a parse's result) when it is an Alert; else None, counted and logged."""
        if isinstance(alert, sdk_exceptions.NotSupported):
            self._count("parse_unsupported")
            self._log.log(logging.WARNING, "parse_unsupported",
                          "trap %s from %s for storage %s: its driver does not parse traps",
                          trap.trap_oid, trap.source_address, storage_id)
            self._request_sync(storage_id, lists_alerts)
            return None
        if isinstance(alert, sdk_exceptions.AlertIncomplete):
            self._count("parse_incomplete")
            self._log.log(logging.INFO, "parse_incomplete", "trap %s from %s for storage %s not whole (%s): "
                          "its alerts are synced", trap.trap_oid, trap.source_address, storage_id, alert.message)
            self._request_sync(storage_id, lists_alerts)
            return None
        if isinstance(alert, (sdk_exceptions.DriverError, exception.DelfinLikeException)):
            self._count("parse_failed")
            self._log.log(logging.WARNING, "parse_failed", "trap %s from %s for storage %s not parsed: %s",
                          trap.trap_oid, trap.source_address, storage_id,
                          getattr(alert, "message", None) or type(alert).__name__)
            self._request_sync(storage_id, lists_alerts)
            return None
        if not isinstance(alert, models.Alert):
            self._count("parse_failed")
            self._log.log(logging.WARNING, "parse_failed", "trap %s for storage %s: the driver returned no alert",
                          trap.trap_oid, storage_id)
            self._request_sync(storage_id, lists_alerts)
            return None
        return alert

    def many(self, batch) -> None:
        """Parse every ``(storage_id, ReceivedTrap)`` of ``batch``; record the alerts in one transaction
        (source ``trap``: a repeat of an event's sequence number, trapped or synced, bumps its row)."""
        jobs, wanted = [], []
        for storage_id, trap in batch:
            try:
                driver, lists_alerts = self._driver(storage_id)
            except exception.StorageNotFound:
                self._gone(storage_id)
                continue
            jobs.append((driver, self._info(trap)))
            wanted.append((storage_id, trap, lists_alerts))
        records = []
        for (storage_id, trap, lists_alerts), alert in zip(wanted, self._call_parse_many(jobs) if jobs else [],
                                                            strict=True):
            alert = self._outcome(storage_id, trap, lists_alerts, alert)
            if alert is not None:
                records.append((storage_id, "trap", alert))
        if not records:
            return
        outcomes = db_api.alert_record_many(records, want_rows=False)
        for (storage_id, _, _), outcome in zip(records, outcomes, strict=True):
            if isinstance(outcome, (exception.StorageNotFound, exception.StorageBeingDeleted)):
                self._gone(storage_id)
            elif isinstance(outcome, exception.InvalidInput):  # e.g. the driver gave no sequence number
                self._count("parse_failed")
                self._log.log(logging.WARNING, "parse_failed", "a trap for storage %s not stored: %s",
                              storage_id, outcome.msg)
            else:
                self._count("recorded" if outcome[1] else "repeated")

    def __call__(self, storage_id: str, trap: trap_receiver.ReceivedTrap) -> None:
        self.many([(storage_id, trap)])

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            drivers, self._drivers = self._drivers, {}
        for storage_id, (_key, driver, _lists, _at) in drivers.items():
            driver_manager.close_quietly(driver, f"storage {storage_id}")


class AlertReceiverService:
    """An oslo.service child: the trap receiver on ``[alert_receiver]`` host/port with the db sources and sink.

    :param required: a socket that cannot be bound fails :meth:`start` (the standalone receiver);
        False logs the error and runs without it (the all-in-one keeps its API).
    """

    def __init__(self, host: str | None = None, port: int | None = None, required: bool = True, rpcapi=None):
        """:param rpcapi: casts the alert syncs requested for traps not parsed whole (default: a
        TaskAPI on this process's transport, ``transport_url``)."""
        self.requests = sync_requests.AlertSyncRequests(rpcapi)
        self.sink = AlertSink(requests=self.requests)
        self.receiver = trap_receiver.TrapReceiver(DbSources(), self.sink, host=host, port=port)
        self.required = required
        self.running = False

    def counters(self) -> dict[str, int]:
        return {**self.receiver.counters(), **self.sink.counters()}

    def metric_families(self):
        from prometheus_client.core import CounterMetricFamily

        families = trap_receiver.metric_families(self.receiver.counters())
        counters = self.sink.counters()
        # with delfin_like_trap_alerts_sync_requested_total...: alert syncs requested for traps not parsed whole
        for name in (*SINK_COUNTERS, *sync_requests.COUNTERS):
            family = CounterMetricFamily(f"delfin_like_trap_alerts_{name}",
                                         f"SNMP traps handed to drivers: {name.replace('_', ' ')}",
                                         labels=("receiver",))
            family.add_metric(("default",), counters.get(name, 0))
            families.append(family)
        return families

    def start(self) -> None:
        try:
            self.receiver.start()
        except OSError as e:
            if self.required:
                raise
            LOG.error("The trap receiver cannot listen on %s:%s (%s): running without it",
                      self.receiver.host, self.receiver.port, e)
            return
        self.requests.start()
        self.running = True

    def stop(self, graceful: bool = True) -> None:
        if self.running:
            self.receiver.stop()
            self.requests.stop()
            self.running = False
        self.sink.close()

    def wait(self) -> None:
        """Nothing to wait for: the receiver's threads stop in :meth:`stop`."""

    def reset(self) -> None:
        """Options are read at start."""
