"""``jsonl``: one JSON line per delivered alert state, appended to ``[jsonl_alert_exporter] path``
(default ``<state_path>/alerts/alerts.jsonl``).

A delivery call is one ``write`` of all its lines, flushed (and fsynced with ``fsync = true``)
before it counts as delivered, and the file rotates by size (``max_bytes``, ``backup_count``), like
the metric jsonl exporter (:mod:`delfin_like.exporters.jsonl_file`). A line is
:meth:`AlertDelivery.to_payload <delfin_like.exporters.alerts.AlertDelivery.to_payload>` plus
``delivered_at``; a redelivery after a crash repeats its ``delivery_id``.
"""

import datetime
import json
import os

from delfin_like.conf import CONF
from delfin_like.exporters import alerts, jsonl_file


def default_path() -> str:
    return os.path.join(CONF.state_path, "alerts", "alerts.jsonl")


class AlertJsonlExporter(alerts.AlertExporter):
    events = True

    def __init__(self):
        self._file = jsonl_file.JsonlFile()

    @property
    def path(self) -> str:
        return CONF.jsonl_alert_exporter.path or default_path()

    @staticmethod
    def lines(deliveries, delivered_at: str) -> str:
        return "".join(json.dumps({**d.to_payload(), "delivered_at": delivered_at}, separators=(",", ":")) + "\n"
                       for d in deliveries)

    def export_alerts(self, deliveries) -> None:
        """Append one line per delivery and flush (fsync too with ``fsync = true``)."""
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        opts = CONF.jsonl_alert_exporter
        self._file.append(self.path, self.lines(deliveries, alerts.iso(now)), opts.max_bytes, opts.backup_count,
                          fsync=opts.fsync)

    def close(self) -> None:
        self._file.close()
