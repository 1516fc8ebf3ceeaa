"""``/``: the version list and the health probes."""

import pecan

from delfin_like.api import readiness
from delfin_like.api.controllers import metrics
from delfin_like.api.controllers import v1 as v1_controllers


def _get_only():
    """A generic pecan handler for the methods that were not declared: 405."""
    pecan.abort(405)


class RootController:
    v1 = v1_controllers.V1Controller()
    metrics = metrics.MetricsController()

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
        """Readiness: database, message bus and lock backend, each bounded (~2 s in all).

        200 ``{"status": "ok", "checks": {"database": "ok", "message_bus": "ok", "locks": "ok"}}``;
        503 with the error shape, ``error_code`` naming the first failed dependency
        (DatabaseUnavailable, MessageBusUnavailable, CoordinationUnavailable),
        ``error_args`` listing every failed check and ``checks`` their states.
        """
        checks = readiness.run()
        error = readiness.first_failure(checks)
        if error is None:
            return {"status": "ok", "checks": checks}
        pecan.response.status = error.code
        failed = [name for name, state in checks.items() if state != readiness.OK]
        return {"error_code": error.error_code, "error_msg": error.msg, "error_args": failed,
                "status": "unavailable", "checks": checks}
