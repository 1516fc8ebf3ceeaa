"""Access info: ``GET/PUT /v1/storages/{id}/access-info`` and ``GET /v1/access-infos``.

Secrets are write-only: responses show each access block without them. A PUT
re-probes the back end with the new details and refuses one that answers
with a different serial number (the credentials would point at another array).
"""

import pecan
from oslo_log import log as logging
from pecan import rest

from delfin_like import driver_manager
from delfin_like.api import utils, validation, views
from delfin_like.api.controllers.v1.storages import access_info_to_store, endpoints_of
from delfin_like.api.schemas.v1 import storages as schema
from delfin_like.common import crypto, exception
from delfin_like.db import api as db_api

LOG = logging.getLogger(__name__)


def _merged_body(stored: dict, update: dict) -> dict:
    """The registration-shaped body after ``update``: given blocks replace stored ones,
    a block given without its password keeps the stored one."""
    body = {"vendor": stored["vendor"], "model": stored["model"],
            "extra_attributes": update.get("extra_attributes", stored["extra_attributes"])}
    for protocol in driver_manager.ACCESS_PROTOCOLS:
        old = crypto.decrypt_block(stored.get(protocol))
        new = update.get(protocol)
        if new is None:
            if old is not None:
                body[protocol] = old
            continue
        block = dict(new)
        for secret in crypto.SECRET_FIELDS:
            if secret not in block and old and old.get(secret) is not None:
                block[secret] = old[secret]
        body[protocol] = block
    return body


class StorageAccessInfoController(utils.StorageSubresource):
    """``/v1/storages/{id}/access-info``."""

    @pecan.expose("json")
    def get_all(self, storage_id, **_query):
        """-> ``{"access_info": {...}}`` without secrets; 404 StorageNotFound."""
        return {"access_info": views.access_info(db_api.access_info_get(storage_id))}

    @pecan.expose("json")
    def put(self, storage_id, **_form):
        """Change how a storage is reached -> 200 ``{"access_info": {...}}``.

        400 for a bad body, bad credentials or an unreachable back end; 409 when
        the back end is a different array, the endpoint belongs to another
        storage, or the storage is being deleted. Nothing changes on any error.
        """
        update = validation.json_body(pecan.request)
        validation.validate(schema.update_access_info, update)
        storage = db_api.storage_get(storage_id)
        body = _merged_body(db_api.access_info_get(storage_id), update)
        validation.validate(schema.register, body)
        probed = driver_manager.probe(driver_manager.access_info_from_request(body, storage_id=storage_id))
        if probed.serial_number != storage["serial_number"]:
            raise exception.StorageSerialMismatch(probed.serial_number, storage["serial_number"])
        stored = db_api.access_info_replace(storage_id, access_info_to_store(body), endpoints_of(body))
        # drivers are built afresh from the stored access info for every task, so
        # there is no cached connection with the old details to drop
        LOG.info("Access info of storage %s changed (%s)", storage_id,
                 ", ".join(sorted(k for k in update if update[k] is not None)))
        return {"access_info": views.access_info(stored)}


class AccessInfosController(rest.RestController):
    """``/v1/access-infos``."""

    @pecan.expose("json")
    def get_all(self, **_query):
        """-> ``{"access_infos": [...]}`` without secrets; filters storage_id, vendor, model."""
        params = utils.parse_list_params(pecan.request.GET)
        rows = db_api.access_info_list(**params.as_kwargs())
        return views.collection("access_infos", views.access_info, rows)


class StorageCapabilitiesController(utils.StorageSubresource):
    """``/v1/storages/{id}/capabilities``: what the driver said at registration or the last sync."""

    @pecan.expose("json")
    def get_all(self, storage_id, **_query):
        return {"capabilities": views.capabilities(db_api.storage_capabilities_get(storage_id))}
