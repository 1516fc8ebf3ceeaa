"""What the API shows of each resource: Delfin's field names, ISO 8601 UTC times.

Every view is an allow-list: a field the db layer adds (a fingerprint, an
internal flag, anything secret) never reaches a response until it is named here.
"""

import datetime

from delfin_like.api import utils
from delfin_like.common import crypto
from delfin_like.common.constants import SyncStatus

STORAGE_FIELDS = (
    "id",
    "name",
    "vendor",
    "model",
    "serial_number",
    "status",
    "firmware_version",
    "location",
    "description",
    "raw_capacity",
    "total_capacity",
    "used_capacity",
    "free_capacity",
    "subscribed_capacity",
    "created_at",
    "updated_at",
    "sync_status",
    "sync_error",
    "last_sync_task_id",
)
STORAGE_POOL_FIELDS = (
    "id",
    "storage_id",
    "native_storage_pool_id",
    "name",
    "status",
    "storage_type",
    "total_capacity",
    "used_capacity",
    "free_capacity",
    "subscribed_capacity",
    "description",
    "created_at",
    "updated_at",
)
VOLUME_FIELDS = (
    "id",
    "storage_id",
    "native_volume_id",
    "native_storage_pool_id",
    "name",
    "status",
    "type",
    "wwn",
    "total_capacity",
    "used_capacity",
    "free_capacity",
    "compressed",
    "deduplicated",
    "description",
    "created_at",
    "updated_at",
)
CONTROLLER_FIELDS = (
    "id",
    "storage_id",
    "native_controller_id",
    "name",
    "status",
    "location",
    "soft_version",
    "cpu_info",
    "cpu_count",
    "memory_size",
    "mgmt_ip",
    "created_at",
    "updated_at",
)
PORT_FIELDS = (
    "id",
    "storage_id",
    "native_port_id",
    "name",
    "location",
    "connection_status",
    "health_status",
    "type",
    "logical_type",
    "speed",
    "max_speed",
    "native_parent_id",
    "wwn",
    "mac_address",
    "ipv4",
    "ipv4_mask",
    "ipv6",
    "ipv6_mask",
    "created_at",
    "updated_at",
)
DISK_FIELDS = (
    "id",
    "storage_id",
    "native_disk_id",
    "name",
    "physical_type",
    "logical_type",
    "status",
    "location",
    "capacity",
    "firmware",
    "manufacturer",
    "model",
    "serial_number",
    "speed",
    "health_score",
    "native_disk_group_id",
    "created_at",
    "updated_at",
)
ACCESS_INFO_FIELDS = ("storage_id", "vendor", "model", "extra_attributes", "created_at", "updated_at")
TASK_FIELDS = (
    "id",
    "type",
    "storage_id",
    "priority",
    "status",
    "attempts",
    "lease_owner",
    "lease_expires_at",
    "created_at",
    "started_at",
    "lock_acquired_at",
    "finished_at",
    "updated_at",
    "result",
    "error",
    "not_before",
    "progress",
)
SYNC_POLICY_FIELDS = (
    "storage_id",
    "interval",
    "enabled",
    "next_periodic_sync_at",
    "next_sync_at",
    "last_fired_at",
    "last_task_id",
    "alert_sync_interval",
    "alert_sync_enabled",
    "next_alert_sync_at",
    "last_alert_sync_task_id",
)
TASK_MANAGER_FIELDS = (
    "id",
    "host",
    "pid",
    "lanes",
    "status",
    "started_at",
    "last_heartbeat",
    "stopped_at",
    "tasks_running",
    "tasks_done",
    "tasks_failed",
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


def controller(row: dict) -> dict:
    return _pick(row, CONTROLLER_FIELDS)


def port(row: dict) -> dict:
    return _pick(row, PORT_FIELDS)


def disk(row: dict) -> dict:
    return _pick(row, DISK_FIELDS)


def access_info(row: dict) -> dict:
    """Access info without any secret: each block keeps host, port, username and options."""
    out = _pick(row, ACCESS_INFO_FIELDS)
    for protocol in ("rest", "ssh", "snmp"):
        out[protocol] = crypto.redact_block(row.get(protocol))
    return out


def capabilities(row: dict) -> dict:
    caps = row.get("capabilities") or {}
    return {
        "storage_id": row["storage_id"],
        "is_historic": bool(caps.get("is_historic", False)),
        "resource_metrics": caps.get("resource_metrics") or {},
        # per resource type: the finest collection interval (s) and whether history can be read
        "collection": caps.get("collection") or {},
        "updated_at": isotime(row.get("updated_at")),
    }


def task(row: dict) -> dict:
    return _pick(row, TASK_FIELDS)


def sync_policy(row: dict) -> dict:
    return _pick(row, SYNC_POLICY_FIELDS)


def task_manager(row: dict) -> dict:
    return _pick(row, TASK_MANAGER_FIELDS)


def row_dicts(fields: tuple[str, ...], rows) -> list[dict]:
    """Rows given as tuples of ``fields`` (in that order) as the dicts a view makes of them: one
    ``dict(zip())`` per row and :func:`isotime` only on the ``*_at`` fields (the only times an inventory
    row holds), instead of a lookup and a call per field per row (benchmarks/list_build_bench.py)."""
    times = [f for f in fields if f.endswith("_at")]
    out = [dict(zip(fields, row, strict=True)) for row in rows]
    # a sync stamps its rows with one time: each distinct value is formatted once
    formatted = {None: None}
    for field in times:
        for item in out:
            value = item[field]
            text = formatted.get(value)
            if text is None and value is not None:
                text = formatted[value] = isotime(value)
            item[field] = text
    return out


def row_collection(key: str, fields: tuple[str, ...], rows, params=None, marker_key: str = "id") -> dict:
    """:func:`collection` of rows given as tuples of ``fields``: the same body, built by :func:`row_dicts`."""
    return collection(key, None, rows, params, marker_key, built=row_dicts(fields, rows))


def collection(key: str, view, rows, params=None, marker_key: str = "id", built=None) -> dict:
    """``{key: [view(row) for row in rows]}``, the shape of every list response.

    With the request's list ``params``, a full page also carries ``"next"``: the
    same request with ``marker`` set to its last row, so a client walks any
    depth without ``offset`` (Delfin's keys are kept; ``next`` is added).
    """
    body = {key: [view(row) for row in rows] if built is None else built}
    if params is not None and params.with_count:
        body["count"] = rows.total
    if params is not None:
        link = utils.next_link(params, rows if built is None else built, marker_key)
        if link is not None:
            body["next"] = link
    return body


ALERT_FIELDS = (
    "id",
    "storage_id",
    "sequence_number",
    "alert_id",
    "alert_name",
    "severity",
    "category",
    "type",
    "description",
    "resource_type",
    "native_resource_id",
    "resource_row_id",
    "location",
    "recovery_advice",
    "source",
    "state",
    "cleared_at",
    "cleared_by",
    "first_seen",
    "last_seen",
    "occur_time",
    "repeat_count",
    "created_at",
    "updated_at",
)
# an snmp-config as shown: Delfin's fields without the write-only community_string, auth_key, privacy_key
ALERT_SOURCE_FIELDS = (
    "storage_id",
    "version",
    "username",
    "security_level",
    "auth_protocol",
    "privacy_protocol",
    "engine_id",
    "context_name",
    "host",
    "port",
    "retry_num",
    "expiration",
    "created_at",
    "updated_at",
)


def alert(row: dict) -> dict:
    return _pick(row, ALERT_FIELDS)


def alert_source(row: dict) -> dict:
    """An allow-list: no secret can reach a response, whatever the row holds."""
    return _pick(row, ALERT_SOURCE_FIELDS)
