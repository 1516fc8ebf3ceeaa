"""Read-only inventory collections found by syncs: ``/v1/storage-pools``, ``/v1/volumes``.

One controller class serves every resource type; each instance knows its
type (as ``db.api.resource_list`` names it) and the view that shapes a row.
"""

from collections.abc import Callable

import pecan
from pecan import rest

from delfin_like.api import utils, views
from delfin_like.db import api as db_api


class InventoryController(rest.RestController):
    def __init__(self, resource_type: str, view: Callable[[dict], dict], fields: tuple[str, ...]):
        self.resource_type = resource_type
        self.view = view
        # the view's allow-list: a list page selects just these columns, as tuples (views.row_dicts)
        self.fields = fields

    @pecan.expose("json")  # content negotiation as every JSON route; the body comes encoded already
    def get_all(self, **_query):
        """``GET /v1/<type>`` -> ``{"<type>": [...]}``; ``storage_id`` and other exact filters."""
        params = utils.parse_list_params(pecan.request.GET, self.resource_type)
        rows = db_api.resource_rows(self.resource_type, self.fields, **params.as_kwargs())
        return utils.json_response(views.row_collection(self.resource_type, self.fields, rows, params))

    @pecan.expose("json")
    def get_one(self, resource_id, **_query):
        """``GET /v1/<type>/{id}`` -> the row; 404 with the type's not-found error."""
        return self.view(db_api.resource_get(self.resource_type, resource_id))
