"""``/v1/storage-pools``: the pools found by syncs (read only)."""

import pecan
from pecan import rest

from delfin_like.api import utils, views
from delfin_like.db import api as db_api


class StoragePoolsController(rest.RestController):
    @pecan.expose("json")
    def get_all(self, **_query):
        """``GET /v1/storage-pools`` -> ``{"storage_pools": [...]}``; ``storage_id`` and other exact filters."""
        params = utils.parse_list_params(pecan.request.GET)
        rows = db_api.resource_list("storage_pools", **params.as_kwargs())
        return views.collection("storage_pools", views.storage_pool, rows)

    @pecan.expose("json")
    def get_one(self, storage_pool_id, **_query):
        """``GET /v1/storage-pools/{id}`` -> the pool; 404 StoragePoolNotFound."""
        return views.storage_pool(db_api.resource_get("storage_pools", storage_pool_id))
