"""delfin-like-task: a task manager (RPC servers, one per lane). Run as many as you like.

Re-dispatch of lost casts and of the tasks of dead task managers, and the
periodic syncs, are the scheduler's (``delfin-like-scheduler``).
"""

import sys

import delfin_like.cmd  # noqa: F401 - selects the threading backend first
from delfin_like.cmd import common
from delfin_like.rpc import client as rpc_client
from delfin_like.task_manager import manager


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``delfin-like-task``."""
    common.parse_config(argv, description="delfin-like task manager")
    rpcapi = rpc_client.TaskAPI()
    return common.launch(common.ProcessService("delfin-like-task", [manager.TaskManagerService(rpcapi)]))


if __name__ == "__main__":
    sys.exit(main())
