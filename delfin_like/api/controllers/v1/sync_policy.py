"""``GET/PUT/DELETE /v1/storages/{id}/sync-policy``: when a storage is synced without being asked.

A policy is a periodic sync (``interval`` seconds, ``enabled``) and at most
one one-shot sync (``next_sync_at``), and the periodic alert sync (``alert_sync_interval``,
issue 14). It is stored as schedules in the
database, which the leader scheduler fires; it survives restarts of every
process. Bad input is refused (400) before anything is written.
"""

import datetime

import pecan
from oslo_log import log as logging

from delfin_like.api import utils, validation, views
from delfin_like.api.schemas.v1 import sync_policy as schema
from delfin_like.common import exception
from delfin_like.conf import CONF
from delfin_like.db import api as db_api

LOG = logging.getLogger(__name__)

# a one-shot further ahead than this is a typo more likely than a plan
MAX_AHEAD = datetime.timedelta(days=3660)


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def parse_time(value: str) -> datetime.datetime:
    """An ISO 8601 time as naive UTC (no offset: UTC); a past time becomes now (sync as soon as possible).

    :raises InvalidInput: not an ISO 8601 time, or more than ten years ahead.
    """
    try:
        when = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise exception.InvalidInput("next_sync_at: must be an ISO 8601 time, e.g. 2030-01-31T02:00:00Z")
    if when.tzinfo is not None:
        when = when.astimezone(datetime.UTC).replace(tzinfo=None)
    now = _utcnow()
    if when - now > MAX_AHEAD:
        raise exception.InvalidInput("next_sync_at: must be within ten years")
    return max(when, now)


def check_interval(interval: int) -> int:
    """``interval`` if it is at least ``[scheduler] min_sync_interval``; InvalidInput otherwise."""
    if interval < CONF.scheduler.min_sync_interval:
        raise exception.InvalidInput(f"interval: must be at least {CONF.scheduler.min_sync_interval} seconds")
    return interval


def check_alert_sync_interval(interval: int) -> int:
    """``interval`` if it is 0 (off) or at least ``[scheduler] min_sync_interval``; InvalidInput otherwise."""
    if interval and interval < CONF.scheduler.min_sync_interval:
        raise exception.InvalidInput(
            f"alert_sync_interval: must be 0 or at least {CONF.scheduler.min_sync_interval} seconds")
    return interval


def policy_for_registration(given: dict | None, lists_alerts: bool = True) -> dict:
    """The schedules a registration creates, from its validated ``sync_policy`` block (or None).

    :param lists_alerts: the storage's driver lists alerts; when not, its periodic alert sync is
        created paused (so nothing creates one later) and no alert sync is queued.
    :returns: ``{"interval": seconds or None, "enabled": bool, "next_sync_at": naive UTC or None,
        "alert_sync": {"interval", "enabled"} or None}``; the interval defaults to
        ``[scheduler] periodic_sync_interval`` (0: no periodic sync), the alert sync interval to
        ``[alert_sync] interval`` (0 there: none, unless the block sets one).
    :raises InvalidInput: an interval under the minimum, a bad time, or periodic sync enabled
        with no interval given or configured.
    """
    given = given or {}
    if "interval" in given:
        interval = check_interval(given["interval"])
    else:
        interval = CONF.scheduler.periodic_sync_interval or None
    enabled = given.get("enabled", interval is not None)
    if enabled and interval is None:
        raise exception.InvalidInput("sync_policy.interval: periodic sync needs an interval (none is configured)")
    next_sync_at = parse_time(given["next_sync_at"]) if given.get("next_sync_at") else None
    if "alert_sync_interval" in given:
        alert_interval = check_alert_sync_interval(given["alert_sync_interval"])
        alert_sync = {"interval": alert_interval or None, "enabled": bool(alert_interval) and lists_alerts}
    elif CONF.alert_sync.interval:
        alert_sync = {"interval": CONF.alert_sync.interval, "enabled": lists_alerts}
    else:
        alert_sync = None
    return {"interval": interval, "enabled": enabled, "next_sync_at": next_sync_at, "alert_sync": alert_sync}


class SyncPolicyController(utils.StorageSubresource):
    """``/v1/storages/{id}/sync-policy``."""

    @pecan.expose("json")
    def get_all(self, storage_id, **_query):
        """-> ``{"sync_policy": {...}}``; 404 StorageNotFound."""
        return {"sync_policy": views.sync_policy(db_api.sync_policy_get(storage_id))}

    @pecan.expose("json")
    def put(self, storage_id, **_form):
        """Change the periodic interval, pause or resume it, set or cancel a one-shot sync, set the
        periodic alert sync's interval (0: off) -> 200 ``{"sync_policy": {...}}``. Fields left out keep their value.

        400 bad body (nothing changed), 404 StorageNotFound, 409 StorageBeingDeleted.
        """
        body = validation.json_body(pecan.request)
        validation.validate(schema.update, body)
        changes = {}
        if "interval" in body:
            changes["interval"] = check_interval(body["interval"])
        if "enabled" in body:
            changes["enabled"] = body["enabled"]
        if "next_sync_at" in body:
            changes["next_sync_at"] = None if body["next_sync_at"] is None else parse_time(body["next_sync_at"])
        if "alert_sync_interval" in body:
            changes["alert_sync_interval"] = check_alert_sync_interval(body["alert_sync_interval"])
        policy = db_api.sync_policy_set(storage_id, default_interval=CONF.scheduler.periodic_sync_interval, **changes)
        LOG.info("Sync policy of storage %s changed (%s)", storage_id, ", ".join(sorted(changes)))
        return {"sync_policy": views.sync_policy(policy)}

    @pecan.expose("json")
    def delete(self, storage_id):
        """Clear every schedule of the storage (no more periodic or one-shot syncs, periodic alert sync off)
        -> 200 ``{"sync_policy": {...}}`` (now empty); 404 StorageNotFound."""
        policy = db_api.sync_policy_clear(storage_id)
        LOG.info("Sync policy of storage %s cleared", storage_id)
        return {"sync_policy": views.sync_policy(policy)}
