"""The sync job: lock → driver → diff → one transaction.

The whole job runs under the lock ``storage-<id>``, so two task managers never
sync one storage at once and a remove waits for a sync in flight. Inside,
only the rows that changed are written (``diff.compute_changes``), in one
transaction that also completes the task (``db.api.sync_apply``). Between
resource types and while a listing streams in, a :class:`Checkpoint` stops
the job early, writing nothing, once the task is cancelled or no longer ours.
"""

import contextlib
import functools
import gc
import operator
import threading
import time

from oslo_log import log as logging

from delfin_like import coordination, diff, driver_manager, spool
from delfin_like.common import constants, exception
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.sdk import cancel
from delfin_like.sdk import models as sdk_models
from delfin_like.task_manager import jobs
from delfin_like.task_manager.jobs.checkpoint import Checkpoint

LOG = logging.getLogger(__name__)

# resource type -> name of the driver method that lists it, in the order a sync applies them
LISTERS = {
    "storage_pools": "list_storage_pools",
    "volumes": "list_volumes",
    "controllers": "list_controllers",
    "ports": "list_ports",
    "disks": "list_disks",
}


def _changes(driver, resource_type: str, storage_id: str, checkpoint: Checkpoint) -> diff.ChangeSet | None:
    """Diff one resource type of the driver against the stored fingerprints.

    :returns: the change set, or None if the driver cannot list that type (stored rows stay).
    :raises SyncAborted: the task stopped being ours while the listing streamed in.
    """
    lister = getattr(driver, LISTERS[resource_type])
    checkpoint.check()
    checkpoint.progress.update(current=resource_type, listed=0)
    checkpoint.report()

    def compute():
        snapshot = lister()
        if snapshot is None:
            return None
        stored = db_api.resource_fingerprints(storage_id, resource_type)
        try:
            # iterating the driver's generator happens here, inside the choke point
            return diff.compute_changes(
                resource_type, stored, checkpoint.watch(snapshot, resource_type), sink=_row_sink(resource_type)
            )
        except diff.DuplicateNativeId as e:
            raise exception.StorageBackendError(str(e)) from e

    changes = driver_manager.call(compute, what=LISTERS[resource_type])
    checkpoint.progress["done"].append(resource_type)
    if changes is not None:
        checkpoint.progress["changes"][resource_type] = changes.counts()
    checkpoint.report()
    return changes


def _row_sink(resource_type: str):
    """A RowSpool factory that holds each model as the tuple of its column values.

    Items are ``(model, fp)`` or ``(row_id, model, fp)``; the model (always second to
    last) becomes ``attrgetter(*fields)(model)``, which the apply writes as is. Plain
    tuples pickle several times faster than slotted dataclasses when the spool spills.
    """
    getter = operator.attrgetter(*sdk_models.field_names(sdk_models.RESOURCE_MODELS[resource_type]))

    def encode(item):
        return (*item[:-2], getter(item[-2]), item[-1])

    # the bounds are read here, per sync, so a test can make a small sync spill
    return functools.partial(spool.RowSpool, spill_at=spool.DEFAULT_SPILL_AT, batch=spool.DEFAULT_BATCH, encode=encode)


