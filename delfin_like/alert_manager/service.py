"""The trap receiver wired to the platform: alert sources from the database, traps parsed and stored.

* :class:`DbSources` is the receiver's sources provider: ``refresh()`` reads every alert
  source (snmp-config) with its secrets in clear, plus the storage's serial number (for
  the receiver's serial matching). Two queries per refresh, whatever the number of sources.
* :class:`AlertSink` is the receiver's sink: the :class:`ReceivedTrap` becomes the sdk's
  ``TrapInfo``, the storage's driver parses it (``parse_alert`` under the driver manager's
  deadline and error translation) and the alert is recorded with source ``"trap"`` (a
  repeat of the same sequence number bumps ``repeat_count``). Drivers are cached per
  storage and rebuilt when its access info changes; a storage gone closes its driver.
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

from delfin_like import driver_manager
from delfin_like.alert_manager import sync_requests, trap_receiver
from delfin_like.common import exception
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.sdk import exceptions as sdk_exceptions
from delfin_like.sdk import models

LOG = logging.getLogger(__name__)

SINK_COUNTERS = ("recorded", "repeated", "parse_unsupported", "parse_failed", "parse_incomplete", "storage_gone")


class DbSources:
    """``refresh()`` -> the alert sources, secrets in clear, each with its storage's ``serial_number``."""

    def refresh(self) -> list[dict]:
        sources = db_api.alert_source_list(reveal=True)
        if not sources:
            return []
        serials = {s["id"]: s.get("serial_number") for s in db_api.storage_list()}
        out = []
        for source in sources:
            if source["storage_id"] not in serials:  # deleted meanwhile
                continue
            # timestamps change nothing the receiver uses: leave them out of its change digest
            item = {k: v for k, v in source.items() if k not in ("created_at", "updated_at")}
            item["serial_number"] = serials[source["storage_id"]]
            out.append(item)
        return out


class AlertSink:
    """``sink(storage_id, ReceivedTrap)``: parse with the storage's driver, record the alert."""

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
        # storage id -> (access info fingerprint, driver, the driver lists alerts)
        self._drivers: dict[str, tuple[str, object, bool]] = {}
        self._counters = dict.fromkeys(SINK_COUNTERS, 0)

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
        stored = db_api.access_info_get(storage_id)
        key = repr(sorted((k, repr(v)) for k, v in stored.items()))
        cached = self._drivers.get(storage_id)
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        if cached is not None:
            driver_manager.close_quietly(cached[1], f"storage {storage_id}")
        driver = driver_manager.load(driver_manager.access_info_from_stored(stored))
        lists = driver_manager.lists_alerts(stored["vendor"], stored["model"])
        self._drivers[storage_id] = (key, driver, lists)
        return driver, lists

    def _request_sync(self, storage_id: str, lists_alerts: bool) -> None:
        if self.requests is not None and lists_alerts:
            self.requests.request(storage_id)

    def _forget(self, storage_id: str) -> None:
        cached = self._drivers.pop(storage_id, None)
        if cached is not None:
            driver_manager.close_quietly(cached[1], f"storage {storage_id}")

    def __call__(self, storage_id: str, trap: trap_receiver.ReceivedTrap) -> None:
        info = models.TrapInfo(
            source_address=trap.source_address,
            version=trap.version,
            varbinds=trap.varbinds,
            trap_oid=trap.trap_oid,
            engine_id=trap.engine_id,
            community_or_user=trap.community_or_user,
            received_at=trap.received_at,
        )
        try:
            driver, lists_alerts = self._driver(storage_id)
        except exception.StorageNotFound:
            self._forget(storage_id)
            self._count("storage_gone")
            self._log.log(logging.WARNING, "storage_gone", "trap for storage %s dropped: it is gone", storage_id)
            return
        def parse():
            # a driver's own refusal comes back as a value: logged here, rate-limited, not by the wrapper
            try:
                return driver.parse_alert(info)
            except sdk_exceptions.DriverError as e:
                return e

        try:
            alert = driver_manager.call_with_deadline(parse, CONF.storage_driver.timeout, what="parse_alert")
        except exception.DelfinLikeException as e:  # a timeout, or an unexpected error (logged by the wrapper)
            alert = e
        if isinstance(alert, sdk_exceptions.NotSupported):
            self._count("parse_unsupported")
            self._log.log(logging.WARNING, "parse_unsupported",
                          "trap %s from %s for storage %s: its driver does not parse traps",
                          trap.trap_oid, trap.source_address, storage_id)
            self._request_sync(storage_id, lists_alerts)
            return
        if isinstance(alert, sdk_exceptions.AlertIncomplete):
            self._count("parse_incomplete")
            self._log.log(logging.INFO, "parse_incomplete", "trap %s from %s for storage %s not whole (%s): "
                          "its alerts are synced", trap.trap_oid, trap.source_address, storage_id, alert.message)
            self._request_sync(storage_id, lists_alerts)
            return
        if isinstance(alert, (sdk_exceptions.DriverError, exception.DelfinLikeException)):
            self._count("parse_failed")
            self._log.log(logging.WARNING, "parse_failed", "trap %s from %s for storage %s not parsed: %s",
                          trap.trap_oid, trap.source_address, storage_id,
                          getattr(alert, "message", None) or type(alert).__name__)
            self._request_sync(storage_id, lists_alerts)
            return
        if not isinstance(alert, models.Alert):
            self._count("parse_failed")
            self._log.log(logging.WARNING, "parse_failed", "trap %s for storage %s: the driver returned no alert",
                          trap.trap_oid, storage_id)
            self._request_sync(storage_id, lists_alerts)
            return
        try:
            _row, created = db_api.alert_record(storage_id, "trap", alert)
        except (exception.StorageNotFound, exception.StorageBeingDeleted):
            self._forget(storage_id)
            self._count("storage_gone")
            self._log.log(logging.WARNING, "storage_gone", "trap for storage %s dropped: it is gone or being "
                          "deleted", storage_id)
            return
        self._count("recorded" if created else "repeated")

    def close(self) -> None:
        with self._lock:
            drivers, self._drivers = self._drivers, {}
        for storage_id, (_key, driver, _lists) in drivers.items():
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
