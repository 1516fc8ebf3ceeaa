"""The remove job: delete a storage and every row of it, under the storage lock."""

import time

from oslo_log import log as logging

from delfin_like import coordination
from delfin_like.common import exception
from delfin_like.common.constants import TaskStatus
from delfin_like.db import api as db_api
from delfin_like.task_manager import jobs

LOG = logging.getLogger(__name__)


def run(task: dict, owner: str) -> dict:
    """Remove ``task['storage_id']`` and complete the task with the deleted-row counts.

    The storage lock waits for a sync in flight, so that sync either finishes
    before the rows are deleted or finds the storage gone and writes nothing.

    :param task: the claimed task dict. :param owner: this task manager's lease owner id.
    :returns: the counts per table (``storages``, ``storage_pools``, ``volumes``).
    """
    storage_id = task["storage_id"]
    started = time.monotonic()
    with coordination.storage_lock(storage_id, purpose="remove"):
        jobs.record_lock_taken(task, owner)
        try:
            counts = db_api.storage_remove(storage_id)
        except exception.StorageNotFound:
            # a repeat of a remove that already happened: nothing left to delete
            counts = {"storages": 0}
        db_api.task_finish(task["id"], TaskStatus.COMPLETED, result=counts, owner=owner)
    LOG.info(
        "Removed storage %s in %.2f s: %s",
        storage_id,
        time.monotonic() - started,
        ", ".join(f"{k} {v}" for k, v in counts.items()),
    )
    return counts
