"""The ``/v1`` controller tree."""

import pecan

from delfin_like.api import views
from delfin_like.api.controllers import openapi
from delfin_like.api.controllers.v1 import (
    access_infos,
    alert_source,
    alerts,
    inventory,
    jobs,
    metrics_config,
    storages,
    sync_policy,
    task_managers,
    tasks,
)

# the date of the last change to the v1 contract
V1_UPDATED = "2024-01-01T00:00:00Z"


def version_document(host_url: str) -> dict:
    """The description of v1 shown by ``GET /`` and ``GET /v1``."""
    return {
        "id": "v1",
        "status": "CURRENT",
        "updated": V1_UPDATED,
        "links": [{"rel": "self", "href": f"{host_url}/v1/"}],
        "media-types": [{"base": "application/json", "type": "application/json"}],
    }


class V1Controller:
    storages = storages.StoragesController()
    volumes = inventory.InventoryController("volumes", views.volume, views.VOLUME_FIELDS)
    controllers = inventory.InventoryController("controllers", views.controller, views.CONTROLLER_FIELDS)
    ports = inventory.InventoryController("ports", views.port, views.PORT_FIELDS)
    disks = inventory.InventoryController("disks", views.disk, views.DISK_FIELDS)
    tasks = tasks.TasksController()
    alerts = alerts.AlertsController()

    @pecan.expose(generic=True)
    def index(self):
        pecan.abort(405)

    @index.when(method="GET", template="json")
    def index_get(self):
        """``GET /v1`` -> ``{"version": {...}}``."""
        return {"version": version_document(pecan.request.host_url)}


# path segments with a hyphen cannot be attribute names
pecan.route(
    V1Controller, "storage-pools",
    inventory.InventoryController("storage_pools", views.storage_pool, views.STORAGE_POOL_FIELDS),
)
pecan.route(V1Controller, "access-infos", access_infos.AccessInfosController())
pecan.route(V1Controller, "openapi.json", openapi.OpenAPIController())
pecan.route(V1Controller, "task-managers", task_managers.TaskManagersController())
pecan.route(V1Controller, "jobs", jobs.JobsController())
pecan.route(V1Controller, "snmp-configs", alert_source.SnmpConfigsController())
pecan.route(storages.StoragesController, "access-info", access_infos.StorageAccessInfoController())
pecan.route(storages.StoragesController, "sync-policy", sync_policy.SyncPolicyController())
pecan.route(storages.StoragesController, "metrics-config", metrics_config.StorageMetricsConfigController())
storages.StoragesController.capabilities = access_infos.StorageCapabilitiesController()
storages.StoragesController.jobs = jobs.StorageJobsController()
storages.StoragesController.alerts = alerts.StorageAlertsController()
pecan.route(storages.StoragesController, "snmp-config", alert_source.StorageSnmpConfigController())
