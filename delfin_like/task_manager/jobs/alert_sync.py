"""The alert sync job: lock → driver's alerts → diff by fingerprint → one transaction (issue 14).

An alert sync catches up what the trap receiver missed (UDP loses traps) and sees the alerts the
array cleared. It holds a lock of its own, ``storage-<id>.alerts``, not the storage's inventory
lock: an alert sync never waits behind a long inventory sync, and two alert syncs of one storage
never run at once. The driver lists its alerts since :func:`db.api.alert_sync_since` (every
alert on a first run); ``db.api.alert_sync_apply`` writes only the rows that changed (source
``sync``) and completes the task in the same transaction, so a no-change re-sync writes nothing.

A driver that cannot list alerts (sdk NotSupported) FAILS the task with the platform's
"The storage's driver cannot do that: ..." message: the operator asked for something the array
cannot give, which a COMPLETED task would hide. It also pauses the storage's periodic alert
sync (``db.api.alert_sync_schedule_pause``), so such a storage fails one alert sync, not one per
period; an alert sync of it that completes later (a driver upgraded) resumes the schedule.
"""

import time

from oslo_log import log as logging

from delfin_like import coordination, driver_manager
from delfin_like.common import exception
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.task_manager import jobs

LOG = logging.getLogger(__name__)

LOCK_SCOPE = "alerts"


def run(task: dict, owner: str) -> dict | None:
    """Sync the alerts of the storage of ``task`` and complete the task with the counts.

    :returns: the task result ``{added, updated, cleared, unchanged, rows_written}``, or None if
        nothing was written (the storage is gone: CANCELLED here; or the task is no longer ours).
    :raises LockUnavailable, CoordinationUnavailable, DatabaseUnavailable, BackendUnreachable: transient.
    :raises DelfinLikeException: a driver error, NotSupported included (the caller FAILS the task).
    """
    storage_id = task["storage_id"]
    started = time.monotonic()
    with coordination.storage_lock(storage_id, purpose="alert_sync", scope=LOCK_SCOPE):
        jobs.record_lock_taken(task, owner)
        if jobs.storage_to_work_on(task, owner) is None:
            return None
        since = db_api.alert_sync_since(storage_id)
        driver = jobs.driver_for(storage_id)
        try:
            # bounded like a sync: a hung array hands the task back (BackendUnreachable), never hangs it
            listed = driver_manager.call_with_deadline(
                lambda: list(driver.list_alerts(since)), CONF.storage_driver.sync_timeout, what="list_alerts")
        except exception.NotSupported:
            if db_api.alert_sync_schedule_pause(storage_id):
                LOG.info("Storage %s: its driver lists no alerts; periodic alert sync paused", storage_id)
            raise
        finally:
            driver_manager.close_quietly(driver, f"storage {storage_id}")
        try:
            result = db_api.alert_sync_apply(storage_id, task["id"], owner, listed)
        except exception.SyncAborted as e:
            jobs.stopped_without_writing(task, owner, e, "alert sync")
            return None
    if db_api.alert_sync_schedule_resume(storage_id):
        LOG.info("Storage %s lists alerts again: periodic alert sync resumed", storage_id)
    LOG.info("Synced the alerts of storage %s (task %s, since %s) in %.2f s: +%d ~%d cleared %d =%d; "
             "%d rows written", storage_id, task["id"], since.isoformat() if since else "the start",
             time.monotonic() - started, result["added"], result["updated"], result["cleared"],
             result["unchanged"], result["rows_written"])
    return result
