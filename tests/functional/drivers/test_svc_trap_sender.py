"""The simulated SVC array's traps go out with net-snmp's real ``snmptrap``: decoded here with pysnmp
(the receiver's library) they carry IBM's layout, and ``ibm svc_ssh``'s parse_alert reads them as
the event ``lseventlog`` lists; a sink that fails is logged and the others still get theirs."""

import socket

from pyasn1.codec.ber import decoder
from pysnmp.proto import api

from delfin_like.sdk import models
from delfin_like_drivers.ibm import svc_events
from delfin_like_drivers.simulator import model, svc_traps
from tests.alert_helpers import require_snmptrap


def _decode(datagram: bytes) -> tuple[str, tuple]:
    proto = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    message, _ = decoder.decode(datagram, asn1Spec=proto.Message())
    pdu = proto.apiMessage.get_pdu(message)
    binds = [(str(oid), val.prettyPrint()) for oid, val in proto.apiPDU.get_varbinds(pdu)]
    trap_oid = next(v for o, v in binds if o == "1.3.6.1.6.3.1.1.4.1.0")
    return trap_oid, tuple((o, v) for o, v in binds if o.startswith(svc_traps.ENTERPRISE))


def test_events_trapped_with_snmptrap_parse_as_listed(tmp_path):
    require_snmptrap()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(10)
        arr = model.SimulatedArray(volumes=3)
        sender = svc_traps.TrapSender(arr, [svc_traps.TrapSink("256.0.0.1", 162, "c1"),  # not an address
                                            svc_traps.TrapSink("127.0.0.1", sock.getsockname()[1], "c2")],
                                      state_dir=str(tmp_path)).attach()
        event = arr.raise_event("disk", severity="warning")
        trap_oid, varbinds = _decode(sock.recv(65536))
    assert (sender.sent, sender.failed) == (1, 1) and event.sequence in arr.events
    assert trap_oid == "1.3.6.1.4.1.2.6.190.2" and len(varbinds) == 17
    alert = svc_events.trap_to_alert(models.TrapInfo(source_address="127.0.0.1", version="v2c",
                                                     trap_oid=trap_oid, varbinds=varbinds))
    assert (alert.sequence_number, alert.alert_id, alert.severity, alert.resource_type) == (
        str(event.sequence), "1690", "warning", "disk")
    assert alert.description == event.message and alert.occur_time.timestamp() == int(event.time)
