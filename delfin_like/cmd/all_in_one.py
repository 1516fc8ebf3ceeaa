"""delfin-like-all-in-one: API + task manager + scheduler (+ the SNMP trap receiver) in ONE process.

They share an in-process bus (``kombu+delfin-memory:////`` unless ``transport_url``
is set), so they must live in one process: cheroot threads serve the API.
With no config file it needs nothing but a writable ``state_path``: SQLite
there (migrated to head at start-up), ``file://`` locks under it and a
generated Fernet key file. The trap receiver listens on ``[alert_receiver]`` host/port
unless ``[all_in_one] alert_receiver = false``; its counters are in this process's
``/metrics``. On the first start it registers a demo storage
(``[all_in_one] demo_storage``) so a new installation has something to show.
"""

import logging as std_logging
import os
import secrets
import sys

from oslo_context import context as oslo_context
from oslo_log import log as logging

import delfin_like.cmd  # noqa: F401 - selects the threading backend first
from delfin_like.alert_manager import service as alert_service
from delfin_like.api import wsgi
from delfin_like.api.controllers import metrics
from delfin_like.cmd import common
from delfin_like.common import crypto
from delfin_like.conf import CONF
from delfin_like.rpc import client as rpc_client
from delfin_like.rpc import transport as rpc_transport
from delfin_like.scheduler import service as scheduler_service
from delfin_like.task_manager import manager

LOG = logging.getLogger(__name__)

DEMO_MARKER = "demo-storage.registered"
# the fake driver: nothing is contacted (192.0.2.0/24 is for documentation only)
DEMO_BODY = {
    "vendor": "fake_storage",
    "model": "fake_driver",
    "rest": {"host": "192.0.2.10", "port": 8443, "username": "demo"},
    "extra_attributes": {"pools": 4, "volumes": 100, "churn": 2},
    "sync_policy": {"interval": 600},
}
DEMO_METRICS = {
    key: {"perf_collection": True, "interval": 60, "is_historic": False}
    for key in ("array_polling", "volume_polling", "port_polling", "disk_polling")
}


def _prepare() -> None:
    """Bring the database to the latest schema (runs after the db is configured)."""
    from delfin_like.db import migration

    migration.upgrade("head")


def register_demo_storage(rpcapi: rpc_client.TaskAPI) -> dict | None:
    """Register the demo storage if this is a new installation; returns it, or None.

    New means: the marker file is not in ``state_path`` and the database holds no storage.
    The marker is written once the demo is registered (or found an existing installation), so
    an operator who deletes the demo never sees it come back. A failure is logged, not fatal:
    the next start tries again.
    """
    from delfin_like.api.controllers.v1 import metrics_config, storages
    from delfin_like.db import api as db_api

    if not CONF.all_in_one.demo_storage:
        return None
    marker = os.path.join(CONF.state_path, DEMO_MARKER)
    if os.path.exists(marker):
        return None
    if db_api.storage_list(limit=1):
        LOG.info("The database already holds storages: no demo storage registered")
        _write_marker(marker, "existing installation")
        return None
    body = {**DEMO_BODY, "rest": {**DEMO_BODY["rest"], "password": secrets.token_urlsafe(16)}}
    context = oslo_context.RequestContext()
    try:
        storage = storages.register(body, lambda task: rpcapi.run_task(context, task))
        metrics_config.configure(storage["id"], DEMO_METRICS)
    except Exception as e:  # noqa: BLE001 - the service runs without its demo
        LOG.warning("Could not register the demo storage (%s); the next start tries again", e)
        return None
    _write_marker(marker, storage["id"])
    LOG.info(
        "Registered the demo storage %s (%s, fake driver: %s pools, %s volumes); delete it when done: "
        "it is not registered again",
        storage["id"],
        storage["name"],
        DEMO_BODY["extra_attributes"]["pools"],
        DEMO_BODY["extra_attributes"]["volumes"],
    )
    return storage


def _write_marker(path: str, content: str) -> None:
    with open(path, "w") as f:
        f.write(content + "\n")


class _DemoStorage:
    """Registers the demo storage once the task manager consumes its lanes, before the API opens."""

    def __init__(self, rpcapi: rpc_client.TaskAPI):
        self.rpcapi = rpcapi

    def start(self) -> None:
        register_demo_storage(self.rpcapi)

    def stop(self, graceful: bool = True) -> None:
        """Nothing runs in the background."""


class _AlertReceiver(alert_service.AlertReceiverService):
    """The trap receiver, not required (a port in use leaves the API up), its counters in /metrics."""

    def __init__(self, rpcapi: rpc_client.TaskAPI):
        super().__init__(required=False, rpcapi=rpcapi)

    def start(self) -> None:
        super().start()
        if self.running:
            metrics.register_local("trap_receiver", self.metric_families)

    def stop(self, graceful: bool = True) -> None:
        metrics.register_local("trap_receiver", None)
        super().stop(graceful)


class _NoHostnameFilter(std_logging.Filter):
    """kombu's in-memory transport has no host by design; drop its warning about that."""

    def filter(self, record: std_logging.LogRecord) -> bool:
        return "No hostname was supplied" not in record.getMessage()


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``delfin-like-all-in-one``."""
    common.parse_config(argv, description="delfin-like all-in-one (API, task manager, scheduler)")
    if not common.check_api_options("delfin-like-all-in-one"):
        return 2
    rpc_transport.use_in_process_defaults()
    if rpc_transport.is_in_process(CONF.transport_url):
        std_logging.getLogger("kombu.connection").addFilter(_NoHostnameFilter())
    os.makedirs(CONF.state_path, exist_ok=True)
    if not CONF.security.fernet_keys:
        crypto.ensure_key_file()
    from delfin_like.api import app

    rpcapi = rpc_client.TaskAPI()
    # start order: consume the lanes before the API can cast; stop order is the reverse
    children = [
        manager.TaskManagerService(rpcapi),
        # the only process: no election (tooz file:// has none), it always acts
        scheduler_service.SchedulerService(rpcapi, elect=False),
        # before the API opens: a new user who finds the API up finds the demo too
        _DemoStorage(rpcapi),
        *([_AlertReceiver(rpcapi)] if CONF.all_in_one.alert_receiver else []),
        wsgi.APIService(app_factory=lambda: app.setup_app(rpcapi)),
    ]
    return common.launch(common.ProcessService("delfin-like-all-in-one", children, prepare=_prepare))


if __name__ == "__main__":
    sys.exit(main())
