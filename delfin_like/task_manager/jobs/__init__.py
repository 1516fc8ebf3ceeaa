"""The task manager's jobs: sync, remove, perf collection and CSD jobs."""

from oslo_log import log as logging

from delfin_like import driver_manager
from delfin_like.common import exception
from delfin_like.common.constants import TaskStatus
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
