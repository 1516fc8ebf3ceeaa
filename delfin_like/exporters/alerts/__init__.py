"""Alert exporters (issue 14, alerts out): the second plugin family, namespace ``delfin_like.alert_exporters``.

An alert exporter receives a list of :class:`AlertDelivery` (at most ``[alert_exporters]
batch_size``) and either returns (all of them are delivered) or raises (none is). It declares

* ``events``: True when every event must reach it, a fire and the clear that followed it
  (``jsonl``, ``notification``, ``log``); False when only the alert's current state matters
  (``alertmanager``: a pending fire of an alert cleared since goes out as resolved);
* ``resend``: True when it wants every open alert again each ``[alert_exporters] resend_interval``
  (``alertmanager``, whose alerts end on their own unless renewed).

:class:`AlertExporterSet` is :class:`delfin_like.exporters.base.Fanout` over that namespace: each
exporter in its own thread, ``[alert_exporters] timeout`` per call, one failing never blocking another.
The deliveries come from the outbox (:mod:`delfin_like.alert_manager.dispatch`).
"""

import abc
import dataclasses
import datetime
import uuid
from collections.abc import Iterable, Mapping, Sequence

from delfin_like.conf import CONF
from delfin_like.exporters import base

NAMESPACE = "delfin_like.alert_exporters"
PAYLOAD_VERSION = 1
FIRING = "firing"
RESOLVED = "resolved"
_DELIVERY_NAMESPACE = uuid.UUID("3f0c59a4-6a43-4f7e-9b8e-2b1f2b8a4c11")


def delivery_id(alert_uuid: str, event: str, queued_at: datetime.datetime | None, generation: int) -> str:
    """The id of one delivery: a redelivery of the same outbox row (after a crash) keeps it, so a
    consumer can drop duplicates."""
    stamp = queued_at.isoformat() if queued_at is not None else ""
    return str(uuid.uuid5(_DELIVERY_NAMESPACE, f"{alert_uuid}/{event}/{stamp}/{generation}"))


def iso(value: datetime.datetime | None) -> str | None:
    """A stored (naive UTC) timestamp as RFC 3339 with ``Z``."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"


@dataclasses.dataclass(frozen=True, slots=True)
class AlertDelivery:
    """One state of one alert to deliver: ``status`` ``firing`` or ``resolved``; ``alert`` is the
    alert's current row (``db.api`` fields plus ``storage_name``)."""

    alert: Mapping
    status: str
    delivery_id: str

    @property
    def alert_uuid(self) -> str:
        return self.alert["id"]

    def to_payload(self) -> dict:
        """A JSON-able dict (the jsonl line, the notification payload): timestamps RFC 3339."""
        fields = {k: iso(v) if isinstance(v, datetime.datetime) else v for k, v in self.alert.items()}
        return {"version": PAYLOAD_VERSION, "delivery_id": self.delivery_id, "status": self.status, "alert": fields}


class AlertExporter(abc.ABC):
    """One destination of alerts. Constructed without arguments; reads CONF at call time."""

    #: the stevedore name, set by :class:`AlertExporterSet` when it loads the plugin
    name = "alert_exporter"
    #: every event (a fire and its clear) reaches it, or only the current state
    events = True
    #: it wants the open alerts re-sent every ``resend_interval``
    resend = False

    @abc.abstractmethod
    def export_alerts(self, deliveries: Sequence[AlertDelivery]) -> None:
        """Deliver every one of ``deliveries``; return only once they are delivered, raise on any failure.

        Must be safe to repeat: a delivery may come again after a crash (at-least-once).
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and files."""


class AlertExporterSet(base.Fanout):
    """The enabled alert exporters, each in its own worker thread."""

    namespace = NAMESPACE
    kind = "Alert exporter"

    def __init__(self, names: Iterable[str] | None = None, exporters: Mapping[str, AlertExporter] | None = None):
        """:param names: stevedore names to load (default ``[alert_exporters] enabled``).
        :param exporters: ready instances by name instead of loading (tests, benchmarks)."""
        super().__init__(names, exporters)

    def default_names(self) -> list[str]:
        return list(dict.fromkeys(CONF.alert_exporters.enabled))

    def deliver(self, name: str, deliveries: Sequence[AlertDelivery], what: str = "alerts") -> base.Outcome:
        """Hand ``deliveries`` to exporter ``name`` in its thread; wait up to ``[alert_exporters] timeout``."""
        return self.call_each({name: lambda e: e.export_alerts(deliveries)}, CONF.alert_exporters.timeout,
                              len(deliveries), what)[name]

    def log_failure(self, name: str, what: str, items: int, error: str) -> None:
        """The dispatcher logs an exporter going down and coming back (rate-limited); nothing per call."""
