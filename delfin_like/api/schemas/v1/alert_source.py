"""JSON schema of ``PUT /v1/storages/{id}/snmp-config`` (Delfin's alert source body).

The schema checks each field; :func:`delfin_like.api.controllers.v1.alert_source.check` then
checks what a version and security level need (v1/v2c a community, v3 a username and the keys
of its level). Protocol names are the SNMP driver's (``SHA``, ``AES``...); Delfin's names
(``HMACSHA``, ``HMCSHA2256``...) are accepted as aliases and stored as the driver's name.
"""

VERSIONS = ("snmpv1", "snmpv2c", "snmpv3")
SECURITY_LEVELS = ("noAuthnoPriv", "authNoPriv", "authPriv")
# the driver's names (drivers/delfin_like_drivers/generic/snmp_client.py) -> themselves; Delfin's -> the driver's
AUTH_PROTOCOLS = {
    **{name: name for name in ("MD5", "SHA", "SHA1", "SHA224", "SHA256", "SHA384", "SHA512")},
    "HMACMD5": "MD5", "HMACSHA": "SHA", "HMCSHA2224": "SHA224", "HMCSHA2256": "SHA256",
    "HMCSHA2384": "SHA384", "HMCSHA2512": "SHA512",
}
PRIVACY_PROTOCOLS = {name: name for name in ("DES", "3DES", "AES", "AES128", "AES192", "AES256", "AES192C",
                                             "AES256C")}
DEFAULT_PORT = 161
DEFAULT_RETRY_NUM = 1
DEFAULT_EXPIRATION = 2000

_key = {"type": "string", "minLength": 8, "maxLength": 1024}

put = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "host": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[A-Za-z0-9.:_-]+$"},
        "version": {"type": "string", "enum": [*VERSIONS, "SNMPv1", "SNMPv2c", "SNMPv3"]},
        "community_string": {"type": "string", "minLength": 1, "maxLength": 32},
        "username": {"type": "string", "minLength": 1, "maxLength": 32},
        "security_level": {"type": "string", "enum": list(SECURITY_LEVELS)},
        "auth_protocol": {"type": "string", "enum": sorted(AUTH_PROTOCOLS)},
        "auth_key": _key,
        "privacy_protocol": {"type": "string", "enum": sorted(PRIVACY_PROTOCOLS)},
        "privacy_key": _key,
        "engine_id": {"type": "string", "minLength": 9, "maxLength": 64, "pattern": "^[0-9A-Fa-f]+$"},
        "context_name": {"type": "string", "minLength": 0, "maxLength": 32},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "retry_num": {"type": "integer", "minimum": 0, "maximum": 10},
        "expiration": {"type": "integer", "minimum": 1, "maximum": 600000},
    },
    "required": ["host", "version"],
    "additionalProperties": False,
}
