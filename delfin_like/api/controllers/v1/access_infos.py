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
    """The registration-shaped body after ``update``: a given block is merged into the stored
    one (every stored field it does not name, secrets included, is kept), a block given as
    ``null`` is removed, and a block not given stays as it is."""
    body = {"vendor": stored["vendor"], "model": stored["model"],
            "extra_attributes": update.get("extra_attributes", stored["extra_attributes"])}
    for protocol in driver_manager.ACCESS_PROTOCOLS:
        old = crypto.decrypt_block(stored.get(protocol))
        if protocol not in update:
            if old is not None:
                body[protocol] = old
            continue
        new = update[protocol]
        if new is not None:
            body[protocol] = {**(old or {}), **new}
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
        driver_manager.check_access_protocols(body)
        probed = driver_manager.probe(driver_manager.access_info_from_request(body, storage_id=storage_id))
        if probed.serial_number != storage["serial_number"]:
            raise exception.StorageSerialMismatch(probed.serial_number, storage["serial_number"])
        stored = db_api.access_info_replace(storage_id, access_info_to_store(body), endpoints_of(body))
        # drivers are built afresh from the stored access info for every task, so
        # there is no cached connection with the old details to drop
        LOG.info("Access info of storage %s changed (%s)", storage_id,
                 ", ".join(sorted(k if update[k] is not None else f"{k} removed" for k in update)))
        return {"access_info": views.access_info(stored)}


class AccessInfosController(rest.RestController):
    """``/v1/access-infos``."""

    @pecan.expose("json")
    def get_all(self, **_query):
        """-> ``{"access_infos": [...]}`` without secrets; filters storage_id, vendor, model."""
        params = utils.parse_list_params(pecan.request.GET, "access_infos")
        rows = db_api.access_info_list(**params.as_kwargs())
        return views.collection("access_infos", views.access_info, rows, params, marker_key="storage_id")


class StorageCapabilitiesController(utils.StorageSubresource):
    """``/v1/storages/{id}/capabilities``: what the driver said at registration or the last sync."""

    @pecan.expose("json")
    def get_all(self, storage_id, **_query):
        return {"capabilities": views.capabilities(db_api.storage_capabilities_get(storage_id))}
