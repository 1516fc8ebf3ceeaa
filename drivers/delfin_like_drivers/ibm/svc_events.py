"""Turning rows of the Storwize/SVC event log (``lseventlog``) into sdk alerts.

The concise view (``lseventlog -fixed yes``: fixed events are left out otherwise) gives each
event's sequence number, ``last_timestamp`` (``YYMMDDhhmmss`` in the system's time zone), the
object it is about, ``status`` (``alert`` for an event with a fix procedure, ``message`` for an
informational one, ``monitoring``, ``expired``), ``fixed``, ``event_id`` and ``error_code``. How
severe an alert is comes only from the detailed view (``lseventlog <sequence_number>``:
``notification_type`` error / warning / informational, and ``last_timestamp_epoch``), so the
driver asks it for alerts and not for messages.
"""

import datetime

from delfin_like.sdk import models
from delfin_like_drivers.ibm import svc_output as out

CMD = "lseventlog"
_SEVERITY = {
    "error": models.AlertSeverity.MAJOR,
    "warning": models.AlertSeverity.WARNING,
    "informational": models.AlertSeverity.INFORMATIONAL,
}
_EQUIPMENT = ("node", "drive", "enclosure", "canister", "psu", "fan", "battery", "enclosure_slot")
_COMMUNICATIONS = ("fc_port", "portip", "host", "iogrp", "partnership", "ip_partnership", "fcconsistgrp")
_PROCESSING = ("vdisk", "mdisk", "mdiskgrp", "fcmap", "rcmap", "volume_copy")
# object_type -> (resource type, native id as the inventory knows it)
_RESOURCES = {
    "node": (models.ResourceType.CONTROLLER, "{}"),
    "drive": (models.ResourceType.DISK, "{}"),
    "mdiskgrp": (models.ResourceType.STORAGE_POOL, "{}"),
    "vdisk": (models.ResourceType.VOLUME, "{}"),
    "fc_port": (models.ResourceType.PORT, "fc-{}"),
}


def parse_time(row: dict[str, str], detail: dict[str, str] | None) -> datetime.datetime | None:
    """When the event last occurred: ``last_timestamp_epoch`` of the detailed view, else
    ``last_timestamp`` read as UTC (the driver does not know the system's time zone)."""
    epoch = (detail or {}).get("last_timestamp_epoch")
    if epoch and epoch.isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), datetime.UTC)
    stamp = row.get("last_timestamp") or ""
    try:
        return datetime.datetime.strptime(stamp, "%y%m%d%H%M%S").replace(tzinfo=datetime.UTC)
    except ValueError:
        if stamp:
            raise out.malformed(CMD, "a last_timestamp is not YYMMDDhhmmss") from None
        return None


def alert_type(object_type: str) -> str:
    if object_type in _EQUIPMENT:
        return models.AlertType.EQUIPMENT
    if object_type in _COMMUNICATIONS:
        return models.AlertType.COMMUNICATIONS
    if object_type in _PROCESSING:
        return models.AlertType.PROCESSING_ERROR
    return models.AlertType.NOT_SPECIFIED


def needs_detail(row: dict[str, str]) -> bool:
    """Whether the row is an alert (an error code, a fix procedure) whose severity the detail gives."""
    return bool(row.get("error_code")) or row.get("status") == "alert"


def to_alert(row: dict[str, str], detail: dict[str, str] | None) -> models.Alert:
    """The alert of one concise row (and its detailed view, for an alert)."""
    sequence = out.need(row, "sequence_number", CMD)
    object_type = row.get("object_type", "")
    object_id = row.get("object_id", "")
    error_code = row.get("error_code", "")
    event_id = row.get("event_id", "")
    detail = detail or {}
    if detail.get("notification_type") in _SEVERITY:
        severity = _SEVERITY[detail["notification_type"]]
    elif error_code:
        severity = models.AlertSeverity.NOT_SPECIFIED
    else:
        severity = models.AlertSeverity.INFORMATIONAL
    resource_type, native_id = models.ResourceType.STORAGE, None
    if object_type in _RESOURCES and object_id:
        resource_type, pattern = _RESOURCES[object_type]
        native_id = pattern.format(object_id)
    description = row.get("description", "")
    name = (detail.get("error_code_text") if error_code else detail.get("event_id_text")) or description
    where = " ".join(x for x in (object_type, object_id, row.get("object_name", "")) if x)
    return models.Alert(
        sequence_number=sequence,
        alert_id=error_code or event_id,
        alert_name=name,
        severity=severity,
        category=models.AlertCategory.FAULT if error_code else models.AlertCategory.EVENT,
        type=alert_type(object_type),
        description=description,
        occur_time=parse_time(row, detail),
        resource_type=resource_type,
        native_resource_id=native_id,
        location=where or None,
        recovery_advice="Run the fix procedure for error code " + error_code if error_code else None,
        cleared=row.get("fixed") == "yes",
    )
