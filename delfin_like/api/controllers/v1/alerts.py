"""Stored alerts: ``GET /v1/alerts``, ``GET /v1/alerts/{id}`` and Delfin's ``GET /v1/storages/{id}/alerts``.

Lists page and sort like every list (newest ``last_seen`` first by default) and take exact filters
(storage_id, severity, state, category, type, source, resource_type, native_resource_id, alert_id).
``since`` / ``until`` (ISO 8601) keep the alerts seen in that window: last seen at or after
``since``, first seen at or before ``until``. The storage route also takes Delfin's ``begin_time`` /
``end_time`` (milliseconds since the epoch) for the same window.
"""

import datetime

import pecan

from delfin_like.api import utils, views
from delfin_like.common import exception
from delfin_like.db import api as db_api

_WINDOW = ("since", "until")
_DELFIN_WINDOW = {"begin_time": "since", "end_time": "until"}
_MAX_MILLIS = 253402300799999  # 9999-12-31T23:59:59.999Z


def _iso(name: str, value: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise exception.InvalidInput(f"{name} must be an ISO 8601 date-time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment


def _millis(name: str, value: str) -> datetime.datetime:
    try:
        number = int(value)
    except ValueError:
        raise exception.InvalidInput(f"{name} must be milliseconds since the epoch")
    if not 0 <= number <= _MAX_MILLIS:
        raise exception.InvalidInput(f"{name} must be milliseconds since the epoch")
    return datetime.datetime.fromtimestamp(number / 1000, datetime.UTC)


def _list(query, storage_id: str | None = None) -> dict:
    query = query.copy()
    window = {}
    for name in _WINDOW:
        if name in query:
            window[name] = _iso(name, query.pop(name))
    if storage_id is not None:
        for name, key in _DELFIN_WINDOW.items():
            if name in query:
                window[key] = _millis(name, query.pop(name))
    params = utils.parse_list_params(query, "alerts")
    if storage_id is not None:
        if "storage_id" in params.filters:
            raise exception.InvalidInput("storage_id is given by the path")
        params.filters["storage_id"] = storage_id
    rows = db_api.alert_list(**params.as_kwargs(), **window)
    return views.collection("alerts", views.alert, rows, params)


class StorageAlertsController(utils.StorageSubresource):
    """``/v1/storages/{id}/alerts``."""

    @pecan.expose("json")
    def get_all(self, storage_id, **_query):
        """-> ``{"alerts": [...]}`` of the storage; 404 StorageNotFound."""
        db_api.storage_get(storage_id)
        return _list(pecan.request.GET, storage_id)


class AlertsController(utils.Collection):
    """``/v1/alerts``."""

    @pecan.expose("json")
    def get_all(self, **_query):
        """-> ``{"alerts": [...]}``."""
        return _list(pecan.request.GET)

    @pecan.expose("json")
    def get_one(self, alert_id, **_query):
        """-> the alert; 404 AlertNotFound."""
        return views.alert(db_api.alert_get(alert_id))
