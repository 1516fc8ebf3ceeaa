"""JSON schemas of a storage's sync policy: the ``sync_policy`` block of a registration and
``PUT /v1/storages/{id}/sync-policy``.

``interval`` is in seconds (the configured ``[scheduler] min_sync_interval`` is
checked on top); ``next_sync_at`` is an ISO 8601 time (UTC unless it carries
an offset) of a one-shot sync, parsed by the controller. ``alert_sync_interval`` is the
seconds between periodic alert syncs (the minimum checked on top), 0 to turn them off.
"""

_INTERVAL = {"type": "integer", "minimum": 1, "maximum": 31536000}
_TIME = {"type": "string", "minLength": 1, "maxLength": 64}
_ALERT_INTERVAL = {"type": "integer", "minimum": 0, "maximum": 31536000}

# the block inside POST /v1/storages
sync_policy = {
    "type": "object",
    "properties": {
        "interval": _INTERVAL,
        "enabled": {"type": "boolean"},
        "next_sync_at": _TIME,
        "alert_sync_interval": _ALERT_INTERVAL,
    },
    "additionalProperties": False,
}

# PUT /v1/storages/{id}/sync-policy: what is given changes, the rest stays;
# "next_sync_at": null cancels a one-shot sync not yet fired
update = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "interval": _INTERVAL,
        "enabled": {"type": "boolean"},
        "next_sync_at": {"anyOf": [_TIME, {"type": "null"}], "description": "must be an ISO 8601 time or null"},
        "alert_sync_interval": _ALERT_INTERVAL,
    },
    "minProperties": 1,
    "additionalProperties": False,
}
