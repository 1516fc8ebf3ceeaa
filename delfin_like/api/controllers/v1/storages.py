"""``/v1/storages``: register, list, show, delete and sync storages."""

import pecan
from oslo_log import log as logging

from delfin_like import driver_manager
from delfin_like.api import utils, validation, views
from delfin_like.api.controllers.v1 import sync_policy
from delfin_like.api.schemas.v1 import storages as schema
from delfin_like.common import crypto, exception
from delfin_like.common.constants import Lane, SyncStatus, TaskStatus
from delfin_like.db import api as db_api

LOG = logging.getLogger(__name__)

NOT_DISPATCHED = "could not be dispatched: message bus unavailable"


def access_info_to_store(body: dict) -> dict:
    """The access info row of a validated registration body, every secret encrypted."""
    info = {
        "vendor": body["vendor"],
        "model": body["model"],
        "extra_attributes": dict(body.get("extra_attributes") or {}),
    }
    for protocol in driver_manager.ACCESS_PROTOCOLS:
        info[protocol] = crypto.encrypt_block(body.get(protocol))
    return info


def endpoints_of(body: dict) -> list[tuple[str, str, int]]:
    """``(protocol, host, port)`` of every access block, one per distinct host and port.

    Host names are compared case-insensitively (DNS is), so ``ARRAY1:8443`` and
    ``array1:8443`` are the same endpoint for the duplicate check.
    """
    seen, endpoints = set(), []
    for protocol in driver_manager.ACCESS_PROTOCOLS:
        block = body.get(protocol)
        if not block:
            continue
        key = (block["host"].strip().lower(), int(block["port"]))
        if key not in seen:
            seen.add(key)
            endpoints.append((protocol, *key))
    return endpoints


def _cast(task: dict) -> None:
    pecan.request.rpcapi.run_task(pecan.request.context, task)


def _fail_undispatched(task: dict) -> None:
    """Mark a task that never reached the bus FAILED, so nobody waits on it."""
    try:
        db_api.task_finish(task["id"], TaskStatus.FAILED, error=NOT_DISPATCHED)
    except Exception:  # noqa: BLE001 - the 503 the client gets matters more
        LOG.exception("Could not mark undispatched task %s FAILED", task["id"])


def dispatch_sync(storage_id: str, lane: str) -> dict:
    """Record (or reuse) the sync task of a storage and cast it on ``lane``.

    A PENDING sync task that already exists was cast when it was made (or will
    be re-dispatched by the scheduler), so it is returned without a second cast.
    On a bus failure MessageBusUnavailable is raised (503) and the new task stays
    PENDING for the scheduler's re-dispatch: a concurrent request may already have
    been answered 202 with it, so it must still run. A repeated POST returns it.
    """
    task, created = db_api.task_create_sync(storage_id, lane)
    if created:
        _cast(task)
    return task


def register(body, cast) -> dict:
    """Register a storage from a registration body (as ``POST /v1/storages`` takes it): validate,
    probe the back end, store it with its sync policy and first sync task, ``cast(task)``.

    When its driver lists alerts, the same transaction queues its first alert sync (cast after
    the sync; a failed cast of it leaves it PENDING for the scheduler's re-dispatch) and its
    periodic alert sync schedule; when not, that schedule is stored paused and nothing is queued.
    Nothing is left behind when a step fails: the probe comes before any write, the
    registration is one transaction, and a failed cast of the sync undoes it (the error is raised).
    :returns: the storage row.
    """
    validation.validate(schema.register, body)
    driver_manager.check_access_protocols(body)
    lists_alerts = driver_manager.lists_alerts(body["vendor"], body["model"])
    policy = sync_policy.policy_for_registration(body.get("sync_policy"), lists_alerts=lists_alerts)
    access_info = driver_manager.access_info_from_request(body)
    probed, capabilities = driver_manager.probe_with_capabilities(access_info)
    storage, task = db_api.storage_register(
        probed,
        access_info_to_store(body),
        endpoints_of(body),
        priority=Lane.NORMAL,
        capabilities=capabilities,
        sync_policy=policy,
        alert_sync=lists_alerts,
    )
    try:
        cast(task)
    except Exception:
        _undo_registration(storage["id"], task)
        raise
    alert_task = _cast_registration_alert_sync(storage["id"], cast) if lists_alerts else None
    LOG.info("Registered storage %s (%s %s), sync task %s, alert sync task %s", storage["id"], probed.vendor,
             probed.model, task["id"], alert_task["id"] if alert_task else "none (its driver lists no alerts)")
    return storage


