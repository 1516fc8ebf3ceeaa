"""``log``: every delivered alert state as one log line (demos, debugging, log-based alerting)."""

from oslo_log import log as logging

from delfin_like.exporters import alerts

LOG = logging.getLogger(__name__)


class AlertLogExporter(alerts.AlertExporter):
    events = True

    def export_alerts(self, deliveries) -> None:
        """One INFO line per delivery."""
        for d in deliveries:
            a = d.alert
            LOG.info(
                "Alert %s: %s (%s %s %s) of storage %s (%s) about %s %s: %s [alert %s, sequence %s, repeats %s]",
                d.status, a.get("alert_name") or a.get("alert_id"), a.get("severity"), a.get("category"),
                a.get("type"), a.get("storage_id"), a.get("storage_name"), a.get("resource_type"),
                a.get("native_resource_id") or a.get("location") or "-", a.get("description") or "",
                a.get("id"), a.get("sequence_number"), a.get("repeat_count"),
            )  # fmt: skip
