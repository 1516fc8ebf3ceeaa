"""``notification``: each batch as one oslo.messaging notification, for Ceilometer-style consumers.

Event type ``delfin_like.metrics``, priority INFO, message format 2.0, on the
bus and topics of oslo.messaging's ``[oslo_messaging_notifications]``
(``transport_url``, default the RPC one; ``topics``, default ``notifications``):
a consumer listens on ``<topic>.info``. The payload is
:meth:`MetricBatch.to_payload <delfin_like.exporters.base.MetricBatch.to_payload>`;
the envelope's ``message_id`` is the batch id, the same for every redelivery of a
window, so a consumer can drop duplicates.

Delivery is at-least-once: a batch counts as delivered only when the broker
took it. oslo.messaging's public ``Notifier`` (and its drivers) log and swallow
send errors, so this exporter hands the message to the transport itself and
lets a failure raise; the outbox then keeps the batch for the next attempt.
"""

import threading

from oslo_utils import timeutils

# the rpc package selects oslo.service's threading backend; oslo_messaging is imported after it
from delfin_like import rpc  # noqa: F401
from delfin_like.conf import CONF
from delfin_like.exporters import base

EVENT_TYPE = "delfin_like.metrics"
PRIORITY = "info"


class NotificationExporter(base.Exporter):
    def __init__(self):
        self._lock = threading.Lock()
        self._transport = None

    def _get_transport(self):
        with self._lock:
            if self._transport is None:
                import oslo_messaging

                self._transport = oslo_messaging.get_notification_transport(CONF)
            return self._transport

    @staticmethod
    def message(batch: base.MetricBatch) -> dict:
        """The notification (format 2.0 fields) of one batch."""
        return {
            "message_id": batch.batch_id,
            "publisher_id": f"delfin_like.task.{CONF.host}",
            "event_type": EVENT_TYPE,
            "priority": PRIORITY.upper(),
            "payload": batch.to_payload(),
            "timestamp": str(timeutils.utcnow()),
        }

    def export(self, batch: base.MetricBatch) -> None:
        """Send one notification per configured topic; raises if the broker did not take it."""
        self.send(self.message(batch))

    def send(self, message: dict, retry: int | None = None) -> None:
        """Send one format-2.0 ``message`` to ``<topic>.info`` of every configured topic; raises if the
        broker did not take it (the alert exporter of the same name sends through this too)."""
        import oslo_messaging

        transport = self._get_transport()
        for topic in CONF.oslo_messaging_notifications.topics:
            target = oslo_messaging.Target(topic=f"{topic}.{PRIORITY}")
            # the transport's own send raises on failure, unlike the Notifier (see the module docstring)
            retries = CONF.exporters.notification_retry if retry is None else retry
            transport._send_notification(target, {}, message, version=2.0, retry=retries)

    def close(self) -> None:
        with self._lock:
            if self._transport is not None:
                self._transport.cleanup()
                self._transport = None
