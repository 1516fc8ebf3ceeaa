"""``job submit|list|show|cancel``: preprocessing jobs on computational-storage nodes."""

import json

from delfin_like.cli import common, errors, formatting

JOB_COLUMNS = ("id", "storage_id", "job_id", "name", "namespace", "status", "node", "message", "error", "exit_code",
               "submitted_at", "started_at", "completed_at", "submit_task_id", "cancel_task_id", "created_at",
               "updated_at", "spec")


def job_row(job: dict, formatter: str) -> dict:
    """The job with its spec as one JSON line for tables; unchanged for machine formats."""
    if formatter in formatting.MACHINE_FORMATS:
        return job
    return {**job, "spec": json.dumps(job.get("spec") or {}, sort_keys=True)}


class SubmitJob(common.ShowOne):
    """Submit a job to a CSD node: the command runs there, reading data_path and writing under output_path."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("storage_id", help="storage id of the CSD node")
        parser.add_argument("--job-id", required=True, help="unique id of the job on that storage")
        parser.add_argument("--data-path", required=True, help="absolute path of the input data on the node")
        parser.add_argument("--output-path", required=True, help="absolute directory for the output on the node")
        parser.add_argument("--name", help="a readable name")
        parser.add_argument("--namespace", help="namespace of the job")
        parser.add_argument("--device", help="CSD device path the job may use (enables CSD offload)")
        parser.add_argument("--cpu", type=float, help="CPU cores the job may use")
        parser.add_argument("--memory", type=int, help="bytes of memory the job may use")
        parser.add_argument("--timeout", dest="job_timeout", type=int, help="seconds before the node stops the job")
        parser.add_argument("--label", action="append", default=[], metavar="KEY=VALUE", help="repeatable")
        parser.add_argument("job_command", nargs="+", metavar="-- COMMAND", help="the command and its arguments")
        return parser

    def take_action(self, parsed_args):
        body = {"job_id": parsed_args.job_id, "command": parsed_args.job_command,
                "data_path": parsed_args.data_path, "output_path": parsed_args.output_path}
        for key in ("name", "namespace"):
            if getattr(parsed_args, key):
                body[key] = getattr(parsed_args, key)
        if parsed_args.device:
            body["csd"] = {"enabled": True, "device_path": parsed_args.device}
        resources = {k: v for k, v in (("cpu", parsed_args.cpu), ("memory", parsed_args.memory)) if v is not None}
        if resources:
            body["resources"] = resources
        if parsed_args.job_timeout is not None:
            body["timeout_seconds"] = parsed_args.job_timeout
        if parsed_args.label:
            try:
                body["labels"] = dict(item.split("=", 1) for item in parsed_args.label)
            except ValueError:
                raise errors.CliError("--label takes KEY=VALUE")
        job = self.client.post(f"/v1/storages/{parsed_args.storage_id}/jobs", body)["job"]
        return self.show(parsed_args, job_row(job, parsed_args.formatter), JOB_COLUMNS)


class _OneJob(common.ShowOne):
    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("id", help="job id (the platform's id, as job list shows)")
        return parser

    def call(self, job_id: str) -> dict:
        raise NotImplementedError

    def take_action(self, parsed_args):
        job = self.call(parsed_args.id)
        return self.show(parsed_args, job_row(job, parsed_args.formatter), JOB_COLUMNS)


class ShowJob(_OneJob):
    """Show a job as last mirrored from its node: status, times, exit code, message or error."""

    def call(self, job_id):
        return self.client.get(f"/v1/jobs/{job_id}")


class CancelJob(_OneJob):
    """Cancel a job: the node stops its processes (a finished job is shown unchanged)."""

    def call(self, job_id):
        return self.client.delete(f"/v1/jobs/{job_id}")["job"]


class ListJobs(common.Lister):
    """List jobs (of one storage with --storage)."""

    path, key = "/v1/jobs", "jobs"
    columns = JOB_COLUMNS
    default_columns = ("id", "storage_id", "job_id", "name", "status", "exit_code", "submitted_at", "completed_at",
                       "error")

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--storage", help="storage id")
        parser.add_argument("--status", help="PENDING, RUNNING, COMPLETED, FAILED, CANCELLED or UNKNOWN")
        return parser

    def filters(self, parsed_args):
        return {"storage_id": parsed_args.storage, "status": parsed_args.status}

    def rows(self, parsed_args, rows):
        return super().rows(parsed_args, [job_row(r, parsed_args.formatter) for r in rows])
