"""The task manager's jobs: sync, remove, perf collection and CSD jobs."""

from oslo_log import log as logging

from delfin_like import driver_manager
from delfin_like.common import exception
from delfin_like.common.constants import SyncStatus, TaskStatus
from delfin_like.db import api as db_api

LOG = logging.getLogger(__name__)


def driver_for(storage_id: str):
    """A driver for the storage, built from its stored (decrypted) access info; close it with
    :func:`delfin_like.driver_manager.close_quietly` when done."""
    return driver_manager.load(driver_manager.access_info_from_stored(db_api.access_info_get(storage_id)))


def cancel(task: dict, owner: str, reason: str) -> None:
    """Finish ``task`` (held by ``owner``) as CANCELLED with ``reason``, and say so in the log."""
    LOG.info("Task %s (%s) of storage %s cancelled: %s", task["id"], task["type"], task["storage_id"], reason)
    db_api.task_finish(task["id"], TaskStatus.CANCELLED, error=reason, owner=owner)


def record_lock_taken(task: dict, owner: str) -> None:
    """Stamp the task's ``lock_acquired_at`` now, inside the storage lock (best effort: a database
    error is met again by the job's own write)."""
    try:
        db_api.task_lock_acquired(task["id"], owner)
    except exception.DatabaseUnavailable:
        LOG.debug("Task %s: lock time not recorded, database unavailable", task["id"])


def storage_to_work_on(task: dict, owner: str) -> dict | None:
    """The task's storage, or None once the task is CANCELLED here because the storage is gone
    or being deleted (read under the storage lock, so a remove in flight is seen)."""
    try:
        storage = db_api.storage_get(task["storage_id"])
    except exception.StorageNotFound:
        cancel(task, owner, "the storage was deleted")
        return None
    if storage.get("sync_status") == SyncStatus.DELETING:
        cancel(task, owner, "the storage is being deleted")
        return None
    return storage


def stopped_without_writing(task: dict, owner: str, error: exception.SyncAborted, what: str) -> None:
    """A ``what`` (e.g. "sync") that wrote nothing: cancel it if its storage went away meanwhile,
    else leave the task to whoever holds it now (cancelled, handed back or re-dispatched)."""
    try:
        gone = db_api.storage_get(task["storage_id"]).get("sync_status") == SyncStatus.DELETING
    except exception.StorageNotFound:
        gone = True
    if gone:
        cancel(task, owner, f"the storage was deleted during the {what}")
    else:
        LOG.info("%s task %s stopped, nothing written: %s", what.capitalize(), task["id"], error.msg)
