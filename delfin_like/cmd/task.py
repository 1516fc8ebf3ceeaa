"""delfin-like-task: a task manager (RPC servers, one per lane). Run as many as you like.

Until the leader-elected scheduler exists, every task manager also runs the
re-dispatch scan, so a task whose cast was lost or whose worker died is run
again (a duplicate cast costs one refused claim).
"""

import sys

import delfin_like.cmd  # noqa: F401 - selects the threading backend first
from delfin_like.cmd import common
from delfin_like.rpc import client as rpc_client
from delfin_like.scheduler import service as scheduler_service
from delfin_like.task_manager import manager


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``delfin-like-task``."""
    common.parse_config(argv, description="delfin-like task manager")
    rpcapi = rpc_client.TaskAPI()
    children = [manager.TaskManagerService(rpcapi), scheduler_service.SchedulerService(rpcapi)]
    return common.launch(common.ProcessService("delfin-like-task", children))


if __name__ == "__main__":
    sys.exit(main())
