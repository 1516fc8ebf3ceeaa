"""Alert sources (Delfin's snmp-config): ``PUT/GET/DELETE /v1/storages/{id}/snmp-config``, ``GET /v1/snmp-configs``.

A storage's snmp-config says how its traps are authenticated (and how its SNMP agent is reached):
SNMPv1/v2c a community, SNMPv3 a user with the keys its security level needs. A PUT replaces the
whole config; the fields a version does not use are stored empty. ``community_string``,
``auth_key`` and ``privacy_key`` are encrypted at rest and write-only: no response, log line or
error message holds them.
"""

import pecan
from oslo_log import log as logging

from delfin_like.api import utils, validation, views
from delfin_like.api.schemas.v1 import alert_source as schema
from delfin_like.common import exception
from delfin_like.db import api as db_api

LOG = logging.getLogger(__name__)

_V3_FIELDS = ("username", "security_level", "auth_protocol", "auth_key", "privacy_protocol", "privacy_key",
              "engine_id", "context_name")


def check(body: dict) -> dict:
    """A schema-valid body -> the values to store, refusing what its version and level lack.

    :raises InvalidInput: naming the missing fields (never a submitted value).
    """
    values = dict(body)
    values["version"] = body["version"].lower()
    values.setdefault("port", schema.DEFAULT_PORT)
    values.setdefault("retry_num", schema.DEFAULT_RETRY_NUM)
    values.setdefault("expiration", schema.DEFAULT_EXPIRATION)
    if values["version"] != "snmpv3":
        if not values.get("community_string"):
            raise exception.InvalidInput(f"{values['version']} needs community_string")
        for name in _V3_FIELDS:
            values[name] = None
        return values
    values["community_string"] = None
    if not values.get("username") or not values.get("security_level"):
        raise exception.InvalidInput("snmpv3 needs username and security_level")
    level = values["security_level"]
    if level in ("authNoPriv", "authPriv"):
        if not values.get("auth_protocol") or not values.get("auth_key"):
            raise exception.InvalidInput(f"security_level {level} needs auth_protocol and auth_key")
        values["auth_protocol"] = schema.AUTH_PROTOCOLS[values["auth_protocol"]]
    else:
        values["auth_protocol"] = values["auth_key"] = None
    if level == "authPriv":
        if not values.get("privacy_protocol") or not values.get("privacy_key"):
            raise exception.InvalidInput("security_level authPriv needs privacy_protocol and privacy_key")
        values["privacy_protocol"] = schema.PRIVACY_PROTOCOLS[values["privacy_protocol"]]
    else:
        values["privacy_protocol"] = values["privacy_key"] = None
    return values


class StorageSnmpConfigController(utils.StorageSubresource):
    """``/v1/storages/{id}/snmp-config``."""

    @pecan.expose("json")
    def get_all(self, storage_id, **_query):
        """-> the config without its secrets; 404 StorageNotFound or AlertSourceNotFound."""
        db_api.storage_get(storage_id)
        return views.alert_source(db_api.alert_source_get(storage_id))

    @pecan.expose("json")
    def put(self, storage_id, **_form):
        """Create or replace -> 200 with the config (no secrets). 400 invalid body; 404 unknown storage;
        409 being deleted. Nothing changes on any error."""
        body = validation.json_body(pecan.request)
        validation.validate(schema.put, body)
        values = check(body)
        db_api.storage_get(storage_id)
        stored = db_api.alert_source_put(storage_id, values)
        LOG.info("snmp-config of storage %s set: %s to %s:%s", storage_id, stored["version"], stored["host"],
                 stored["port"])
        return views.alert_source(stored)

    # no template: a 204 has no body, and a client that accepts only JSON is still served
    @pecan.expose(content_type="application/json")
    def delete(self, storage_id):
        """-> 204; 404 StorageNotFound or AlertSourceNotFound."""
        db_api.storage_get(storage_id)
        db_api.alert_source_delete(storage_id)
        LOG.info("snmp-config of storage %s deleted", storage_id)
        pecan.response.status = 204
        return ""


class SnmpConfigsController(utils.Collection):
    """``/v1/snmp-configs``."""

    @pecan.expose("json")
    def get_all(self, **_query):
        """-> ``{"snmp_configs": [...]}`` by storage id, no secrets; paged (``limit``, ``marker`` a storage
        id, ``next``) like every list; filter ``storage_id``."""
        params = utils.parse_list_params(pecan.request.GET, "snmp_configs")
        rows = db_api.alert_source_page(**params.as_kwargs())
        return views.collection("snmp_configs", views.alert_source, rows, params, marker_key="storage_id")
