"""JSON schema of ``POST /v1/storages/{id}/jobs``: a preprocessing job for a computational-storage node."""

_NAME = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$"}
# absolute paths only; ".." segments are refused by the controller
_PATH = {"type": "string", "minLength": 1, "maxLength": 4096, "pattern": "^/"}
_TEXT = {"type": "string", "maxLength": 4096}

submit = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "job_id": {**_NAME, "minLength": 1, "maxLength": 128},
        "name": {"type": "string", "maxLength": 255},
        "namespace": {**_NAME, "minLength": 1, "maxLength": 63},
        "command": {"type": "array", "items": _TEXT, "minItems": 1, "maxItems": 256},
        "image": {"type": "string", "maxLength": 255},
        "data_path": _PATH,
        # "/" itself (or "//") is refused: the results would land over the node's root
        "output_path": {**_PATH, "pattern": "^/+[^/]"},
        "target_node": {"type": "string", "maxLength": 255},
        "resources": {
            "type": "object",
            "properties": {
                "cpu": {"type": "number", "minimum": 0, "maximum": 4096},
                "memory": {"type": "integer", "minimum": 0, "maximum": 2**62},
            },
            "additionalProperties": False,
        },
        "csd": {
            "type": "object",
            "properties": {
                "enabled": {"type": "boolean"},
                "device_path": {"type": "string", "maxLength": 255},
            },
            "additionalProperties": False,
        },
        "labels": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 255}, "maxProperties": 64},
        "env": {"type": "object", "additionalProperties": _TEXT, "maxProperties": 64},
        "timeout_seconds": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
    },
    "required": ["job_id", "command", "data_path", "output_path"],
    "additionalProperties": False,
}
