"""The fake driver's event log: deterministic alerts, since, clear_alert, parse_alert."""

import datetime
import uuid

import pytest

from delfin_like import driver_manager
from delfin_like.common import exception
from delfin_like.sdk import exceptions as sdk_exc
from delfin_like.sdk import models
from delfin_like_drivers.fake import driver as fake

UTC = datetime.UTC


def _driver(**attrs) -> fake.FakeStorageDriver:
    # a serial of its own: clear_alert state is per serial and per process
    attrs.setdefault("serial_number", f"FAKE-{uuid.uuid4().hex[:8]}")
    return fake.FakeStorageDriver(
        models.AccessInfo(
            vendor="fake_storage", model="fake_driver",
            rest=models.AccessEndpoint(host="127.0.0.1", port=8443, username="admin", password="pw"),
            extra_attributes=attrs,
        )
    )


def test_no_alerts_by_default():
    assert list(_driver().list_alerts(None)) == []


def test_alerts_are_deterministic_and_valid():
    drv = _driver(alerts=30, seed=3, serial_number="FAKE-A")
    alerts = list(drv.list_alerts(None))
    assert [a.sequence_number for a in alerts] == [str(i) for i in range(1, 31)]
    assert alerts == list(_driver(alerts=30, seed=3, serial_number="FAKE-A").list_alerts(None))
    assert alerts != list(_driver(alerts=30, seed=4, serial_number="FAKE-A").list_alerts(None))
    for i, a in enumerate(alerts):
        assert a.severity in models.AlertSeverity.ALL
        assert a.category in models.AlertCategory.ALL
        assert a.type in models.AlertType.ALL
        assert a.resource_type in models.ResourceType.ALL
        assert a.occur_time == datetime.datetime.fromtimestamp(1_700_000_000 + 60 * i, UTC)
        assert a.cleared is (i % 5 == 4)
        assert a.native_resource_id
    # the resources named exist in the inventory
    inventory = {p.native_storage_pool_id for p in drv.list_storage_pools()} | {
        v.native_volume_id for v in drv.list_volumes()
    } | {c.native_controller_id for c in drv.list_controllers()} | {p.native_port_id for p in drv.list_ports()} | {
        d.native_disk_id for d in drv.list_disks()
    } | {drv.serial_number}
    assert {a.native_resource_id for a in alerts} <= inventory
    assert len({a.severity for a in alerts}) > 2
    assert len({a.resource_type for a in alerts}) > 2


def test_since_is_honoured():
    drv = _driver(alerts=10, alert_epoch=1_000_000)
    since = datetime.datetime.fromtimestamp(1_000_000 + 60 * 4, UTC)
    assert [a.sequence_number for a in drv.list_alerts(since)] == ["5", "6", "7", "8", "9", "10"]
    # between two alerts: the next one
    since = datetime.datetime.fromtimestamp(1_000_000 + 60 * 4 + 0.5, UTC)
    assert [a.sequence_number for a in drv.list_alerts(since)][0] == "6"
    assert list(drv.list_alerts(datetime.datetime.fromtimestamp(0, UTC)))[0].sequence_number == "1"
    assert list(drv.list_alerts(datetime.datetime.fromtimestamp(2_000_000_000, UTC))) == []
    with pytest.raises(sdk_exc.InvalidAccessInfo):
        list(drv.list_alerts(datetime.datetime(2020, 1, 1)))


def test_clear_alert_is_seen_by_every_driver_of_the_serial():
    drv = _driver(alerts=5, serial_number="FAKE-CLEAR-1")
    assert not drv.alert(1).cleared
    drv.clear_alert("2")
    assert drv.alert(1).cleared
    assert _driver(alerts=5, serial_number="FAKE-CLEAR-1").alert(1).cleared
    assert not _driver(alerts=5, serial_number="FAKE-CLEAR-2").alert(1).cleared
    for bad in ("0", "6", "x", "02"):
        with pytest.raises(sdk_exc.BackendError):
            drv.clear_alert(bad)


def test_errors_apply_to_alerts():
    with pytest.raises(sdk_exc.BackendUnreachable):
        list(_driver(alerts=3, sync_error="unreachable").list_alerts(None))
    with pytest.raises(sdk_exc.InvalidAccessInfo):
        _driver(alerts=-1)


def _trap(oid=fake.FAKE_TRAP_OID, **fields):
    base = fake.FAKE_TRAP_OID.rsplit(".", 1)[0]
    varbinds = [("1.3.6.1.2.1.1.3.0", "12345"), ("1.3.6.1.6.3.1.1.4.1.0", oid)]
    varbinds += [(f"{base}.{k}", v) for k, v in fields.items()]
    return models.TrapInfo(
        source_address="127.0.0.1", version="v2c", varbinds=tuple(varbinds), trap_oid=oid,
        community_or_user="public", received_at=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def test_parse_alert_of_a_fake_trap():
    drv = _driver()
    alert = drv.parse_alert(_trap(**{"1": "77", "2": "FAKE0101", "3": "critical", "4": "disk 3 failed", "5": "vol-3"}))
    assert alert.sequence_number == "77"
    assert (alert.alert_id, alert.severity, alert.description) == ("FAKE0101", "critical", "disk 3 failed")
    assert (alert.resource_type, alert.native_resource_id) == ("volume", "vol-3")
    assert alert.occur_time == datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    plain = drv.parse_alert(_trap(**{"1": "78", "3": "loud"}))
    assert (plain.severity, plain.resource_type) == ("not_specified", "storage")
    assert plain.native_resource_id == drv.serial_number


def test_parse_alert_refuses_other_traps():
    drv = _driver()
    with pytest.raises(sdk_exc.BackendError):
        drv.parse_alert(_trap(oid="1.3.6.1.6.3.1.1.5.1", **{"1": "1"}))
    with pytest.raises(sdk_exc.BackendError):
        drv.parse_alert(_trap(**{"2": "FAKE0101"}))


def test_through_the_choke_point_a_bad_clear_is_a_400():
    drv = _driver(alerts=1)
    with pytest.raises(exception.StorageBackendError) as e:
        driver_manager.call(drv.clear_alert, "9", what="clear_alert")
    assert e.value.code == 400
