"""Standard SNMP notifications (SNMPv2-MIB and IF-MIB, numeric OIDs) as sdk alerts.

=================================  ==============================================================
notification (snmpTrapOID)         alert
=================================  ==============================================================
coldStart   1.3.6.1.6.3.1.1.5.1    warning event about the storage (the agent restarted)
warmStart   1.3.6.1.6.3.1.1.5.2    informational event about the storage
linkDown    1.3.6.1.6.3.1.1.5.3    major fault about the port (communications)
linkUp      1.3.6.1.6.3.1.1.5.4    informational recovery about the port (communications)
authenticationFailure  ...5.5      minor security event about the storage
anything else (enterprise traps)   a not_specified event named after the notification's OID,
                                   its varbinds in the description
=================================  ==============================================================

The port is named by the ifDescr varbind when the notification carries one (the driver's native
port id), else only its ifIndex is known (``location``; no native id). A notification has no id of
its own, so the sequence number is a digest of the sender, the notification OID and the varbinds
(sysUpTime among them, which sets a retransmission apart from a repeat); without sysUpTime the
time it was received is added.
"""

import hashlib

from delfin_like.sdk import models

SNMP_TRAPS = "1.3.6.1.6.3.1.1.5"
COLD_START, WARM_START, LINK_DOWN, LINK_UP, AUTH_FAILURE = (f"{SNMP_TRAPS}.{i}" for i in range(1, 6))
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
IF_INDEX, IF_DESCR, IF_ADMIN, IF_OPER = (f"1.3.6.1.2.1.2.2.1.{c}" for c in (1, 2, 7, 8))
_IF_STATUS = {"1": "up", "2": "down", "3": "testing", "4": "unknown", "5": "dormant", "6": "notPresent",
              "7": "lowerLayerDown"}  # fmt: skip
S, C, T = models.AlertSeverity, models.AlertCategory, models.AlertType
# trap OID -> (name, severity, category, type, about a port)
STANDARD = {
    COLD_START: ("coldStart", S.WARNING, C.EVENT, T.EQUIPMENT, False),
    WARM_START: ("warmStart", S.INFORMATIONAL, C.EVENT, T.EQUIPMENT, False),
    LINK_DOWN: ("linkDown", S.MAJOR, C.FAULT, T.COMMUNICATIONS, True),
    LINK_UP: ("linkUp", S.INFORMATIONAL, C.RECOVERY, T.COMMUNICATIONS, True),
    AUTH_FAILURE: ("authenticationFailure", S.MINOR, C.EVENT, T.SECURITY, False),
}
_TEXT = {
    "coldStart": "The agent restarted (cold start)",
    "warmStart": "The agent reinitialised (warm start)",
    "authenticationFailure": "The agent received a request that failed authentication",
}
_MAX_DESCRIPTION = 1000


def sequence_number(trap: models.TrapInfo) -> str:
    """The generated id of a notification (see the module docstring)."""
    parts = [trap.source_address, trap.trap_oid, *(f"{o}={v}" for o, v in trap.varbinds)]
    if not any(o == SYS_UPTIME for o, _ in trap.varbinds):
        parts.append(trap.received_at.isoformat())
    return "trap-" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def _column(trap: models.TrapInfo, column: str) -> tuple[str | None, str | None]:
    """(row index, value) of the first varbind of an IF-MIB ifTable column."""
    for oid, value in trap.varbinds:
        if oid.startswith(column + "."):
            return oid[len(column) + 1 :], value
    return None, None


def _status(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    number = text[text.find("(") + 1 : text.find(")")] if "(" in text and text.endswith(")") else text
    return _IF_STATUS.get(number, text)


def _port(trap: models.TrapInfo, name: str) -> tuple[str, str | None, str | None]:
    """(description, native port id, location) of a linkDown/linkUp."""
    index, value = _column(trap, IF_INDEX)
    if_index = value or index
    for column in (IF_DESCR, IF_ADMIN, IF_OPER):
        if if_index is None:
            if_index = _column(trap, column)[0]
    descr = _column(trap, IF_DESCR)[1]
    admin, oper = _status(_column(trap, IF_ADMIN)[1]), _status(_column(trap, IF_OPER)[1])
    what = descr or (f"ifIndex {if_index}" if if_index else "an interface")
    state = "down" if name == "linkDown" else "up"
    details = ", ".join(x for x in (admin and f"admin {admin}", oper and f"oper {oper}") if x)
    description = f"Interface {what} is {state}" + (f" ({details})" if details else "")
    return description, descr or None, f"ifIndex {if_index}" if if_index else None


def to_alert(trap: models.TrapInfo, serial_number: str | None = None) -> models.Alert:
    """The alert of any notification: the standard ones as the table says, others generic."""
    seq = sequence_number(trap)
    where = f"agent {trap.source_address}"
    if trap.trap_oid in STANDARD:
        name, severity, category, kind, about_port = STANDARD[trap.trap_oid]
        if about_port:
            description, port, location = _port(trap, name)
            return models.Alert(
                sequence_number=seq, alert_id=name, alert_name=name, severity=severity, category=category, type=kind,
                description=description, occur_time=trap.received_at, resource_type=models.ResourceType.PORT,
                native_resource_id=port, location=f"{where}, {location}" if location else where,
            )  # fmt: skip
        return models.Alert(
            sequence_number=seq, alert_id=name, alert_name=name, severity=severity, category=category, type=kind,
            description=_TEXT[name], occur_time=trap.received_at, resource_type=models.ResourceType.STORAGE,
            native_resource_id=serial_number, location=where,
        )  # fmt: skip
    shown = [f"{o}={v}" for o, v in trap.varbinds if o not in (SYS_UPTIME, SNMP_TRAP_OID)]
    description = f"Notification {trap.trap_oid}" + (": " + "; ".join(shown) if shown else "")
    if len(description) > _MAX_DESCRIPTION:
        description = description[: _MAX_DESCRIPTION - 3] + "..."
    return models.Alert(
        sequence_number=seq, alert_id=trap.trap_oid, alert_name=f"enterprise notification {trap.trap_oid}",
        severity=S.NOT_SPECIFIED, category=C.EVENT, type=T.NOT_SPECIFIED, description=description,
        occur_time=trap.received_at, resource_type=models.ResourceType.STORAGE, native_resource_id=serial_number,
        location=where,
    )  # fmt: skip
