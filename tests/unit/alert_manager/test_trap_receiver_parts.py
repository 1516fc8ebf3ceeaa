"""The trap receiver's pure parts: alert source validation and the rate-limited log."""

import logging
import time

import pytest

from delfin_like.alert_manager import trap_receiver
from delfin_like.alert_manager.trap_receiver import RateLimitedLog, parse_source

V3 = {
    "storage_id": "s3",
    "version": "snmpv3",
    "username": "u",
    "security_level": "authPriv",
    "auth_protocol": "HMACSHA",
    "auth_key": "secret-auth-1",
    "privacy_protocol": "AES",
    "privacy_key": "secret-priv-1",
    "engine_id": "0x8000000001020304",
    "host": "127.0.0.1",
}


def test_v3_source_parsed():
    source = parse_source(V3)
    assert source.engine_id == "8000000001020304"
    assert source.security_level == 3
    assert source.auth_protocol == trap_receiver.AUTH_PROTOCOLS["SHA"]
    assert "secret" not in repr(source)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"engine_id": None}, "engine_id"),
        ({"engine_id": "abc"}, "engine_id"),
        ({"security_level": "noAuthnoPriv"}, "security_level"),
        ({"auth_protocol": "ROT13"}, "auth_protocol"),
        ({"privacy_key": "short"}, "privacy_key"),
        ({"version": "snmpv4"}, "version"),
        ({"host": ""}, "host"),
        ({"storage_id": None}, "storage_id"),
    ],
)
def test_bad_sources_rejected_without_secrets(change, message):
    with pytest.raises(ValueError, match=message) as info:
        parse_source({**V3, **change})
    assert "secret" not in str(info.value)


def test_community_source_needs_a_community():
    with pytest.raises(ValueError, match="community"):
        parse_source({"storage_id": "s", "version": "snmpv2c", "host": "127.0.0.1"})
    source = parse_source({"storage_id": "s", "version": "SNMPv1", "host": "127.0.0.1", "community_string": "c"})
    assert source.version == "v1" and source.community == "c" and "'c'" not in repr(source)


def test_rate_limited_log_bounds_lines_and_reports_the_suppressed(caplog):
    log = RateLimitedLog(logging.getLogger("test.ratelimit"), interval=0.05, burst=2)
    with caplog.at_level(logging.WARNING, logger="test.ratelimit"):
        emitted = [log.log(logging.WARNING, "flood", "line %d", i) for i in range(10)]
        assert emitted == [True, True] + [False] * 8
        assert log.log(logging.WARNING, "other", "another reason")  # reasons are limited separately
        deadline = time.monotonic() + 5
        while not log.log(logging.WARNING, "flood", "next window") and time.monotonic() < deadline:
            time.sleep(0.01)
    lines = [r.getMessage() for r in caplog.records if r.name == "test.ratelimit"]
    assert lines[:3] == ["line 0", "line 1", "another reason"]
    assert lines[3].startswith("next window") and "more flood lines suppressed" in lines[3]
    # every False call after the burst is counted: 8, plus the loop's misses before the window ended
    assert int(lines[3].split("(")[1].split()[0]) >= 8


def test_metric_families_name_every_counter():
    counters = dict.fromkeys(trap_receiver.COUNTERS, 0) | {"received": 7, "malformed": 2}
    families = {f.name: f for f in trap_receiver.metric_families(counters, receiver="r1")}
    assert set(families) == {f"delfin_like_trap_{name}" for name in trap_receiver.COUNTERS}
    sample = families["delfin_like_trap_received"].samples[0]
    assert sample.name == "delfin_like_trap_received_total" and sample.value == 7
    assert sample.labels == {"receiver": "r1"}
