"""delfin_like.driver_manager: loading drivers, deadlines and the one error choke point."""

import threading
import time

import pytest
from cryptography.fernet import Fernet

from delfin_like import driver_manager
from delfin_like.common import crypto, exception
from delfin_like.conf import CONF
from delfin_like.sdk import driver as sdk_driver
from delfin_like.sdk import exceptions as sdk_exc
from delfin_like.sdk import models

FAKE = {"vendor": "fake_storage", "model": "fake_driver"}


def _body(**extra_attributes):
    return {
        **FAKE,
        "rest": {"host": "127.0.0.1", "port": 8443, "username": "admin", "password": "pw"},
        "extra_attributes": extra_attributes,
    }


class _ScriptedDriver(sdk_driver.StorageDriver):
    """A driver whose get_storage does what the test says (hang, raise, return junk)."""

    behaviour = None
    closed = 0

    def get_storage(self):
        return type(self).behaviour()

    def list_storage_pools(self):
        return []

    def list_volumes(self):
        return []

    def close(self):
        type(self).closed += 1


@pytest.fixture
def scripted(monkeypatch):
    """A fresh driver class per test: a thread left over from a timed-out probe counts elsewhere."""
    cls = type("Scripted", (_ScriptedDriver,), {"behaviour": None, "closed": 0})
    monkeypatch.setattr(driver_manager, "_driver_class", lambda vendor, model: cls)
    return cls


def test_fake_driver_is_installed():
    assert "fake_storage fake_driver" in driver_manager.available_drivers()


def test_unknown_driver():
    info = driver_manager.access_info_from_request({**_body(), "vendor": "acme", "model": "x"})
    with pytest.raises(exception.StorageDriverNotFound) as e:
        driver_manager.load(info)
    assert e.value.code == 400
    assert e.value.to_dict()["error_msg"] == "No driver for vendor 'acme' and model 'x'."


def test_load_builds_the_fake_driver():
    drv = driver_manager.load(driver_manager.access_info_from_request(_body(pools=2)))
    assert isinstance(drv, sdk_driver.StorageDriver)
    assert len(list(drv.list_storage_pools())) == 2


def test_construction_error_is_translated():
    info = driver_manager.access_info_from_request(_body(pools="many"))
    with pytest.raises(exception.InvalidAccessInfo) as e:
        driver_manager.load(info)
    assert "pools" in e.value.msg


def test_access_info_from_request():
    CONF.set_override("timeout", 12.5, group="storage_driver")
    body = _body(pools=3)
    body["rest"]["port"] = "8443"
    body["rest"]["verify"] = False
    body["ssh"] = {"host": "h2", "port": 22, "username": "u"}
    info = driver_manager.access_info_from_request(body, storage_id="sid")
    assert info.vendor == "fake_storage" and info.model == "fake_driver"
    assert info.storage_id == "sid"
    assert info.rest == models.AccessEndpoint("127.0.0.1", 8443, "admin", "pw", {"verify": False})
    assert info.ssh.host == "h2" and info.ssh.password is None
    assert info.snmp is None
    assert info.extra_attributes == {"pools": 3}
    assert info.timeout == 12.5
    assert "pw" not in repr(info)


def test_access_info_from_stored_decrypts():
    CONF.set_override("fernet_keys", [Fernet.generate_key().decode()], group="security")
    crypto.reset()
    try:
        body = _body(volumes=5)
        stored = {
            "storage_id": "sid",
            **FAKE,
            "rest": crypto.encrypt_block(body["rest"]),
            "ssh": None,
            "snmp": None,
            "extra_attributes": {"volumes": 5},
        }
        assert stored["rest"]["password"] != "pw"
        info = driver_manager.access_info_from_stored(stored)
        assert info.rest.password == "pw"
        assert info.storage_id == "sid"
        assert info.extra_attributes == {"volumes": 5}
    finally:
        crypto.reset()


@pytest.mark.parametrize(
    "driver_error, platform_error",
    [
        (sdk_exc.InvalidCredentials, exception.InvalidCredentials),
        (sdk_exc.BackendUnreachable, exception.BackendUnreachable),
        (sdk_exc.DriverTimeout, exception.BackendUnreachable),
        (sdk_exc.InvalidAccessInfo, exception.InvalidAccessInfo),
        (sdk_exc.BackendError, exception.StorageBackendError),
        (sdk_exc.NotSupported, exception.NotSupported),
        (sdk_exc.DriverError, exception.StorageBackendError),
    ],
)
def test_translate_keeps_user_message_and_drops_operator_detail(driver_error, platform_error):
    err = driver_error("array said no", detail="operator detail 10.0.0.9 /api/v2")
    translated = driver_manager.translate(err, "get_storage")
    assert type(translated) is platform_error
    assert "array said no" in translated.msg
    assert "operator detail" not in str(translated.to_dict())


