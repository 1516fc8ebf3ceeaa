"""``/v1/tasks``: the units of work, their results, and cancelling a sync."""

import pecan

from delfin_like.api import utils, views
from delfin_like.db import api as db_api


class TasksController(utils.Collection):
    @pecan.expose("json")
    def get_all(self, **_query):
        """``GET /v1/tasks`` -> ``{"tasks": [...]}``; filters such as storage_id, status, type."""
        params = utils.parse_list_params(pecan.request.GET, "tasks")
        return views.collection("tasks", views.task, db_api.task_list(**params.as_kwargs()), params)

    @pecan.expose("json")
    def get_one(self, task_id, **_query):
        """``GET /v1/tasks/{id}`` -> the task with its result counts or error; 404 TaskNotFound."""
        return views.task(db_api.task_get(task_id))

    @pecan.expose("json")
    def delete(self, task_id):
        """``DELETE /v1/tasks/{id}``: cancel a PENDING or RUNNING sync -> 200 with the task.

        A running sync keeps going until it would write, then writes nothing.
        404 TaskNotFound; 409 TaskNotCancellable when finished or not a sync.
        """
        return views.task(db_api.task_cancel(task_id))
