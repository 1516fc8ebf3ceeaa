"""Preprocessing jobs: ``/v1/storages/{id}/jobs`` (submit, list) and ``/v1/jobs`` (list, show, cancel).

The API records the job and the task that submits it in one transaction and
casts the task; a task manager submits it to the storage's back end (a CSD
agent) and mirrors its state into the job until it ends. Cancelling records a
cancel task on the urgent lane. The API never calls a driver.
"""

import pecan
from oslo_log import log as logging

from delfin_like.api import utils, validation, views
from delfin_like.api.schemas.v1 import jobs as schema
from delfin_like.common import exception
from delfin_like.common.constants import Lane, TaskStatus
from delfin_like.db import api as db_api

LOG = logging.getLogger(__name__)

JOB_FIELDS = (
    "id",
    "storage_id",
    "job_id",
    "name",
    "namespace",
    "status",
    "node",
    "message",
    "error",
    "exit_code",
    "submitted_at",
    "started_at",
    "completed_at",
    "submit_task_id",
    "cancel_task_id",
    "created_at",
    "updated_at",
)
# the spec as submitted; env values may hold what a job needs (tokens...): shown by name only
SPEC_FIELDS = (
    "command",
    "image",
    "data_path",
    "output_path",
    "target_node",
    "resources",
    "csd",
    "labels",
    "timeout_seconds",
)


def job_view(row: dict) -> dict:
    """What the API shows of a job: an allow-list, times in ISO 8601 UTC, env values withheld."""
    out = {key: views.isotime(row.get(key)) for key in JOB_FIELDS}
    spec = row.get("spec") or {}
    out["spec"] = {key: spec[key] for key in SPEC_FIELDS if key in spec}
    out["spec"]["env"] = sorted(spec.get("env") or {})
    return out


def _check_paths(body: dict) -> None:
    for key in ("data_path", "output_path"):
        if ".." in body[key].split("/"):
            raise exception.InvalidInput(f"{key} must not contain '..'")


def _check_storage_runs_jobs(storage_id: str) -> None:
    """400 JobsNotSupported unless the storage's driver declared jobs in its capabilities."""
    caps = db_api.storage_capabilities_get(storage_id).get("capabilities") or {}
    if not (caps.get("jobs") or {}).get("command"):
        raise exception.JobsNotSupported(storage_id)


def _cast_or_fail(task: dict, job: dict) -> None:
    """Cast the task; if the bus is down, mark task and job FAILED and re-raise (503)."""
    try:
        pecan.request.rpcapi.run_task(pecan.request.context, task)
    except Exception:
        LOG.warning("Job %s: task %s could not be dispatched", job["id"], task["id"])
        try:
            db_api.task_finish(task["id"], TaskStatus.FAILED, error="could not be dispatched: message bus unavailable")
            if task["id"] == job.get("submit_task_id"):
                failed = {"status": "FAILED", "message": "not dispatched", "error": "could not be dispatched"}
                db_api.job_mirror(job["id"], failed)
        except Exception:  # noqa: BLE001 - the client's 503 matters more
            LOG.exception("Could not record the undispatched task %s", task["id"])
        raise


class StorageJobsController(utils.StorageSubresource):
    """``/v1/storages/{id}/jobs``."""

    @pecan.expose("json")
    def get_all(self, storage_id, **_query):
        """``GET /v1/storages/{id}/jobs`` -> ``{"jobs": [...]}`` of that storage; 404 StorageNotFound."""
        db_api.storage_get(storage_id)
        params = utils.parse_list_params(pecan.request.GET, "jobs")
        if "storage_id" in params.filters:
            raise exception.InvalidInput("storage_id is given by the path")
        params.filters["storage_id"] = storage_id
        return views.collection("jobs", job_view, db_api.job_list(**params.as_kwargs()), params)

    @pecan.expose("json")
    def post(self, storage_id, **_form):
        """``POST /v1/storages/{id}/jobs`` -> 202 ``{"job": ...}`` (PENDING; a task submits it).

        400 on a malformed spec (relative path, bad id) or a storage that runs no jobs;
        404 StorageNotFound; 409 JobAlreadyExists or StorageBeingDeleted; 503 bus down.
        """
        body = validation.json_body(pecan.request)
        validation.validate(schema.submit, body)
        _check_paths(body)
        _check_storage_runs_jobs(storage_id)
        job, task = db_api.job_create(storage_id, body, priority=Lane.NORMAL)
        _cast_or_fail(task, job)
        LOG.info("Job %s (%s) submitted to storage %s, task %s", job["id"], job["job_id"], storage_id, task["id"])
        pecan.response.status = 202
        pecan.response.location = f"{pecan.request.host_url}/v1/jobs/{job['id']}"
        return {"job": job_view(job)}


class JobsController(utils.Collection):
    """``/v1/jobs``."""

    @pecan.expose("json")
    def get_all(self, **_query):
        """``GET /v1/jobs`` -> ``{"jobs": [...]}``; filters storage_id, status, job_id, namespace, name, node."""
        params = utils.parse_list_params(pecan.request.GET, "jobs")
        return views.collection("jobs", job_view, db_api.job_list(**params.as_kwargs()), params)

    @pecan.expose("json")
    def get_one(self, job_id, **_query):
        """``GET /v1/jobs/{id}`` -> the job as last mirrored from its back end; 404 JobNotFound."""
        return job_view(db_api.job_get(job_id))

    @pecan.expose("json")
    def delete(self, job_id):
        """``DELETE /v1/jobs/{id}``: cancel -> 202 ``{"job": ..., "task": ...}``; a finished job -> 200
        ``{"job": ...}`` unchanged (nothing to stop). 404 JobNotFound; 503 bus down."""
        job, task, created = db_api.job_cancel_request(job_id, priority=Lane.URGENT)
        if task is None:
            return {"job": job_view(job)}
        if created:
            _cast_or_fail(task, job)
            LOG.info("Job %s: cancel requested, task %s", job_id, task["id"])
        pecan.response.status = 202
        return {"job": job_view(job), "task": views.task(task)}
