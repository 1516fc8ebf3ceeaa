"""What the API shows of each resource: Delfin's field names, ISO 8601 UTC times.

Every view is an allow-list: a field the db layer adds (a fingerprint, an
internal flag, anything secret) never reaches a response until it is named here.
"""

import datetime

from delfin_like.common.constants import SyncStatus

STORAGE_FIELDS = (
    "id", "name", "vendor", "model", "serial_number", "status", "firmware_version",
    "location", "description", "raw_capacity", "total_capacity", "used_capacity",
    "free_capacity", "subscribed_capacity", "created_at", "updated_at",
    "sync_status", "sync_error", "last_sync_task_id",
)
STORAGE_POOL_FIELDS = (
    "id", "storage_id", "native_storage_pool_id", "name", "status", "storage_type",
    "total_capacity", "used_capacity", "free_capacity", "subscribed_capacity",
    "description", "created_at", "updated_at",
)
VOLUME_FIELDS = (
    "id", "storage_id", "native_volume_id", "native_storage_pool_id", "name", "status",
    "type", "wwn", "total_capacity", "used_capacity", "free_capacity", "compressed",
    "deduplicated", "description", "created_at", "updated_at",
)
TASK_FIELDS = (
    "id", "type", "storage_id", "priority", "status", "attempts", "lease_owner",
    "lease_expires_at", "created_at", "started_at", "finished_at", "updated_at",
    "result", "error",
)


def isotime(value):
    """A naive-UTC (or aware) datetime as ISO 8601 with a ``Z``; other values unchanged."""
    if not isinstance(value, datetime.datetime):
        return value
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"


def _pick(row: dict, fields: tuple[str, ...]) -> dict:
    return {field: isotime(row.get(field)) for field in fields}


def storage(row: dict) -> dict:
    """One storage; ``sync_status`` defaults to SYNCING (a fresh registration)."""
    out = _pick(row, STORAGE_FIELDS)
    if out["sync_status"] is None:
        out["sync_status"] = SyncStatus.SYNCING
    return out


def storage_pool(row: dict) -> dict:
    return _pick(row, STORAGE_POOL_FIELDS)


def volume(row: dict) -> dict:
    return _pick(row, VOLUME_FIELDS)


def task(row: dict) -> dict:
    return _pick(row, TASK_FIELDS)


def collection(key: str, view, rows) -> dict:
    """``{key: [view(row) for row in rows]}``, the shape of every list response."""
    return {key: [view(row) for row in rows]}
