"""``alertmanager``: alerts to Prometheus Alertmanager's v2 API (``POST <url>/api/v2/alerts``, a JSON list).

Labels (what a route matches on): ``alertname`` (the alert's name, else its id), ``storage_id``,
``storage_name``, ``severity``, ``category``, ``type``, ``resource_type``, ``native_resource_id``
(when known), ``source``, ``alert_uuid`` (the alert row's id, so two alerts never merge).
Annotations: ``description``, ``location``, ``recovery_advice``, ``sequence_number``,
``repeat_count``. ``startsAt`` is the alert's ``first_seen``; an open alert's ``endsAt`` is now + 3 x
``[alert_exporters] resend_interval`` and the dispatcher re-sends every open alert each interval,
so Alertmanager keeps it while we do and resolves it on its own if we stop; a cleared one is sent
with ``endsAt`` = ``cleared_at`` (in the past: resolved).

Several ``[alertmanager_exporter] url`` are the members of an HA cluster: each gets every alert
(they deduplicate notifications between them) and the call succeeds when one took it.
"""

import concurrent.futures
import datetime
import threading

import requests
from oslo_log import log as logging

from delfin_like.conf import CONF
from delfin_like.exporters import alerts

LOG = logging.getLogger(__name__)

LABELS = ("storage_id", "storage_name", "severity", "category", "type", "resource_type", "native_resource_id",
          "source")
ANNOTATIONS = ("description", "location", "recovery_advice", "sequence_number", "repeat_count")
# Alertmanager answers 400 to an alert it finds invalid (after storing the valid ones): retrying cannot help
_REFUSED = (400, 422)


def alert_payload(delivery: alerts.AlertDelivery, now: datetime.datetime, resend_interval: float) -> dict:
    """The Alertmanager v2 ``postableAlert`` of one delivery (``now`` naive UTC)."""
    a = delivery.alert
    labels = {"alertname": a.get("alert_name") or a.get("alert_id") or "alert"}
    for name in LABELS:
        value = a.get(name)
        if value not in (None, ""):
            labels[name] = str(value)
    labels["alert_uuid"] = a["id"]
    annotations = {n: str(a[n]) for n in ANNOTATIONS if a.get(n) not in (None, "")}
    starts = a["first_seen"]
    if delivery.status == alerts.RESOLVED:
        ends = max(a.get("cleared_at") or a.get("updated_at") or now, starts)
    else:
        ends = now + datetime.timedelta(seconds=3 * resend_interval)
    return {"labels": labels, "annotations": annotations, "startsAt": alerts.iso(starts), "endsAt": alerts.iso(ends)}


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class AlertmanagerExporter(alerts.AlertExporter):
    events = False
    resend = True

    def __init__(self):
        self._lock = threading.Lock()
        self._sessions: dict[str, requests.Session] = {}
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._pool_size = 0

    def _session(self, url: str) -> requests.Session:
        with self._lock:
            session = self._sessions.get(url)
            if session is None:
                session = self._sessions[url] = requests.Session()
            return session

    def _post(self, url: str, body: list[dict]) -> None:
        response = self._session(url).post(f"{url.rstrip('/')}/api/v2/alerts", json=body,
                                           timeout=CONF.alert_exporters.timeout)
        if response.status_code in _REFUSED:
            LOG.error("Alertmanager %s refused alerts as invalid (%d): %s", url, response.status_code,
                      response.text[:500])
            return
        response.raise_for_status()

    def export_alerts(self, deliveries) -> None:
        """POST the alerts to every URL at once; raises unless at least one took them."""
        if not deliveries:
            return
        resend = CONF.alert_exporters.resend_interval
        now = utcnow()
        body = [alert_payload(d, now, resend) for d in deliveries]
        urls = list(dict.fromkeys(CONF.alertmanager_exporter.url))
        if len(urls) == 1:
            self._post(urls[0], body)
            return
        with self._lock:
            if self._pool is None or self._pool_size < len(urls):
                if self._pool is not None:
                    self._pool.shutdown(wait=False)
                self._pool = concurrent.futures.ThreadPoolExecutor(len(urls), thread_name_prefix="alertmanager")
                self._pool_size = len(urls)
            pool = self._pool
        futures = {url: pool.submit(self._post, url, body) for url in urls}
        errors = []
        for url, future in futures.items():
            try:
                future.result()
            except Exception as e:  # noqa: BLE001 - one member down is fine while another takes them
                errors.append(f"{url}: {type(e).__name__}: {e}")
        if len(errors) == len(urls):
            raise ConnectionError("no Alertmanager took the alerts: " + "; ".join(errors))
        if errors:
            LOG.debug("Alertmanager members that missed %d alerts: %s", len(body), "; ".join(errors))

    def close(self) -> None:
        with self._lock:
            for session in self._sessions.values():
                session.close()
            self._sessions.clear()
            if self._pool is not None:
                self._pool.shutdown(wait=False)
                self._pool = None