def _cast_registration_alert_sync(storage_id: str, cast) -> dict | None:
    """Cast the alert sync the registration queued (it is the storage's PENDING one, reused here)."""
    try:
        alert_task, _created = db_api.task_create_alert_sync(storage_id, Lane.NORMAL)
        cast(alert_task)
        return alert_task
    except exception.DelfinLikeException as e:
        # the row is there: the scheduler's re-dispatch casts it; the registration stands
        LOG.warning("The first alert sync of storage %s waits for the re-dispatch: %s", storage_id, e.msg)
        return None


def _undo_registration(storage_id: str, task: dict) -> None:
    try:
        db_api.storage_unregister(storage_id)
    except Exception:  # noqa: BLE001 - the client still gets the original error
        LOG.exception("Could not undo the registration of storage %s", storage_id)
        _fail_undispatched(task)


class StoragesController(utils.Collection):
    """Storages. ``POST /v1/storages/sync`` and ``POST /v1/storages/{id}/sync`` are custom actions."""

    _custom_actions = {"sync": ["POST"]}

    @pecan.expose("json")
    def get_all(self, **_query):
        """``GET /v1/storages`` -> ``{"storages": [...]}``; exact filters, paging, sort."""
        params = utils.parse_list_params(pecan.request.GET, "storages")
        rows = db_api.storage_list(**params.as_kwargs())
        return views.collection("storages", views.storage, rows, params)

    @pecan.expose("json")
    def get_one(self, storage_id, **_query):
        """``GET /v1/storages/{id}`` -> the storage; 404 StorageNotFound."""
        return views.storage(db_api.storage_get(storage_id))

    @pecan.expose("json")
    def post(self, **_form):
        """``POST /v1/storages``: probe, register with its sync policy, cast the first sync -> 201."""
        storage = register(validation.json_body(pecan.request), _cast)
        pecan.response.status = 201
        pecan.response.location = f"{pecan.request.host_url}/v1/storages/{storage['id']}"
        out = views.storage(storage)
        out["sync_status"] = SyncStatus.SYNCING
        return out

    @pecan.expose("json")
    def delete(self, storage_id):
        """``DELETE /v1/storages/{id}`` -> 202 ``{"task": ...}`` (the remove task).

        The storage shows DELETING at once. A repeated DELETE returns the same
        task and casts it again, so it is also the retry after a 503.
        """
        task = db_api.storage_mark_deleting(storage_id)
        # a PENDING remove task stays for the scheduler's re-dispatch if this cast fails
        _cast(task)
        pecan.response.status = 202
        return {"task": views.task(task)}

    @pecan.expose("json")
    def sync(self, *storage_id, **_form):
        """``POST /v1/storages/{id}/sync`` -> 202 ``{"task"}`` on the urgent lane;
        ``POST /v1/storages/sync`` -> 202 ``{"tasks": [...]}`` on the background lane.
        The body is empty or ``{}``; anything else is a 400.
        """
        # *storage_id, not a named argument: pecan would fill a named one from the body
        if len(storage_id) > 1:
            raise exception.NotFound()
        if pecan.request.body.strip():
            # no body, or one that asks nothing ({}): a body is never silently ignored
            validation.validate(schema.sync, validation.json_body(pecan.request))
        pecan.response.status = 202
        if storage_id:
            return {"task": views.task(dispatch_sync(storage_id[0], Lane.URGENT))}
        # queued in batches, then cast: a bus failure half-way leaves the rest PENDING for the scheduler
        queued = db_api.task_create_syncs(Lane.BACKGROUND)
        for task, created in queued:
            if created:
                _cast(task)
        return {"tasks": [views.task(t) for t, _ in queued]}
