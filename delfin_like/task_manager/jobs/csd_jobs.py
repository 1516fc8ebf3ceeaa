"""Preprocessing jobs on computational storage: submit one and follow it to its end; cancel one.

``job_submit``: find the job on the back end (an earlier attempt may have
submitted it) or submit it, then read its state every ``POLL_INTERVAL`` seconds
and mirror every change into the ``jobs`` row until it ends. The task holds its
lease (and one worker) while it follows the job; if it is handed back, another
task manager picks up the following where it stopped. ``job_cancel``: stop the
job on the back end and mirror the outcome; a job that never reached the back
end is cancelled in the platform, and its submit task then never submits it.

No storage lock is taken: following a job for hours must not block syncs.
"""

import datetime
import time

from oslo_log import log as logging

from delfin_like import driver_manager
from delfin_like.common import exception
from delfin_like.common.constants import TaskStatus
from delfin_like.db import api as db_api
from delfin_like.sdk import exceptions as sdk_exc
from delfin_like.sdk import models
from delfin_like.task_manager import jobs

LOG = logging.getLogger(__name__)

POLL_INTERVAL = 1.0  # seconds between two reads of a running job's state
MAX_UNREACHABLE = 60  # consecutive failed reads before the task is handed back

_JOB_ERRORS = (sdk_exc.JobNotFound, sdk_exc.JobAlreadyExists, sdk_exc.InvalidJob, sdk_exc.NotSupported)


def _epoch_to_db(epoch: float | None):
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).replace(tzinfo=None)


def mirrored_values(remote: models.Job) -> dict:
    """The columns of a job row that follow what the back end reported."""
    return {
        "status": remote.status if remote.status in models.JobStatus.ALL else models.JobStatus.UNKNOWN,
        "node": remote.node,
        "message": remote.message,
        "error": remote.error or None,
        "exit_code": remote.exit_code,
        "submitted_at": _epoch_to_db(remote.submitted_at),
        "started_at": _epoch_to_db(remote.started_at),
        "completed_at": _epoch_to_db(remote.completed_at),
    }


def job_spec(row: dict) -> models.JobSpec:
    """The sdk spec of a job row (its ``spec`` is the validated request body)."""
    s = row["spec"]
    resources, csd = s.get("resources") or {}, s.get("csd") or {}
    return models.JobSpec(
        job_id=s["job_id"],
        command=tuple(s["command"]),
        data_path=s["data_path"],
        output_path=s["output_path"],
        name=s.get("name") or "",
        namespace=s.get("namespace") or "default",
        image=s.get("image") or "",
        target_node=s.get("target_node") or "",
        cpu=float(resources.get("cpu") or 0),
        memory=int(resources.get("memory") or 0),
        csd_enabled=bool(csd.get("enabled")),
        csd_device_path=csd.get("device_path") or "",
        labels=dict(s.get("labels") or {}),
        env=dict(s.get("env") or {}),
        timeout_seconds=int(s.get("timeout_seconds") or 0),
    )


def _call(fn, *args, what: str):
    """Call a driver job method: job refusals stay sdk errors, the rest become platform errors.

    Each RPC of the driver carries the access info's deadline, so the call is bounded.
    """
    try:
        return fn(*args)
    except _JOB_ERRORS:
        raise
    except exception.DelfinLikeException:
        raise
    except Exception as e:  # noqa: BLE001 - the choke point for everything else a driver raises
        raise driver_manager.translate(e, what) from e


def _still_ours(task_id: str, owner: str) -> bool:
    try:
        state = db_api.task_state(task_id)
    except exception.TaskNotFound:
        return False
    return state["status"] == TaskStatus.RUNNING and state["lease_owner"] == owner


def _refused(job: dict, e: sdk_exc.DriverError) -> None:
    """The back end will not run the job: record why on the job, fail the task with it."""
    if isinstance(e, sdk_exc.NotSupported):
        reason = "the storage's driver runs no jobs"
    else:
        reason = e.message
    db_api.job_mirror(
        job["id"],
        {
            "status": models.JobStatus.FAILED,
            "message": "refused by the node",
            "error": reason,
            "completed_at": _epoch_to_db(time.time()),
        },
    )
    LOG.warning("Job %s (%s) refused by the back end: %s (%s)", job["id"], job["job_id"], reason, e.detail)
    raise exception.InvalidJob(reason)


def _find_or_submit(driver, job: dict) -> models.Job:
    """The job on the back end: an earlier attempt's, or submitted now."""
    try:
        try:
            return _call(driver.get_job, job["job_id"], what="get_job")
        except sdk_exc.JobNotFound:
            pass
        try:
            remote = _call(driver.submit_job, job_spec(job), what="submit_job")
        except sdk_exc.JobAlreadyExists:
            # an attempt of ours raced this one to the node
            remote = _call(driver.get_job, job["job_id"], what="get_job")
        LOG.info("Job %s (%s) submitted to storage %s", job["id"], job["job_id"], job["storage_id"])
        return remote
    except (sdk_exc.InvalidJob, sdk_exc.NotSupported) as e:
        _refused(job, e)


