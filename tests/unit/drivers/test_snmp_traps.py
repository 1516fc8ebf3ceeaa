"""``generic snmp`` parse_alert: standard notifications and enterprise ones as generic alerts."""

import datetime

import pytest

from delfin_like.sdk import exceptions as sdk_exc
from delfin_like.sdk import models
from delfin_like_drivers.generic import snmp_traps
from delfin_like_drivers.generic.snmp import SnmpDriver

AT = datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.UTC)


def _driver(**extra) -> SnmpDriver:
    endpoint = models.AccessEndpoint(host="127.0.0.1", port=1161, extra={"community": "public"})
    return SnmpDriver(models.AccessInfo(vendor="generic", model="snmp", snmp=endpoint, extra_attributes=extra))


def _trap(trap_oid, *varbinds, uptime="4242", source="127.0.0.1", at=AT) -> models.TrapInfo:
    head = ((snmp_traps.SYS_UPTIME, uptime),) if uptime is not None else ()
    return models.TrapInfo(
        source_address=source, version="v2c",
        varbinds=head + ((snmp_traps.SNMP_TRAP_OID, trap_oid),) + tuple(varbinds),
        trap_oid=trap_oid, community_or_user="public", received_at=at,
    )  # fmt: skip


def test_cold_start():
    alert = _driver(serial_number="SN1").parse_alert(_trap("1.3.6.1.6.3.1.1.5.1"))
    assert (alert.alert_id, alert.severity, alert.category) == ("coldStart", "warning", "event")
    assert alert.type == "equipment"
    assert (alert.resource_type, alert.native_resource_id, alert.occur_time) == ("storage", "SN1", AT)
    assert alert.sequence_number.startswith("trap-")


def test_link_down_names_the_port_by_ifdescr():
    trap = _trap("1.3.6.1.6.3.1.1.5.3", ("1.3.6.1.2.1.2.2.1.1.3", "3"), ("1.3.6.1.2.1.2.2.1.7.3", "1"),
                 ("1.3.6.1.2.1.2.2.1.8.3", "2"), ("1.3.6.1.2.1.2.2.1.2.3", "eth2"))  # fmt: skip
    alert = _driver().parse_alert(trap)
    assert (alert.alert_id, alert.severity, alert.category, alert.type) == (
        "linkDown", "major", "fault", "communications",
    )
    assert (alert.resource_type, alert.native_resource_id) == ("port", "eth2")
    assert alert.description == "Interface eth2 is down (admin up, oper down)"
    assert "ifIndex 3" in alert.location


def test_link_up_is_a_recovery_and_without_ifdescr_only_the_index_is_known():
    trap = _trap("1.3.6.1.6.3.1.1.5.4", ("1.3.6.1.2.1.2.2.1.1.7", "7"), ("1.3.6.1.2.1.2.2.1.8.7", "up(1)"))
    alert = _driver().parse_alert(trap)
    assert (alert.alert_id, alert.severity, alert.category) == ("linkUp", "informational", "recovery")
    assert (alert.resource_type, alert.native_resource_id) == ("port", None)
    assert alert.description == "Interface ifIndex 7 is up (oper up)"
    assert alert.location.endswith("ifIndex 7")


def test_an_enterprise_trap_is_a_generic_alert():
    trap = _trap("1.3.6.1.4.1.8072.2.3.0.1", ("1.3.6.1.4.1.8072.2.3.2.1", "42"))
    alert = _driver().parse_alert(trap)
    assert (alert.alert_id, alert.severity, alert.category, alert.type) == (
        "1.3.6.1.4.1.8072.2.3.0.1", "not_specified", "event", "not_specified",
    )
    assert "1.3.6.1.4.1.8072.2.3.2.1=42" in alert.description
    assert "public" not in repr(alert)
    long_trap = _trap("1.3.6.1.4.1.9.9", *[(f"1.3.6.1.4.1.9.9.{i}", "x" * 50) for i in range(100)])
    assert len(_driver().parse_alert(long_trap).description) <= 1000


def test_sequence_numbers_set_repeats_apart_and_retransmissions_not():
    drv = _driver()
    first = drv.parse_alert(_trap("1.3.6.1.6.3.1.1.5.1", uptime="100"))
    again = drv.parse_alert(_trap("1.3.6.1.6.3.1.1.5.1", uptime="100", at=AT + datetime.timedelta(seconds=5)))
    later = drv.parse_alert(_trap("1.3.6.1.6.3.1.1.5.1", uptime="900"))
    other = drv.parse_alert(_trap("1.3.6.1.6.3.1.1.5.1", uptime="100", source="127.0.0.2"))
    assert first.sequence_number == again.sequence_number
    assert len({first.sequence_number, later.sequence_number, other.sequence_number}) == 3
    no_uptime = [drv.parse_alert(_trap("1.3.6.1.6.3.1.1.5.1", uptime=None, at=AT + datetime.timedelta(seconds=s)))
                 for s in (0, 1)]  # fmt: skip
    assert no_uptime[0].sequence_number != no_uptime[1].sequence_number


def test_no_event_log_over_snmp():
    drv = _driver()
    with pytest.raises(sdk_exc.NotSupported):
        drv.list_alerts(None)
    with pytest.raises(sdk_exc.NotSupported):
        drv.clear_alert("trap-1")
