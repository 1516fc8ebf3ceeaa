"""The SNMP traps a simulated IBM Storwize/SVC array sends for the events it logs.

Layout (IBM's SVC/Storwize trap, enterprise ``1.3.6.1.4.1.2.6.190``, as the arrays send it to an
``mksnmpserver`` target): the notification OID says the event's notification type, ``.1``
error, ``.2`` warning, ``.3`` informational; the varbinds ``.4.N`` are strings
``# <label> = <value>``:

===  =====================  ==========================================================
 N   label                  value here (the ``lseventlog`` row of the event)
===  =====================  ==========================================================
 1   Machine Type           ``2145``
 2   Serial Number          the array's serial
 3   Error ID               ``<event_id> : <description>``
 4   Error Code             ``<error_code> : <error code text>``, empty for a message
 5   System Version         the code level
 6   FRU                    ``None``
 7   System Name            the array's name
 8   Node ID                the first node's id
 9   Error Sequence Number  ``sequence_number``
10   Timestamp              ``last_timestamp``, ``Tue Nov 10 09:08:27 2020`` (UTC here)
11   Object Type            ``object_type``
12   Object ID              ``object_id``
13   Additional Data        zeros (0 -> 63)
14   Additional Data        zeros (64 -> 127)
15   Copy ID                ``copy_id``
16   Machine Part Number    empty
17   Object Name            ``object_name``
===  =====================  ==========================================================

So a trap carries everything ``lseventlog`` (and its detailed view) shows of the event, and the
``ibm svc_ssh`` driver reads the same alert from either (see ``svc_events.trap_to_alert``).

:class:`TrapSender` sends each event an array raises (:meth:`SimulatedArray.raise_event`) to
every :class:`TrapSink` with net-snmp's ``snmptrap`` (SNMPv2c), one after another, in the thread
that raised it; a sink that fails is logged and the others still get theirs.
"""

import dataclasses
import logging
import time

from delfin_like_drivers.simulator import model, svc_views

LOG = logging.getLogger(__name__)

ENTERPRISE = "1.3.6.1.4.1.2.6.190"
FIELD = ENTERPRISE + ".4."
TRAP_OIDS = {"error": ENTERPRISE + ".1", "warning": ENTERPRISE + ".2", "informational": ENTERPRISE + ".3"}
MACHINE_TYPE = "2145"
LABELS = {
    1: "Machine Type", 2: "Serial Number", 3: "Error ID", 4: "Error Code", 5: "System Version", 6: "FRU",
    7: "System Name", 8: "Node ID", 9: "Error Sequence Number", 10: "Timestamp", 11: "Object Type",
    12: "Object ID", 13: "Additional Data (0 -> 63)", 14: "Additional Data (64 -> 127)", 15: "Copy ID",
    16: "Machine Part Number", 17: "Object Name",
}  # fmt: skip


def trap_time(unix_seconds: float) -> str:
    """The Timestamp varbind's form (C ``asctime``), in UTC: the simulator's system time zone."""
    return time.asctime(time.gmtime(int(unix_seconds)))


def trap_of(snap: model.Snapshot, event: model.SimEvent) -> tuple[str, list[tuple[str, str, str]]]:
    """The notification OID and the varbinds (``(oid, "s", value)``, in IBM's order) of one event."""
    row = svc_views.event_row(snap, event)
    text = event.message.split(":", 1)[0]
    code = f"{event.svc_error_code} : {text}" if event.svc_error_code else ""
    node = svc_views.number(snap.nodes[0].id) if snap.nodes else ""
    values = {
        1: MACHINE_TYPE, 2: snap.serial, 3: f"{event.svc_event_id} : {row['description']}", 4: code,
        5: f"{snap.version} {svc_views.BUILD}", 6: "None", 7: snap.name, 8: node, 9: event.sequence,
        10: trap_time(event.time), 11: row["object_type"], 12: row["object_id"], 13: "0" * 16, 14: "0" * 16,
        15: row["copy_id"], 16: "", 17: row["object_name"],
    }  # fmt: skip
    binds = [(f"{FIELD}{n}", "s", f"# {LABELS[n]} = {values[n]}") for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                                                            12, 17, 15, 16, 13, 14)]
    return TRAP_OIDS[event.severity], binds


@dataclasses.dataclass(frozen=True)
class TrapSink:
    """Where traps go: a receiver's UDP address and the v2c community it expects (never shown)."""

    host: str
    port: int
    community: str = dataclasses.field(repr=False)

    def describe(self) -> dict:
        return {"host": self.host, "port": self.port}


def parse_sink(text: str, default_community: str | None) -> TrapSink:
    """``host:port[,community]`` (an IPv6 host in brackets: ``[::1]:162``) -> a TrapSink.

    :raises ValueError: no port, a port out of range, or no community at all.
    """
    address, _, community = text.partition(",")
    host, sep, port = address.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"a trap sink is host:port[,community], not {text!r}")
    community = community or default_community
    if not community:
        raise ValueError(f"trap sink {address}: no community")
    return TrapSink(host, int(port), community)


class TrapSender:
    """Sends the SVC trap of every event ``array`` raises to ``sinks`` (see the module docstring).

    :param state_dir: snmptrap's persistent directory (it writes nothing there for v2c).
    """

    def __init__(self, array: model.SimulatedArray, sinks: list[TrapSink], state_dir: str | None = None,
                 timeout: float = 10.0):
        self.array = array
        self.sinks = list(sinks)
        self.state_dir = state_dir
        self.timeout = timeout
        self.sent = 0
        self.failed = 0

    def attach(self) -> "TrapSender":
        """Send from now on for every event the array raises."""
        self.array.add_event_listener(self.send)
        return self

    def send(self, event: model.SimEvent) -> int:
        """Send the event's trap to every sink; returns how many took it (snmptrap exited 0)."""
        from delfin_like_drivers.simulator.snmp import snmptrap  # the SNMP module only where traps go out

        trap_oid, binds = trap_of(self.array.snapshot(), event)
        sent = 0
        for sink in self.sinks:
            try:
                snmptrap(sink.host, sink.port, sink.community, int(self.array.clock * 100), trap_oid, binds,
                         state_dir=self.state_dir, timeout=self.timeout)
            except Exception as e:  # noqa: BLE001 - one sink failing must not stop the others
                self.failed += 1
                LOG.error("trap of event %s to %s:%s not sent: %s", event.sequence, sink.host, sink.port, e)
                continue
            sent += 1
            self.sent += 1
            LOG.info("trap of event %s (%s) sent to %s:%s", event.sequence, trap_oid, sink.host, sink.port)
        return sent
