"""Stored alerts: ``GET /v1/alerts``, ``GET /v1/alerts/{id}`` and Delfin's ``GET /v1/storages/{id}/alerts``.

Lists page and sort like every list (newest ``last_seen`` first by default) and take exact filters
(storage_id, severity, state, category, type, source, resource_type, native_resource_id, alert_id).
``since`` / ``until`` (ISO 8601) keep the alerts seen in that window: last seen at or after
``since``, first seen at or before ``until``. The storage route also takes Delfin's ``begin_time`` /
``end_time`` (milliseconds since the epoch) for the same window.

``POST /v1/storages/{id}/alerts/sync`` queues an alert sync task on the urgent lane (a PENDING one
is reused, as a storage sync is); ``DELETE /v1/storages/{id}/alerts/{sequence_number}`` clears the
alert on the array through its driver, in this process and within ``[storage_driver] timeout``,
then marks the stored alerts of that sequence number cleared by ``api``. A driver that cannot
clear is a 400 NotSupported and nothing is changed.
"""

import datetime

import pecan
from oslo_log import log as logging

from delfin_like import driver_manager
from delfin_like.api import utils, validation, views
from delfin_like.api.schemas.v1 import storages as storage_schema
from delfin_like.common import exception
from delfin_like.common.constants import Lane
from delfin_like.conf import CONF
from delfin_like.db import api as db_api

LOG = logging.getLogger(__name__)

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


def _clear_on_array(storage_id: str, sequence_number: str) -> None:
    driver = driver_manager.load(driver_manager.access_info_from_stored(db_api.access_info_get(storage_id)))
    try:
        driver_manager.call(driver.clear_alert, sequence_number, what="clear_alert")
    finally:
        driver_manager.close_quietly(driver, f"storage {storage_id}")


class StorageAlertsController(utils.StorageSubresource):
    """``/v1/storages/{id}/alerts``."""

    _custom_actions = {"sync": ["POST"]}

    def _refuse(self, args, request) -> None:
        super()._refuse(args, request)
        if request.method == "DELETE" and not any(args):
            pecan.abort(405)  # the collection itself: a 405, not the member handler without its id

    @pecan.expose("json")
    def get_all(self, storage_id, **_query):
        """-> ``{"alerts": [...]}`` of the storage; 404 StorageNotFound."""
        db_api.storage_get(storage_id)
        return _list(pecan.request.GET, storage_id)

    @pecan.expose("json")
    def sync(self, storage_id, **_form):
        """``POST /v1/storages/{id}/alerts/sync`` -> 202 ``{"task"}`` (type ``alert_sync``, urgent lane).

        The body is empty or ``{}``. 404 StorageNotFound, 409 StorageBeingDeleted, 503 bus down
        (the task stays PENDING for the scheduler's re-dispatch; a repeated POST returns it).
        """
        if pecan.request.body.strip():
            validation.validate(storage_schema.sync, validation.json_body(pecan.request))
        task, created = db_api.task_create_alert_sync(storage_id, Lane.URGENT)
        if created:
            pecan.request.rpcapi.run_task(pecan.request.context, task)
        pecan.response.status = 202
        return {"task": views.task(task)}

    @pecan.expose("json")
    def delete(self, storage_id, sequence_number):
        """``DELETE /v1/storages/{id}/alerts/{sequence_number}`` -> 200 ``{"alerts": [...]}``, the
        stored alerts of that sequence number, cleared.

        404 StorageNotFound or AlertNotFound (no stored alert has that sequence number); 400
        NotSupported (the driver cannot clear alerts); 409 StorageBeingDeleted; the array's own
        refusal or silence as the driver errors map. Only a clear the array took is stored.
        """
        db_api.alerts_of_sequence(storage_id, sequence_number)
        driver_manager.call_with_deadline(
            lambda: _clear_on_array(storage_id, sequence_number), CONF.storage_driver.timeout, what="clear_alert")
        rows = db_api.alerts_clear_sequence(storage_id, sequence_number, "api")
        LOG.info("Alert %s of storage %s cleared on the array", sequence_number, storage_id)
        return {"alerts": [views.alert(r) for r in rows]}


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
