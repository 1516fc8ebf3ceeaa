"""``GET /v1/task-managers``: the task managers that run or ran, with their counters and state.

Each task manager reports every ``[task_manager] report_interval`` seconds; one
whose last report is older than ``[task_manager] service_down_time``, or that
recorded its stop, is ``down``.
"""

import datetime

import pecan
from pecan import rest

from delfin_like.api import utils, views
from delfin_like.conf import CONF
from delfin_like.db import api as db_api

UP, DOWN = "up", "down"


def status_of(row: dict, now: datetime.datetime) -> str:
    """``up`` or ``down`` for a task manager record at ``now`` (naive UTC)."""
    if row.get("stopped_at") is not None:
        return DOWN
    age = (now - row["last_heartbeat"]).total_seconds()
    return UP if age <= CONF.task_manager.service_down_time else DOWN


class TaskManagersController(rest.RestController):
    @pecan.expose("json")
    def get_all(self, **_query):
        """``GET /v1/task-managers`` -> ``{"task_managers": [...]}``, newest start first; filter ``host``."""
        params = utils.parse_list_params(pecan.request.GET, "task_managers")
        rows = db_api.task_manager_list(**params.as_kwargs())
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        for row in rows:
            row["status"] = status_of(row, now)
        return views.collection("task_managers", views.task_manager, rows, params)
