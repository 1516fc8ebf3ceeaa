"""delfin-like-scheduler: periodic and one-shot syncs and task re-dispatch. Run one or more.

Several may run against the same coordination backend (``[coordination]
backend_url``, Redis when they are on several machines): they elect one leader,
which alone acts; a follower takes over within ``[scheduler] leader_timeout``
if the leader dies, and at once when it stops (SIGTERM resigns).
"""

import sys

import delfin_like.cmd  # noqa: F401 - selects the threading backend first
from delfin_like.cmd import common
from delfin_like.rpc import client as rpc_client
from delfin_like.scheduler import service as scheduler_service


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``delfin-like-scheduler``."""
    common.parse_config(argv, description="delfin-like scheduler")
    scheduler = scheduler_service.SchedulerService(rpc_client.TaskAPI(), elect=True)
    # the scheduler takes no storage lock: its only coordinator is the election's own
    return common.launch(common.ProcessService("delfin-like-scheduler", [scheduler], uses_locks=False))


if __name__ == "__main__":
    sys.exit(main())