def _follow(driver, job: dict, remote: models.Job, task_id: str, owner: str) -> tuple[models.Job, bool]:
    """Mirror the job until it ends. Returns its last state and whether the task is still ours."""
    last = mirrored_values(remote)
    failures = 0
    while remote.status in models.JobStatus.ACTIVE:
        time.sleep(POLL_INTERVAL)
        if not _still_ours(task_id, owner):
            LOG.info("Job %s: task %s is no longer ours; another attempt follows it", job["id"], task_id)
            return remote, False
        try:
            remote = _call(driver.get_job, job["job_id"], what="get_job")
            failures = 0
        except exception.BackendUnreachable as e:
            failures += 1
            if failures >= MAX_UNREACHABLE:
                raise
            if failures == 1:
                db_api.job_mirror(job["id"], {"message": f"node unreachable, retrying: {e.msg}"})
            continue
        except sdk_exc.JobNotFound:
            db_api.job_mirror(
                job["id"],
                {
                    "status": models.JobStatus.FAILED,
                    "message": "lost by the node",
                    "error": "the node no longer knows the job",
                    "completed_at": _epoch_to_db(time.time()),
                },
            )
            return remote, True
        values = mirrored_values(remote)
        if values != last:
            db_api.job_mirror(job["id"], values)
            last = values
    return remote, True


def run_submit(task: dict, owner: str) -> dict | None:
    """Submit the job of ``task`` and follow it to its end; the task then COMPLETES with its status.

    :raises InvalidJob: the back end refused the job (recorded on the job too).
    :raises BackendUnreachable: transient; the task is handed back and the next attempt resumes.
    """
    job = db_api.job_for_task(task["id"])
    if job is None or job["status"] in models.JobStatus.FINISHED:
        # the job went with its storage, or was cancelled before it was ever submitted
        result = {"job": job["id"] if job else None, "status": job["status"] if job else None}
        db_api.task_finish(task["id"], TaskStatus.COMPLETED, result=result, owner=owner)
        return result
    driver = jobs.driver_for(job["storage_id"])
    try:
        if job["status"] == models.JobStatus.PENDING and not job["node"]:
            db_api.job_mirror(job["id"], {"message": f"being submitted by task manager {owner}"})
        remote = _find_or_submit(driver, job)
        try:
            mirrored = db_api.job_mirror(job["id"], mirrored_values(remote))
            if mirrored["status"] == models.JobStatus.CANCELLED and remote.status in models.JobStatus.ACTIVE:
                # cancelled in the platform while it was being submitted
                remote = _call(driver.cancel_job, job["job_id"], what="cancel_job")
                db_api.job_mirror(job["id"], mirrored_values(remote))
            remote, ours = _follow(driver, job, remote, task["id"], owner)
        except exception.JobNotFound:
            # its storage was removed meanwhile
            LOG.info("Job %s went with its storage; no longer followed", job["id"])
            ours = True
    finally:
        driver_manager.close_quietly(driver, f"job {job['id']}")
    result = {"job": job["id"], "job_id": job["job_id"], "status": remote.status}
    if ours:
        db_api.task_finish(task["id"], TaskStatus.COMPLETED, result=result, owner=owner)
        LOG.info("Job %s (%s) ended %s", job["id"], job["job_id"], remote.status)
    return result


def run_cancel(task: dict, owner: str) -> dict:
    """Stop the job of ``task`` on its back end and mirror the outcome; the task COMPLETES."""
    job = db_api.job_for_task(task["id"])
    if job is None or job["status"] in models.JobStatus.FINISHED:
        result = {"job": job["id"] if job else None, "status": job["status"] if job else None}
        db_api.task_finish(task["id"], TaskStatus.COMPLETED, result=result, owner=owner)
        return result
    driver = jobs.driver_for(job["storage_id"])
    try:
        try:
            remote = _call(driver.cancel_job, job["job_id"], what="cancel_job")
            job = db_api.job_mirror(job["id"], mirrored_values(remote))
        except sdk_exc.JobNotFound:
            # it never reached the node: its submit task finds it CANCELLED and does not submit it
            job = db_api.job_mirror(
                job["id"],
                {
                    "status": models.JobStatus.CANCELLED,
                    "message": "cancelled in the platform",
                    "error": "cancelled before it reached the node",
                    "completed_at": _epoch_to_db(time.time()),
                },
            )
        except (sdk_exc.InvalidJob, sdk_exc.NotSupported) as e:
            raise exception.InvalidJob(
                e.message if not isinstance(e, sdk_exc.NotSupported) else "the storage's driver runs no jobs"
            )
    finally:
        driver_manager.close_quietly(driver, f"job {job['id']}")
    result = {"job": job["id"], "job_id": job["job_id"], "status": job["status"]}
    db_api.task_finish(task["id"], TaskStatus.COMPLETED, result=result, owner=owner)
    LOG.info("Job %s (%s) cancel: now %s", job["id"], job["job_id"], job["status"])
    return result
