"""``notification``: each delivered alert state as one oslo.messaging notification.

Event type ``delfin_like.alert.firing`` or ``delfin_like.alert.resolved``, priority INFO, message
format 2.0, on the bus and topics of ``[oslo_messaging_notifications]`` (a consumer listens on
``<topic>.info``), sent the way the metric exporter of the same name sends (a broker that does not
take it raises, so the outbox keeps the delivery). The payload is
:meth:`AlertDelivery.to_payload <delfin_like.exporters.alerts.AlertDelivery.to_payload>`; the
envelope's ``message_id`` is the delivery id, the same for every redelivery, so a consumer can
drop duplicates.
"""

from oslo_utils import timeutils

from delfin_like.conf import CONF
from delfin_like.exporters import alerts
from delfin_like.exporters import notification as metric_notification

EVENT_TYPE_PREFIX = "delfin_like.alert."


class AlertNotificationExporter(alerts.AlertExporter):
    events = True

    def __init__(self):
        self._bus = metric_notification.NotificationExporter()

    @staticmethod
    def message(delivery: alerts.AlertDelivery) -> dict:
        return {
            "message_id": delivery.delivery_id,
            "publisher_id": f"delfin_like.alerts.{CONF.host}",
            "event_type": EVENT_TYPE_PREFIX + delivery.status,
            "priority": metric_notification.PRIORITY.upper(),
            "payload": delivery.to_payload(),
            "timestamp": str(timeutils.utcnow()),
        }

    def export_alerts(self, deliveries) -> None:
        """One notification per delivery, in order; raises at the first one the broker did not take."""
        for delivery in deliveries:
            self._bus.send(self.message(delivery))

    def close(self) -> None:
        self._bus.close()