def test_translate_unexpected_error_hides_its_text():
    translated = driver_manager.translate(KeyError("password=hunter2"), "list_volumes")
    assert isinstance(translated, exception.StorageBackendError)
    assert "hunter2" not in translated.msg
    assert "KeyError" in translated.msg


def test_call_translates_and_chains():
    def boom():
        raise sdk_exc.BackendUnreachable("connection refused")

    with pytest.raises(exception.BackendUnreachable) as e:
        driver_manager.call(boom, what="x")
    assert isinstance(e.value.__cause__, sdk_exc.BackendUnreachable)


def test_call_passes_platform_errors_and_results_through():
    def already():
        raise exception.StorageNotFound("s")

    with pytest.raises(exception.StorageNotFound):
        driver_manager.call(already, what="x")
    assert driver_manager.call(lambda a, b: a + b, 1, 2, what="x") == 3


def test_call_with_deadline_returns_the_result():
    assert driver_manager.call_with_deadline(lambda: 42, 5, what="x") == 42


def test_call_with_deadline_times_out_to_backend_unreachable():
    release = threading.Event()
    start = time.monotonic()
    with pytest.raises(exception.BackendUnreachable) as e:
        driver_manager.call_with_deadline(lambda: release.wait(30), 0.2, what="slow")
    elapsed = time.monotonic() - start
    release.set()
    assert elapsed < 5
    assert "0.2" in e.value.msg


def test_a_timed_out_call_is_told_to_stop_and_its_thread_ends():
    from delfin_like.sdk import cancel

    spins = [0]

    def busy():
        # CPU-bound driver work that checks its token, as the sdk asks
        while True:
            spins[0] += 1
            cancel.check()

    with pytest.raises(exception.BackendUnreachable):
        driver_manager.call_with_deadline(busy, 0.2, what="busy")
    deadline = time.monotonic() + 10
    while any(t.name == "driver-busy" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [t for t in threading.enumerate() if t.name == "driver-busy"]
    stopped_at = spins[0]
    assert stopped_at > 0 and spins[0] == stopped_at


def test_call_with_deadline_translates_driver_errors():
    def fail():
        raise sdk_exc.InvalidCredentials("bad password")

    with pytest.raises(exception.InvalidCredentials):
        driver_manager.call_with_deadline(fail, 5, what="x")


def test_probe_returns_the_storage():
    storage = driver_manager.probe(driver_manager.access_info_from_request(_body(seed=3)))
    assert isinstance(storage, models.Storage)
    assert storage.vendor == "fake_storage" and storage.model == "fake_driver"
    assert storage.serial_number.startswith("FAKE")


@pytest.mark.parametrize(
    "error, platform_error",
    [
        ("invalid_credentials", exception.InvalidCredentials),
        ("unreachable", exception.BackendUnreachable),
        ("backend_error", exception.StorageBackendError),
    ],
)
def test_probe_translates_fake_errors(error, platform_error):
    with pytest.raises(platform_error):
        driver_manager.probe(driver_manager.access_info_from_request(_body(error=error)))


def test_probe_ignores_sync_only_errors():
    info = driver_manager.access_info_from_request(_body(sync_error="unreachable"))
    assert driver_manager.probe(info).vendor == "fake_storage"


def test_probe_unknown_driver():
    info = driver_manager.access_info_from_request({**_body(), "model": "nope"})
    with pytest.raises(exception.StorageDriverNotFound):
        driver_manager.probe(info)


def test_probe_times_out(scripted):
    CONF.set_override("probe_timeout", 1, group="storage_driver")
    release = threading.Event()
    scripted.behaviour = lambda: release.wait(30)
    start = time.monotonic()
    with pytest.raises(exception.BackendUnreachable):
        driver_manager.probe(driver_manager.access_info_from_request(_body()))
    assert time.monotonic() - start < 5
    release.set()


def test_probe_rejects_a_non_storage(scripted):
    scripted.behaviour = lambda: {"name": "not a model"}
    with pytest.raises(exception.StorageBackendError):
        driver_manager.probe(driver_manager.access_info_from_request(_body()))
    assert scripted.closed == 1


def test_probe_closes_the_driver_when_it_fails(scripted):
    def fail():
        raise sdk_exc.BackendError("500 from array")

    scripted.behaviour = fail
    with pytest.raises(exception.StorageBackendError):
        driver_manager.probe(driver_manager.access_info_from_request(_body()))
    assert scripted.closed == 1


def test_not_supported_is_a_400_named_not_supported():
    def no_alerts():
        raise sdk_exc.NotSupported("this driver lists no alerts")

    with pytest.raises(exception.NotSupported) as e:
        driver_manager.call(no_alerts, what="list_alerts")
    assert e.value.code == 400
    body = e.value.to_dict()
    assert body["error_code"] == "NotSupported"
    assert "lists no alerts" in body["error_msg"]
