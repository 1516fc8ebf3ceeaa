"""``jsonl``: one JSON line per delivered alert state, appended to ``[jsonl_alert_exporter] path``
(default ``<state_path>/alerts/alerts.jsonl``).

A delivery call is one ``write`` of all its lines, flushed (and fsynced with ``fsync = true``)
before it counts as delivered, like the metric jsonl exporter. A line is
:meth:`AlertDelivery.to_payload <delfin_like.exporters.alerts.AlertDelivery.to_payload>` plus
``delivered_at``; a redelivery after a crash repeats its ``delivery_id``.
"""

import datetime
import json
import os
import threading

from delfin_like.conf import CONF
from delfin_like.exporters import alerts


def default_path() -> str:
    return os.path.join(CONF.state_path, "alerts", "alerts.jsonl")


class AlertJsonlExporter(alerts.AlertExporter):
    events = True

    def __init__(self):
        self._lock = threading.Lock()
        self._file = None
        self._path = None

    @property
    def path(self) -> str:
        return CONF.jsonl_alert_exporter.path or default_path()

    def _open(self, path: str):
        if self._file is None or self._path != path:
            self.close()
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open across calls
            self._path = path
        return self._file

    @staticmethod
    def lines(deliveries, delivered_at: str) -> str:
        return "".join(json.dumps({**d.to_payload(), "delivered_at": delivered_at}, separators=(",", ":")) + "\n"
                       for d in deliveries)

    def export_alerts(self, deliveries) -> None:
        """Append one line per delivery and flush (fsync too with ``fsync = true``)."""
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        text = self.lines(deliveries, alerts.iso(now))
        with self._lock:
            try:
                f = self._open(self.path)
                f.write(text)
                f.flush()
                if CONF.jsonl_alert_exporter.fsync:
                    os.fsync(f.fileno())
            except OSError:
                self.close()  # reopened at the next call: the path may be fixed by then
                raise

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
            self._file = None
