"""``/v1/volumes``: the volumes found by syncs (read only)."""

import pecan
from pecan import rest

from delfin_like.api import utils, views
from delfin_like.db import api as db_api


class VolumesController(rest.RestController):
    @pecan.expose("json")
    def get_all(self, **_query):
        """``GET /v1/volumes`` -> ``{"volumes": [...]}``; ``storage_id`` and other exact filters."""
        params = utils.parse_list_params(pecan.request.GET)
        rows = db_api.resource_list("volumes", **params.as_kwargs())
        return views.collection("volumes", views.volume, rows)

    @pecan.expose("json")
    def get_one(self, volume_id, **_query):
        """``GET /v1/volumes/{id}`` -> the volume; 404 VolumeNotFound."""
        return views.volume(db_api.resource_get("volumes", volume_id))
