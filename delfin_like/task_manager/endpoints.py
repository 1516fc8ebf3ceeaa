"""RPC endpoints of the task manager: thin, versioned, hand over to the manager."""

import oslo_messaging
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

# must equal delfin_like.rpc.client.TaskAPI.RPC_API_VERSION (a unit test checks)
RPC_API_VERSION = "1.0"


class TaskManagerEndpoint:
    """Server side of :class:`delfin_like.rpc.client.TaskAPI`.

    API version history:

    * 1.0 - Initial version: ``run_task(task_id)``.
    """

    target = oslo_messaging.Target(version=RPC_API_VERSION)

    def __init__(self, manager):
        """:param manager: a :class:`delfin_like.task_manager.manager.TaskManager`."""
        self.manager = manager

    def run_task(self, context, task_id: str) -> None:
        """Run task ``task_id`` (a ``tasks`` row id); the outcome is written to that row."""
        LOG.debug("run_task %s (request %s)", task_id, getattr(context, "request_id", None))
        self.manager.run_task(context, task_id)
