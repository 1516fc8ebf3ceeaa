"""JSON schemas of ``POST /v1/storages`` (Delfin's registration body), access-info updates and sync requests."""

from delfin_like.api.schemas.v1.sync_policy import sync_policy as _SYNC_POLICY

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
        # SSH logs in with a password or a private key (or both: the password then also unlocks the key)
        "ssh": {
            **_block(["host", "port", "username"]),
            "anyOf": [{"required": ["password"]}, {"required": ["private_key"]}],
            "description": "an ssh block needs a password or a private_key",
        },
        # SNMPv2c has a community instead of a user; v3 carries username and keys
        "snmp": _block(["host", "port"]),
        "extra_attributes": {"type": "object"},
        # beyond Delfin: the storage's periodic / one-shot sync (defaults from [scheduler])
        "sync_policy": _SYNC_POLICY,
    },
    "required": ["vendor", "model"],
    "anyOf": [{"required": ["rest"]}, {"required": ["ssh"]}, {"required": ["snmp"]}],
    "description": "one of the access blocks rest, ssh or snmp is required",
    "additionalProperties": False,
}


def _block_or_null(required: list[str]) -> dict:
    # null removes the stored block
    block = _block(required)
    return {**block, "type": ["object", "null"]}


# PUT /v1/storages/{id}/access-info: a block is merged into the stored one (fields it does
# not name, the password included, are kept), null removes it; vendor and model are fixed.
update_access_info = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        # the merged result is validated as a registration: a rest block still needs a user
        "rest": _block_or_null(["host", "port"]),
        "ssh": _block_or_null(["host", "port"]),
        "snmp": _block_or_null(["host", "port"]),
        "extra_attributes": {"type": "object"},
    },
    "minProperties": 1,
    "additionalProperties": False,
}


# POST /v1/storages/sync and /v1/storages/{id}/sync: no body, or an empty object
sync = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {},
    "additionalProperties": False,
}
