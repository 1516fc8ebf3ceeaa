"""JSON schema of ``POST /v1/storages`` (Delfin's registration body)."""

_HOST = {"type": "string", "minLength": 1, "maxLength": 255}
_PORT = {"type": "integer", "minimum": 1, "maximum": 65535}
_TEXT = {"type": "string", "maxLength": 255}
# secrets are opaque strings; their length bound only keeps rows sane
_SECRET = {"type": "string", "maxLength": 4096}


def _block(required: list[str]) -> dict:
    # extra keys inside a block are driver options (verify, pub_key, ...), passed through
    return {
        "type": "object",
        "properties": {
            "host": _HOST,
            "port": _PORT,
            "username": _TEXT,
            "password": _SECRET,
            "community": _SECRET,
            "auth_key": _SECRET,
            "privacy_key": _SECRET,
            "private_key": _SECRET,
        },
        "required": required,
    }


register = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "vendor": {"type": "string", "minLength": 1, "maxLength": 255},
        "model": {"type": "string", "minLength": 1, "maxLength": 255},
        "rest": _block(["host", "port", "username", "password"]),
        "ssh": _block(["host", "port", "username", "password"]),
        # SNMPv2c has a community instead of a user; v3 carries username and keys
        "snmp": _block(["host", "port"]),
        "extra_attributes": {"type": "object"},
    },
    "required": ["vendor", "model"],
    "anyOf": [{"required": ["rest"]}, {"required": ["ssh"]}, {"required": ["snmp"]}],
    "description": "one of the access blocks rest, ssh or snmp is required",
    "additionalProperties": False,
}


# PUT /v1/storages/{id}/access-info: blocks replace the stored ones (a block
# without its password keeps the stored password); vendor and model are fixed.
update_access_info = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "rest": _block(["host", "port"]),
        "ssh": _block(["host", "port"]),
        "snmp": _block(["host", "port"]),
        "extra_attributes": {"type": "object"},
    },
    "minProperties": 1,
    "additionalProperties": False,
}