_gc_lock = threading.Lock()
_gc_pauses = [0, False]  # syncs running with the collector paused; whether it was enabled before the first


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector for the duration of a sync.

    A sync allocates millions of short-lived objects (models, tuples, rows) that reference
    counting frees; meanwhile the collector's full passes walk every live object again and
    again: a third of a 1M-volume no-change re-sync. Its own objects form no cycles, and what
    other threads leave for the collector waits only until the last sync running ends.
    """
    with _gc_lock:
        if _gc_pauses[0] == 0:
            _gc_pauses[1] = gc.isenabled()
            gc.disable()
        _gc_pauses[0] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses[0] -= 1
            if _gc_pauses[0] == 0 and _gc_pauses[1]:
                gc.enable()


def _summary(result: dict) -> str:
    parts = []
    for resource_type in constants.RESOURCE_TYPES:
        if resource_type not in result:
            continue  # the driver cannot list it
        c = result[resource_type]
        parts.append(
            f"{resource_type} +{c.get('added', 0)} ~{c.get('updated', 0)} "
            f"-{c.get('deleted', 0)} ={c.get('unchanged', 0)}"
        )
    return f"{'; '.join(parts)}; {result.get('rows_written', 0)} rows written"


def run(task: dict, owner: str) -> dict | None:
    """Sync the storage of ``task`` and complete the task with the change counts.

    :param task: the claimed task dict (``id``, ``storage_id``).
    :param owner: this task manager's lease owner id.
    :returns: the task result, or None if nothing was written: the storage is gone or
        being deleted (the task is CANCELLED here), or the task was cancelled, handed
        back or taken over meanwhile (its row already says so).
    :raises LockUnavailable, CoordinationUnavailable, DatabaseUnavailable: transient.
    :raises DelfinLikeException: a driver or data error (the task is FAILED by the caller).
    """
    storage_id = task["storage_id"]
    started = time.monotonic()
    checkpoint = Checkpoint(task, owner)
    with coordination.storage_lock(storage_id, purpose="sync") as held:
        checkpoint.lock = held
        # both lines inside the lock: an operator (or the fault tests) can check holds never overlap
        LOG.debug("Sync task %s holds lock storage-%s", task["id"], storage_id)
        jobs.record_lock_taken(task, owner)
        try:
            with _gc_paused():
                result = _sync_locked(task, owner, checkpoint)
        except exception.SyncAborted as e:
            jobs.stopped_without_writing(task, owner, e, "sync")
            return None
        finally:
            LOG.debug("Sync task %s releases lock storage-%s", task["id"], storage_id)
    if result is not None:
        LOG.info(
            "Synced storage %s (task %s) in %.2f s: %s",
            storage_id,
            task["id"],
            time.monotonic() - started,
            _summary(result),
        )
    return result


def _sync_locked(task: dict, owner: str, checkpoint: Checkpoint) -> dict | None:
    """The body of :func:`run`, under the storage lock; SyncAborted means nothing was written."""
    storage_id = task["storage_id"]
    if jobs.storage_to_work_on(task, owner) is None:
        return None
    # the lock may have taken a while: a task cancelled meanwhile never reaches the driver
    checkpoint.check()

    checkpoint.progress = {
        "phase": "listing",
        "resource_types": list(constants.RESOURCE_TYPES),
        "done": [],
        "current": None,
        "listed": 0,
        "changes": {},
    }
    # one deadline for everything the driver does in this sync; listings are also bounded in size
    checkpoint.timeout = CONF.storage_driver.sync_timeout
    checkpoint.deadline = cancel.Token(checkpoint.timeout, what="sync")
    checkpoint.max_items = CONF.storage_driver.sync_max_resources
    driver = jobs.driver_for(storage_id)
    try:
        with cancel.scope(checkpoint.deadline):
            sdk_storage = driver_manager.call_with_deadline(
                driver.get_storage, CONF.storage_driver.timeout, what="get_storage"
            )
            change_sets = [_changes(driver, rt, storage_id, checkpoint) for rt in constants.RESOURCE_TYPES]
            change_sets = [c for c in change_sets if c is not None]
            capabilities = driver_manager.call(driver.get_capabilities, what="get_capabilities")
            checkpoint.check_deadline("asking the capabilities")
    except exception.BackendUnreachable:
        # a driver stopped by the sync's deadline says "cancelled": say which deadline it was
        current = (checkpoint.progress or {}).get("current")
        checkpoint.check_deadline(f"listing {current}" if current else "reading the storage")
        raise
    finally:
        driver_manager.close_quietly(driver, f"storage {storage_id}")
    checkpoint.check()
    checkpoint.progress.update(phase="writing", current=None, listed=0)
    checkpoint.report(force=True)  # one row update: "writing" is seen however short the listing was
    # one round trip: never write a change set computed while another sync may have held the storage
    checkpoint.check_lock()
    return db_api.sync_apply(storage_id, task["id"], owner, sdk_storage, change_sets, capabilities=capabilities)
