"""Platform alerts (issue 14): what the platform itself sees going wrong with an array.

:func:`note_outcome` is told how each sync and perf task of a storage ended. Alerts are stored
through ``db.api.alert_record`` with source ``platform`` and a fixed sequence number per condition,
so an outage is one row:

``unreachable``
    a sync or collection raised BackendUnreachable (also an attempt handed back for a retry);
``invalid-credentials``
    a sync or collection raised InvalidCredentials;
``sync-failing``
    ``[task_manager] sync_failures_alert`` syncs in a row ended FAILED (counted in the tasks table).

The first failure opens the row; each further failed attempt of the same outage is a repeat of that
open row (one UPDATE: ``repeat_count`` and ``last_seen`` tell how long and how often it has failed;
at most one write per failed task, so no churn beyond the task rate). A success clears the open
rows once (``cleared_by`` ``platform``): any sync or collection that completes clears
``unreachable`` and ``invalid-credentials``, a COMPLETED sync clears ``sync-failing``. A success
only reads when nothing is open. A failure after a clear reopens the same row (one per outage).

Recording never changes how a task ends: any error here is logged and swallowed.
"""

import datetime

from oslo_log import log as logging

from delfin_like.common import exception
from delfin_like.common.constants import AlertSource, TaskStatus, TaskType
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.sdk import models

LOG = logging.getLogger(__name__)

SOURCE = AlertSource.PLATFORM
UNREACHABLE = "unreachable"
INVALID_CREDENTIALS = "invalid-credentials"
SYNC_FAILING = "sync-failing"
# conditions an answer of the array (any completed sync or collection) ends
ANSWERING = (UNREACHABLE, INVALID_CREDENTIALS)

_ALERTS = {
    UNREACHABLE: dict(
        alert_id="platform.unreachable", alert_name="Array not answering",
        severity=models.AlertSeverity.CRITICAL, category=models.AlertCategory.FAULT,
        type=models.AlertType.COMMUNICATIONS,
        recovery_advice="Check the array's network path and management service."),
    INVALID_CREDENTIALS: dict(
        alert_id="platform.invalid_credentials", alert_name="Array refuses the credentials",
        severity=models.AlertSeverity.MAJOR, category=models.AlertCategory.FAULT,
        type=models.AlertType.SECURITY,
        recovery_advice="Update the storage's access info with valid credentials."),
    SYNC_FAILING: dict(
        alert_id="platform.sync_failing", alert_name="Storage sync keeps failing",
        severity=models.AlertSeverity.MAJOR, category=models.AlertCategory.FAULT,
        type=models.AlertType.PROCESSING_ERROR,
        recovery_advice="See the error of the storage's latest sync tasks."),
}


def _condition_of(error) -> str | None:
    if isinstance(error, exception.BackendUnreachable):
        return UNREACHABLE
    if isinstance(error, exception.InvalidCredentials):
        return INVALID_CREDENTIALS
    return None


def _raise(storage_id: str, condition: str, description: str) -> None:
    fields = _ALERTS[condition]
    alert = models.Alert(sequence_number=condition, description=description[:1000],
                         occur_time=datetime.datetime.now(datetime.UTC), resource_type="storage", **fields)
    row, created = db_api.alert_record(storage_id, SOURCE, alert)
    if created:
        LOG.warning("Platform alert %s raised for storage %s: %s", condition, storage_id, description)


def _clear(storage_id: str, conditions: tuple[str, ...], why: str) -> None:
    open_rows = db_api.alert_list({"storage_id": storage_id, "source": SOURCE, "state": "open"},
                                  None, None, None, None)
    for row in open_rows:
        if row["sequence_number"] in conditions:
            db_api.alert_clear(row["id"], SOURCE)
            LOG.info("Platform alert %s of storage %s cleared: %s", row["sequence_number"], storage_id, why)


def _note(storage_id: str, task_type: str, error, status: str | None) -> None:
    condition = _condition_of(error)
    if condition is not None:
        _raise(storage_id, condition, getattr(error, "msg", str(error)))
    elif error is None and status == TaskStatus.COMPLETED:
        _clear(storage_id, ANSWERING, "array answering again")
    if task_type != TaskType.SYNC:
        return
    if status == TaskStatus.COMPLETED:
        _clear(storage_id, (SYNC_FAILING,), "a sync completed")
    elif status == TaskStatus.FAILED:
        threshold = CONF.task_manager.sync_failures_alert
        failures = db_api.sync_failures_in_a_row(storage_id, threshold)
        if failures >= threshold:
            _raise(storage_id, SYNC_FAILING, f"{failures} syncs in a row failed; the latest: "
                   f"{getattr(error, 'msg', error) if error is not None else 'unknown error'}")


def note_outcome(storage_id: str | None, task_type: str, error=None, status: str | None = None) -> None:
    """Tell the platform alerts how a sync or perf task of ``storage_id`` ended.

    :param error: the exception the task ended with (also one handed back for a retry), None on success.
    :param status: the task's status now (COMPLETED, FAILED, PENDING when handed back).
    Never raises.
    """
    if not storage_id or not (task_type == TaskType.SYNC or task_type in TaskType.PERF):
        return
    try:
        _note(storage_id, task_type, error, status)
    except (exception.StorageNotFound, exception.StorageBeingDeleted):
        pass  # deleted meanwhile: nothing to alert about
    except Exception:  # noqa: BLE001 - recording an alert must never change how a task ends
        LOG.exception("Could not record the platform alert of storage %s (%s task)", storage_id, task_type)
