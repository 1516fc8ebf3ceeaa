"""Turning rows of the Storwize/SVC event log (``lseventlog``) into sdk alerts.

The concise view (``lseventlog -fixed yes``: fixed events are left out otherwise) gives each
event's sequence number, ``last_timestamp`` (``YYMMDDhhmmss`` in the system's time zone), the
object it is about, ``status`` (``alert`` for an event with a fix procedure, ``message`` for an
informational one, ``monitoring``, ``expired``), ``fixed``, ``event_id`` and ``error_code``. How
severe an alert is comes only from the detailed view (``lseventlog <sequence_number>``:
``notification_type`` error / warning / informational, and ``last_timestamp_epoch``), so the
driver asks it for alerts and not for messages.

The array's SNMP trap of an event (IBM's layout: enterprise ``1.3.6.1.4.1.2.6.190``, notification
``.1`` error, ``.2`` warning, ``.3`` informational; varbinds ``.4.N`` of the form ``# <label> =
<value>``, see :func:`trap_to_alert`) carries the same values, so :func:`trap_to_alert` builds the
alert through the same :func:`to_alert` as the listing: the same sequence number and fields for
one event, whichever way it came.
"""

import datetime
import re

from delfin_like.sdk import exceptions, models
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


# -- the SNMP trap of an event ------------------------------------------------------------------

TRAP_ENTERPRISE = "1.3.6.1.4.1.2.6.190"
_TRAP_FIELD = TRAP_ENTERPRISE + ".4."
_TRAP_TYPES = {TRAP_ENTERPRISE + ".1": "error", TRAP_ENTERPRISE + ".2": "warning",
               TRAP_ENTERPRISE + ".3": "informational"}  # fmt: skip
# varbind .4.N -> what it carries (IBM's tsve* objects)
_ERROR_ID, _ERROR_CODE, _SEQUENCE, _TIMESTAMP, _OBJECT_TYPE, _OBJECT_ID, _COPY_ID, _OBJECT_NAME = (
    3, 4, 9, 10, 11, 12, 15, 17)
_REQUIRED = {_ERROR_ID: "Error ID", _SEQUENCE: "Error Sequence Number", _TIMESTAMP: "Timestamp",
             _OBJECT_TYPE: "Object Type"}  # fmt: skip
_LABELLED = re.compile(r"^#\s*[^=]*?\s*=\s?(.*)$", re.DOTALL)


def _trap_fields(trap) -> dict[int, str]:
    fields: dict[int, str] = {}
    for oid, value in trap.varbinds:
        if not oid.startswith(_TRAP_FIELD) or not oid[len(_TRAP_FIELD):].isdigit():
            continue
        match = _LABELLED.match(value or "")
        if match is None:
            raise exceptions.InvalidTrap(f"SVC trap varbind {oid} is not '# <label> = <value>'")
        fields.setdefault(int(oid[len(_TRAP_FIELD):]), match.group(1).strip())
    missing = [label for n, label in _REQUIRED.items() if not fields.get(n)]
    if missing:
        raise exceptions.InvalidTrap(f"SVC trap without {', '.join(missing)}")
    return fields


def _coded(text: str) -> tuple[str, str]:
    """``"010070 : Drive failed: disk 3"`` -> (``010070``, ``Drive failed: disk 3``); "" -> ("", "")."""
    code, _, rest = text.partition(" : ")
    return code.strip(), rest.strip()


def trap_to_alert(trap) -> models.Alert:
    """The alert of an SVC event trap (an sdk ``TrapInfo``): the same as :func:`to_alert` gives for
    that event's ``lseventlog`` row and detailed view.

    Error ID ``<event_id> : <description>``, Error Code ``<error_code> : <its text>`` (empty for a
    message), Error Sequence Number, Timestamp (``Tue Nov 10 09:08:27 2020``, read as UTC like
    ``last_timestamp``), Object Type/ID/Name; the notification type (error, warning,
    informational) is the trap's OID. A trap is an event being logged, so never ``cleared``.

    :raises InvalidTrap: not an SVC event trap, a varbind not ``# label = value``, a required
        one missing, a sequence number not a number or a timestamp not in that form.
    """
    notification_type = _TRAP_TYPES.get(trap.trap_oid)
    if notification_type is None:
        raise exceptions.InvalidTrap(f"not an SVC event notification ({trap.trap_oid})")
    fields = _trap_fields(trap)
    if not fields[_SEQUENCE].isdigit():
        raise exceptions.InvalidTrap("SVC trap: the Error Sequence Number is not a number")
    try:
        when = datetime.datetime.strptime(" ".join(fields[_TIMESTAMP].split()), "%a %b %d %H:%M:%S %Y")
    except ValueError:
        raise exceptions.InvalidTrap("SVC trap: the Timestamp is not like 'Tue Nov 10 09:08:27 2020'") from None
    event_id, description = _coded(fields[_ERROR_ID])
    error_code, code_text = _coded(fields.get(_ERROR_CODE, ""))
    row = {
        "sequence_number": fields[_SEQUENCE], "object_type": fields[_OBJECT_TYPE],
        "object_id": fields.get(_OBJECT_ID, ""), "object_name": fields.get(_OBJECT_NAME, ""),
        "copy_id": fields.get(_COPY_ID, ""), "event_id": event_id, "error_code": error_code,
        "description": description, "fixed": "no", "status": "alert" if error_code else "message",
    }  # fmt: skip
    detail = {"last_timestamp_epoch": str(int(when.replace(tzinfo=datetime.UTC).timestamp()))}
    if needs_detail(row):  # what the listing reads from the detailed view of an alert
        detail.update(notification_type=notification_type, error_code_text=code_text)
    return to_alert(row, detail)
