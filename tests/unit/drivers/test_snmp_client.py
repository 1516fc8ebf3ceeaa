"""The ``generic snmp`` client without an agent: access-block validation, value conversion, error mapping."""

import time

import pytest
from pysnmp.proto import errind, rfc1902, rfc1905

from delfin_like.sdk import exceptions, models
from delfin_like_drivers.generic.snmp import SnmpDriver
from delfin_like_drivers.generic.snmp_client import SnmpClient, SnmpSettings, plain


def access(call_timeout: float = 60.0, username: str | None = None, **extra) -> models.AccessInfo:
    endpoint = models.AccessEndpoint(host="127.0.0.1", port=16161, username=username, extra=extra)
    return models.AccessInfo(vendor="generic", model="snmp", snmp=endpoint, timeout=call_timeout)


def test_v2c_settings_and_their_defaults():
    s = SnmpSettings.from_access_info(access(community="c0mmunity"))
    assert (s.version, s.community, s.retries, s.max_repetitions, s.timeout, s.call_timeout) == (
        "2c", "c0mmunity", 1, 50, 5.0, 60.0)  # fmt: skip
    assert "c0mmunity" not in repr(s)
    # the attempts of one request fit in half of what a whole call may take
    assert SnmpSettings.from_access_info(access(call_timeout=2, community="c")).timeout == 0.5
    s = SnmpSettings.from_access_info(
        access(call_timeout=10, community="c", retries=4, max_repetitions=100, version="v2c")
    )
    assert (s.timeout, s.retries, s.max_repetitions) == (1.0, 4, 100)


def test_v3_settings():
    s = SnmpSettings.from_access_info(access(username="u", auth_key="a" * 8, privacy_key="p" * 8,
                                             auth_protocol="sha-256", privacy_protocol="aes_256"))  # fmt: skip
    assert (s.version, s.username, s.auth_protocol, s.privacy_protocol) == ("3", "u", "SHA256", "AES256")
    assert "a" * 8 not in repr(s) and "p" * 8 not in repr(s)
    s = SnmpSettings.from_access_info(access(username="u", auth_key="a" * 8))  # authNoPriv
    assert s.privacy_key is None and s.auth_protocol == "SHA"


@pytest.mark.parametrize(
    "username, extra, words",
    [
        (None, {}, "snmp.community is required"),
        (None, {"community": "c", "version": "1"}, "snmp.version"),
        (None, {"version": "3"}, "snmp.username is required"),
        ("u", {"auth_key": "short"}, "snmp.auth_key must be at least 8"),
        ("u", {"privacy_key": "p" * 8}, "needs snmp.auth_key"),
        ("u", {"auth_key": "a" * 8, "auth_protocol": "SHA3"}, "snmp.auth_protocol must be one of"),
        ("u", {"auth_key": "a" * 8, "privacy_protocol": "ROT13"}, "snmp.privacy_protocol must be one of"),
        (None, {"community": "c", "max_repetitions": 0}, "snmp.max_repetitions must be between 1 and 100"),
        (None, {"community": "c", "retries": "many"}, "snmp.retries must be a number"),
        (None, {"community": "c", "timeout": 0}, "snmp.timeout must be between"),
    ],
)
def test_invalid_access_blocks(username, extra, words):
    with pytest.raises(exceptions.InvalidAccessInfo, match=words) as caught:
        SnmpSettings.from_access_info(access(username=username, **extra))
    assert "short" not in str(caught.value)


def test_driver_without_snmp_block():
    with pytest.raises(exceptions.InvalidAccessInfo, match="'snmp' access block"):
        SnmpDriver(models.AccessInfo(vendor="generic", model="snmp"))


def test_plain_values():
    assert plain(rfc1902.Integer32(-5)) == -5
    assert plain(rfc1902.Counter64(2**64 - 1)) == 2**64 - 1
    assert plain(rfc1902.Gauge32(7)) == 7 and plain(rfc1902.TimeTicks(100)) == 100
    assert plain(rfc1902.OctetString(b"\x00\xff")) == b"\x00\xff"
    assert plain(rfc1902.IpAddress("198.51.100.7")) == "198.51.100.7"
    assert plain(rfc1902.ObjectIdentifier("1.3.6.1.4.1")) == (1, 3, 6, 1, 4, 1)
    assert plain(rfc1905.noSuchInstance) is None and plain(rfc1905.endOfMibView) is None


def _check(settings, *args):
    SnmpClient(settings)._check(*args, [(1, 3, 6, 1, 2, 1, 1, 5, 0)])


def test_error_mapping():
    v2c = SnmpSettings.from_access_info(access(call_timeout=4, community="c"))
    v3 = SnmpSettings.from_access_info(access(username="u", auth_key="a" * 8, privacy_key="p" * 8))
    with pytest.raises(
        exceptions.DriverTimeout, match=r"within 2 s \(2 attempt\(s\)\); with SNMPv2c a wrong community"
    ):
        _check(v2c, errind.requestTimedOut, 0, 0)
    with pytest.raises(exceptions.DriverTimeout, match="a wrong privacy key can look the same"):
        _check(v3, errind.requestTimedOut, 0, 0)
    for indication in (errind.wrongDigest, errind.unknownUserName, errind.unknownSecurityName):
        with pytest.raises(exceptions.InvalidCredentials, match="rejected the credentials"):
            _check(v3, indication, 0, 0)
    with pytest.raises(exceptions.BackendError, match="failed: "):
        _check(v3, errind.parseError, 0, 0)
    with pytest.raises(exceptions.InvalidCredentials, match=r"denied access \(noAccess at 1.3.6.1.2.1.1.5.0\)"):
        _check(v2c, None, rfc1902.Integer32(6), 1)
    with pytest.raises(exceptions.BackendError, match=r"answered genErr at 1.3.6.1.2.1.1.5.0"):
        _check(v2c, None, 5, 1)
    _check(v2c, None, 0, 0)  # no error: nothing raised


def test_a_call_past_its_deadline_sends_nothing():
    client = SnmpClient(SnmpSettings.from_access_info(access(community="c")))
    try:
        with pytest.raises(exceptions.DriverTimeout, match="whole call"):
            client.get([(1, 3, 6, 1, 2, 1, 1, 5, 0)], time.monotonic() - 1)
    finally:
        client.close()
    with pytest.raises(exceptions.BackendError, match="closed"):
        client.get([(1, 3, 6, 1, 2, 1, 1, 5, 0)], time.monotonic() + 1)
