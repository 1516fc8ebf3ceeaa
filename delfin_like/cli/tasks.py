"""``task list``, ``task show`` and ``task cancel``."""

from delfin_like.cli import common, formatting
from delfin_like.common.constants import TaskStatus, TaskType

TASK_COLUMNS = ("id", "type", "storage_id", "priority", "status", "attempts", "lease_owner", "lease_expires_at",
                "created_at", "started_at", "finished_at", "updated_at", "result", "error")


def task_row(task: dict, formatter: str) -> dict:
    """The task with its result as readable lines for tables; unchanged for machine formats."""
    if formatter in formatting.MACHINE_FORMATS:
        return task
    return {**task, "result": formatting.task_summary(task.get("result"))}


class _OneTask(common.ShowOne):
    """A command on one task by id that shows the task the API answers with."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("task_id", help="task id")
        return parser

    def call(self, task_id: str) -> dict:
        raise NotImplementedError

    def take_action(self, parsed_args):
        task = self.call(parsed_args.task_id)
        return self.show(parsed_args, task_row(task, parsed_args.formatter), TASK_COLUMNS)


class ShowTask(_OneTask):
    """Show a task: status, attempts, lease, and its result counts or error."""

    def call(self, task_id):
        return self.client.get(f"/v1/tasks/{task_id}")


class CancelTask(_OneTask):
    """Cancel a PENDING or RUNNING sync task (a running sync then writes nothing)."""

    def call(self, task_id):
        return self.client.delete(f"/v1/tasks/{task_id}")


class ListTasks(common.Lister):
    """List tasks (newest first unless --sort says otherwise)."""

    path, key = "/v1/tasks", "tasks"
    columns = TASK_COLUMNS
    default_columns = ("id", "type", "storage_id", "priority", "status", "attempts", "created_at", "finished_at",
                       "error")

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--storage", help="storage id")
        parser.add_argument("--status", choices=TaskStatus.ALL, metavar="STATUS",
                            help="one of " + ", ".join(TaskStatus.ALL))
        parser.add_argument("--type", choices=TaskType.ALL, metavar="TYPE", help="one of " + ", ".join(TaskType.ALL))
        return parser

    def filters(self, parsed_args):
        return {"storage_id": parsed_args.storage, "status": parsed_args.status, "type": parsed_args.type,
                "sort": parsed_args.sort or "created_at:desc"}

    def rows(self, parsed_args, rows):
        return super().rows(parsed_args, [task_row(r, parsed_args.formatter) for r in rows])
