"""Traps from the simulator's SNMP personality (net-snmp's ``snmptrap``) received on a real UDP
socket, decoded with pysnmp, and parsed by ``generic snmp``: the port a linkDown names is one the
driver lists from the same agent."""

import datetime
import shutil
import socket

import pytest
from pyasn1.codec.ber import decoder
from pysnmp.proto import api

from delfin_like import driver_manager
from delfin_like.sdk import models
from delfin_like_drivers.generic.snmp import SnmpDriver
from tests.functional.drivers.snmp_fixtures import snmp_body

SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"


@pytest.fixture
def receiver():
    if shutil.which("snmptrap") is None:
        pytest.fail("snmptrap (Debian package snmp) is needed to send the simulator's traps")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(15.0)
    yield sock
    sock.close()


def _receive(sock) -> models.TrapInfo:
    """One v2c trap from ``sock`` as the sdk's TrapInfo (a real BER decode, nothing assumed)."""
    data, (host, _) = sock.recvfrom(65535)
    version = int(api.decodeMessageVersion(data))
    assert version == api.SNMP_VERSION_2C
    module = api.PROTOCOL_MODULES[version]
    message, _ = decoder.decode(data, asn1Spec=module.Message())
    pdu = module.apiMessage.get_pdu(message)
    varbinds = tuple((str(oid), value.prettyPrint()) for oid, value in module.apiPDU.get_varbinds(pdu))
    trap_oid = next(v for o, v in varbinds if o == SNMP_TRAP_OID)
    return models.TrapInfo(
        source_address=host, version="v2c", varbinds=varbinds, trap_oid=trap_oid,
        community_or_user=str(module.apiMessage.get_community(message)),
        received_at=datetime.datetime.now(datetime.UTC),
    )  # fmt: skip


def test_link_down_and_up_of_a_listed_port(snmp_sim, snmp_array, receiver):
    drv = SnmpDriver(driver_manager.access_info_from_request(snmp_body(snmp_sim)))
    try:
        ports = {p.native_port_id: p for p in drv.list_ports()}
        port_id = sorted(p.id for p in snmp_array.snapshot().ports if p.kind == "fc")[0]
        snmp_sim.send_trap(receiver.getsockname()[1], "linkDown", port_id=port_id)
        trap = _receive(receiver)
        assert trap.community_or_user == snmp_sim.community
        down = drv.parse_alert(trap)
        assert (down.alert_id, down.severity, down.category, down.resource_type) == (
            "linkDown", "major", "fault", "port",
        )
        assert down.native_resource_id == port_id and port_id in ports
        snmp_sim.send_trap(receiver.getsockname()[1], "linkUp", port_id=port_id)
        up = drv.parse_alert(_receive(receiver))
        assert (up.alert_id, up.category, up.native_resource_id) == ("linkUp", "recovery", port_id)
        assert up.sequence_number != down.sequence_number
    finally:
        drv.close()


def test_cold_start_and_an_enterprise_trap(snmp_sim, receiver):
    drv = SnmpDriver(driver_manager.access_info_from_request(snmp_body(snmp_sim)))
    try:
        snmp_sim.send_trap(receiver.getsockname()[1], "coldStart")
        cold = drv.parse_alert(_receive(receiver))
        assert (cold.alert_id, cold.severity, cold.resource_type) == ("coldStart", "warning", "storage")
        snmp_sim.send_trap(receiver.getsockname()[1], "1.3.6.1.4.1.8072.2.3.0.1",
                           varbinds=[("1.3.6.1.4.1.8072.2.3.2.1", "i", "42")])  # fmt: skip
        generic = drv.parse_alert(_receive(receiver))
        assert (generic.alert_id, generic.severity) == ("1.3.6.1.4.1.8072.2.3.0.1", "not_specified")
        assert "1.3.6.1.4.1.8072.2.3.2.1=42" in generic.description
    finally:
        drv.close()
