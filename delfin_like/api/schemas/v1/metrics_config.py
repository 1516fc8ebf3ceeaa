"""JSON schema of ``PUT /v1/storages/{id}/metrics-config`` (Delfin's body, one entry per resource type).

``{"array_polling": {"perf_collection": true, "interval": 60, "is_historic": false}, "volume_polling": {...}}``;
``metrics`` optionally narrows an entry to some of the metrics the driver declares.
"""

# polling key of the body -> resource type of the capabilities
POLLING_KEYS = {
    "array_polling": "storage",
    "pool_polling": "storage_pool",
    "volume_polling": "volume",
    "controller_polling": "controller",
    "port_polling": "port",
    "disk_polling": "disk",
}
RESOURCE_TYPE_KEYS = {rt: key for key, rt in POLLING_KEYS.items()}
MAX_INTERVAL = 86400

_entry = {
    "type": "object",
    "properties": {
        "perf_collection": {"type": "boolean"},
        "interval": {"type": "integer", "minimum": 1, "maximum": MAX_INTERVAL},
        "is_historic": {"type": "boolean"},
        "metrics": {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": 64},
            "minItems": 1,
            "maxItems": 64,
            "uniqueItems": True,
        },
    },
    "required": ["perf_collection", "interval", "is_historic"],
    "additionalProperties": False,
}

update = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {key: _entry for key in POLLING_KEYS},
    "minProperties": 1,
    "additionalProperties": False,
}
