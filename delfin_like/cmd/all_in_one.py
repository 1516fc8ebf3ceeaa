"""delfin-like-all-in-one: API + task manager + scheduler in ONE process.

They share an in-process bus (``kombu+memory:////`` unless ``transport_url``
is set), so they must live in one process: cheroot threads serve the API.
With no config file it needs nothing but a writable ``state_path``: SQLite
there (migrated to head at start-up), ``file://`` locks under it and a
generated Fernet key file.
"""

import logging as std_logging
import os
import sys

import delfin_like.cmd  # noqa: F401 - selects the threading backend first
from delfin_like.api import wsgi
from delfin_like.cmd import common
from delfin_like.common import crypto
from delfin_like.conf import CONF
from delfin_like.rpc import client as rpc_client
from delfin_like.rpc import transport as rpc_transport
from delfin_like.scheduler import service as scheduler_service
from delfin_like.task_manager import manager


def _prepare() -> None:
    """Bring the database to the latest schema (runs after the db is configured)."""
    from delfin_like.db import migration

    migration.upgrade("head")


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
        wsgi.APIService(app_factory=lambda: app.setup_app(rpcapi)),
    ]
    return common.launch(common.ProcessService("delfin-like-all-in-one", children, prepare=_prepare))


if __name__ == "__main__":
    sys.exit(main())
