"""``/``: the version list and the health probes."""

import pecan

from delfin_like.api.controllers import v1 as v1_controllers
from delfin_like.db import api as db_api


def _get_only():
    """A generic pecan handler for the methods that were not declared: 405."""
    pecan.abort(405)


class RootController:
    v1 = v1_controllers.V1Controller()

    @pecan.expose(generic=True)
    def index(self):
        _get_only()

    @index.when(method="GET", template="json")
    def index_get(self):
        """``GET /`` -> ``{"versions": [...]}``."""
        return {"versions": [v1_controllers.version_document(pecan.request.host_url)]}

    @pecan.expose(generic=True)
    def healthz(self):
        _get_only()

    @healthz.when(method="GET", template="json")
    def healthz_get(self):
        """Liveness: the process answers. Touches nothing else."""
        return {"status": "ok"}

    @pecan.expose(generic=True)
    def readyz(self):
        _get_only()

    @readyz.when(method="GET", template="json")
    def readyz_get(self):
        """Readiness: the database answers (503 DatabaseUnavailable otherwise)."""
        db_api.ping()
        return {"status": "ok"}
