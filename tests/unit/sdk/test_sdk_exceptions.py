"""delfin_like.sdk.exceptions and the StorageDriver contract."""

import pytest

from delfin_like.sdk import driver, models
from delfin_like.sdk import exceptions as sdk_exc


def test_message_defaults_to_the_docstring():
    e = sdk_exc.BackendUnreachable()
    assert e.message == "The back end could not be reached."
    assert str(e) == e.message
    assert e.detail is None


def test_message_and_detail():
    e = sdk_exc.InvalidCredentials("login refused", detail="HTTP 401 from /api/login")
    assert (e.message, e.detail) == ("login refused", "HTTP 401 from /api/login")
    assert str(e) == "login refused"


def test_hierarchy():
    assert issubclass(sdk_exc.DriverTimeout, sdk_exc.BackendUnreachable)
    for cls in (
        sdk_exc.InvalidCredentials,
        sdk_exc.BackendUnreachable,
        sdk_exc.InvalidAccessInfo,
        sdk_exc.BackendError,
        sdk_exc.DriverTimeout,
    ):
        assert issubclass(cls, sdk_exc.DriverError)
        assert cls().message


def test_driver_contract_is_abstract():
    with pytest.raises(TypeError):
        driver.StorageDriver(models.AccessInfo(vendor="v", model="m"))


class Minimal(driver.StorageDriver):
    """Only what the contract requires."""

    def get_storage(self):
        return models.Storage(name="s", vendor="v", model="m", serial_number="sn")

    def list_storage_pools(self):
        return iter(())

    def list_volumes(self):
        return iter(())


def test_minimal_driver_gets_defaults():
    info = models.AccessInfo(vendor="v", model="m")
    drv = Minimal(info)
    assert drv.access_info is info
    assert drv.get_capabilities() == {"is_historic": False, "resource_metrics": {}}
    assert drv.close() is None
    assert driver.NAMESPACE == "delfin_like.storage.drivers"


def test_minimal_driver_says_it_does_no_alerts():
    drv = Minimal(models.AccessInfo(vendor="v", model="m"))
    trap = models.TrapInfo(source_address="127.0.0.1", version="v2c", varbinds=(), trap_oid="1.3.6.1.6.3.1.1.5.1")
    for call in (lambda: drv.list_alerts(None), lambda: drv.clear_alert("1"), lambda: drv.parse_alert(trap)):
        with pytest.raises(sdk_exc.NotSupported) as e:
            call()
        assert e.value.message
