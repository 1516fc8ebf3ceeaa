"""The trap receiver against traps sent by net-snmp's real ``snmptrap`` (Debian package ``snmp``) on loopback.

Each test runs its own receiver on a free 127.0.0.1 port and waits on the sink or
the counters with bounded timeouts.
"""

import os
import socket
import subprocess
import threading
import time

import pytest

from delfin_like.alert_manager.trap_receiver import SNMP_TRAP_COMMUNITY, SNMP_TRAP_OID, TrapReceiver
from tests.alert_helpers import require_snmptrap

TIMEOUT = 15.0
TRAP = "1.3.6.1.4.1.8072.2.3.0.1"  # NET-SNMP-EXAMPLES-MIB::netSnmpExampleHeartbeatNotification
TRAP_VAR = "1.3.6.1.4.1.8072.2.3.2.1"
ENGINE_A = "8000000001020304"
ENGINE_B = "80000000010a0b0c"


class Sources:
    """A sources provider: what ``refresh()`` returns can be changed while the receiver runs."""

    def __init__(self, items=()):
        self.items = list(items)
        self.lock = threading.Lock()

    def set(self, items):
        with self.lock:
            self.items = list(items)

    def refresh(self):
        with self.lock:
            return [dict(item) for item in self.items]


class Sink:
    def __init__(self):
        self.got = []
        self.cond = threading.Condition()

    def __call__(self, storage_id, trap):
        with self.cond:
            self.got.append((storage_id, trap))
            self.cond.notify_all()

    def wait(self, count, timeout=TIMEOUT):
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.got) >= count, timeout), f"{len(self.got)} of {count} traps"
            return list(self.got)


def wait_until(predicate, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def v2c(storage_id, community="public", host="127.0.0.1", **extra):
    return {"storage_id": storage_id, "version": "snmpv2c", "community_string": community, "host": host, **extra}


def v3(storage_id, engine_id=ENGINE_A, user="trapuser", level="authPriv", host="127.0.0.1", **extra):
    source = {
        "storage_id": storage_id,
        "version": "snmpv3",
        "username": user,
        "security_level": level,
        "auth_protocol": "SHA",
        "auth_key": "authpass123",
        "engine_id": engine_id,
        "host": host,
        **extra,
    }
    if level == "authPriv":
        source.update(privacy_protocol="AES", privacy_key="privpass123")
    return source


@pytest.fixture
def snmptrap(tmp_path):
    binary = require_snmptrap()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "MIBS": "",  # numeric OIDs only: no MIB loading, no warnings
        "SNMPCONFPATH": str(tmp_path),
        "SNMP_PERSISTENT_DIR": str(tmp_path / "persist"),
        "HOME": str(tmp_path),
    }

    def send(port, *args):
        subprocess.run([binary, *args[:-1], f"127.0.0.1:{port}", *args[-1]], env=env, check=True,
                       timeout=TIMEOUT, capture_output=True)

    def send_v2c(port, community="public", value="hello", extra=()):
        send(port, "-v", "2c", "-c", community, ["", TRAP, TRAP_VAR, "s", value, *extra])

    def send_v3(port, engine_id=ENGINE_A, user="trapuser", auth="authpass123", priv="privpass123",
                level="authPriv", value="hello"):
        args = ["-v", "3", "-e", "0x" + engine_id, "-u", user, "-l", level, "-a", "SHA", "-A", auth]
        if level == "authPriv":
            args += ["-x", "AES", "-X", priv]
        send(port, *args, ["", TRAP, TRAP_VAR, "s", value])

    def send_v1(port, community="public", generic="6", specific="17"):
        send(port, "-v", "1", "-c", community,
             ["1.3.6.1.4.1.99999", "127.0.0.1", generic, specific, "", "1.3.6.1.4.1.99999.1", "s", "v1-value"])

    send.v2c, send.v3, send.v1 = send_v2c, send_v3, send_v1
    return send


@pytest.fixture
def receiver():
    started = []

    def make(sources=(), **kwargs):
        provider = sources if isinstance(sources, Sources) else Sources(sources)
        sink = kwargs.pop("sink", None) or Sink()
        kwargs.setdefault("poll_interval", 0.2)
        rec = TrapReceiver(provider, sink, host="127.0.0.1", port=0, **kwargs)
        rec.start()
        started.append(rec)
        return rec, sink, provider

    yield make
    for rec in started:
        rec.stop()


def test_v2c_good_community_delivered(receiver, snmptrap):
    rec, sink, _ = receiver([v2c("s1")])
    snmptrap.v2c(rec.port)
    (storage_id, trap), = sink.wait(1)
    assert storage_id == "s1"
    assert trap.version == "v2c" and trap.source_address == "127.0.0.1"
    assert trap.trap_oid == TRAP
    oids = [oid for oid, _ in trap.varbinds]
    assert oids == ["1.3.6.1.2.1.1.3.0", SNMP_TRAP_OID, TRAP_VAR]
    assert dict(trap.varbinds)[TRAP_VAR] == "hello"
    assert trap.engine_id is None and trap.community_or_user == "public"
    assert trap.received_at.tzinfo is not None
    assert "public" not in repr(trap)
    wait_until(lambda: rec.counters()["delivered"] == 1, "delivered")
    assert rec.counters()["received"] == 1


def test_wrong_community_counted_never_delivered(receiver, snmptrap, caplog):
    rec, sink, _ = receiver([v2c("s1")])
    snmptrap.v2c(rec.port, community="not-the-one", value="bad")
    wait_until(lambda: rec.counters()["failed_authentication"] == 1, "failed_authentication")
    snmptrap.v2c(rec.port, value="good")
    got = sink.wait(1)
    wait_until(lambda: rec.counters()["delivered"] == 1, "delivered")
    assert [dict(t.varbinds)[TRAP_VAR] for _, t in got] == ["good"]
    assert rec.counters()["received"] == 2
    assert "not-the-one" not in caplog.text


def test_v3_auth_priv_good_and_wrong_keys(receiver, snmptrap, caplog):
    rec, sink, _ = receiver([v3("s3")])
    snmptrap.v3(rec.port, value="v3-good")
    (storage_id, trap), = sink.wait(1)
    assert storage_id == "s3" and trap.version == "v3"
    assert trap.engine_id == ENGINE_A and trap.community_or_user == "trapuser"
    assert trap.trap_oid == TRAP and dict(trap.varbinds)[TRAP_VAR] == "v3-good"

    snmptrap.v3(rec.port, priv="wrongpriv1", value="bad-priv")
    wait_until(lambda: rec.counters()["failed_authentication"] == 1, "wrong privacy key counted")
    snmptrap.v3(rec.port, auth="wrongauth1", value="bad-auth")
    wait_until(lambda: rec.counters()["failed_authentication"] == 2, "wrong auth key counted")
    # a lower security level than the source's is refused too
    snmptrap.v3(rec.port, level="authNoPriv", value="no-priv")
    wait_until(lambda: rec.counters()["failed_authentication"] == 3, "authNoPriv for an authPriv source")
    snmptrap.v3(rec.port, value="v3-again")
    got = sink.wait(2)
    assert [dict(t.varbinds)[TRAP_VAR] for _, t in got] == ["v3-good", "v3-again"]
    for secret in ("authpass123", "privpass123", "wrongpriv1", "wrongauth1"):
        assert secret not in caplog.text


def test_v3_auth_no_priv_delivered(receiver, snmptrap):
    rec, sink, _ = receiver([v3("s3", level="authNoPriv")])
    snmptrap.v3(rec.port, level="authNoPriv", value="signed")
    (storage_id, trap), = sink.wait(1)
    assert storage_id == "s3" and dict(trap.varbinds)[TRAP_VAR] == "signed"


def test_v1_trap_mapped_trap_oid(receiver, snmptrap):
    rec, sink, _ = receiver([v2c("s1")])
    snmptrap.v1(rec.port, generic="6", specific="17")
    snmptrap.v1(rec.port, generic="2", specific="0")  # linkDown
    got = sink.wait(2)
    traps = [t for _, t in got]
    assert all(t.version == "v1" for t in traps)
    assert traps[0].trap_oid == "1.3.6.1.4.1.99999.0.17"
    assert traps[1].trap_oid == "1.3.6.1.6.3.1.1.5.3"
    assert dict(traps[0].varbinds)["1.3.6.1.4.1.99999.1"] == "v1-value"
    for trap in traps:
        assert SNMP_TRAP_COMMUNITY not in dict(trap.varbinds)  # the community never rides along
        assert "public" not in [value for _, value in trap.varbinds]


def test_unknown_sender_unmatched(receiver, snmptrap):
    rec, sink, _ = receiver([v2c("elsewhere", host="127.0.0.2")])
    snmptrap.v2c(rec.port)
    wait_until(lambda: rec.counters()["unmatched_sender"] == 1, "unmatched_sender")
    counters = rec.counters()
    assert counters["received"] == 1 and counters["delivered"] == 0
    assert sink.got == []


def test_garbage_and_truncated_datagrams_then_good_trap(receiver, snmptrap):
    rec, sink, _ = receiver([v2c("s1")])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"\x00garbage\xff" * 3, ("127.0.0.1", rec.port))
        # a v2c message header announcing far more bytes than it has
        sock.sendto(b"\x30\x82\x01\x00\x02\x01\x01\x04\x06public\xa7\x10", ("127.0.0.1", rec.port))
        sock.sendto(b"", ("127.0.0.1", rec.port))
    wait_until(lambda: rec.counters()["malformed"] == 3, "three malformed datagrams")
    snmptrap.v2c(rec.port, value="after-garbage")
    (_, trap), = sink.wait(1)
    assert dict(trap.varbinds)[TRAP_VAR] == "after-garbage"


def test_source_added_and_removed_while_running(receiver, snmptrap):
    rec, sink, sources = receiver([v2c("other", host="127.0.0.2")])
    snmptrap.v2c(rec.port, value="before")
    wait_until(lambda: rec.counters()["unmatched_sender"] == 1, "unmatched before the change")

    generation = rec.generation
    sources.set([v2c("other", host="127.0.0.2"), v3("s3"), v2c("s1", community="later")])
    assert rec.wait_generation(generation + 1, TIMEOUT), "the change was not applied"
    snmptrap.v2c(rec.port, community="later", value="after")
    snmptrap.v3(rec.port, value="v3-after")
    got = sink.wait(2)
    assert sorted((sid, dict(t.varbinds)[TRAP_VAR]) for sid, t in got) == [("s1", "after"), ("s3", "v3-after")]

    generation = rec.generation
    sources.set([v2c("other", host="127.0.0.2")])
    assert rec.wait_generation(generation + 1, TIMEOUT)
    snmptrap.v2c(rec.port, community="later", value="removed")
    snmptrap.v3(rec.port, value="v3-removed")
    wait_until(lambda: rec.counters()["unmatched_sender"] == 3, "both unmatched after the removal")
    assert len(sink.got) == 2


def test_shared_address_resolved_by_community_engine_id_and_serial(receiver, snmptrap):
    serial_oid = "1.3.6.1.4.1.99999.9"
    rec, sink, _ = receiver(
        [
            v2c("by-community-a", community="comm-a"),
            v2c("by-community-b", community="comm-b"),
            v3("by-engine-a", engine_id=ENGINE_A),
            v3("by-engine-b", engine_id=ENGINE_B),
            v2c("by-serial-1", community="shared", serial_number="SN-1"),
            v2c("by-serial-2", community="shared", serial_number="SN-2"),
        ],
        serial_varbind_oids=[serial_oid],
    )
    snmptrap.v2c(rec.port, community="comm-b", value="b")
    snmptrap.v2c(rec.port, community="comm-a", value="a")
    snmptrap.v3(rec.port, engine_id=ENGINE_B, value="engine-b")
    snmptrap.v3(rec.port, engine_id=ENGINE_A, value="engine-a")
    snmptrap.v2c(rec.port, community="shared", value="serial-2", extra=(serial_oid, "s", "SN-2"))
    snmptrap.v2c(rec.port, community="shared", value="serial-1", extra=(serial_oid, "s", "SN-1"))
    got = sink.wait(6)
    assert sorted((sid, dict(t.varbinds)[TRAP_VAR]) for sid, t in got) == [
        ("by-community-a", "a"),
        ("by-community-b", "b"),
        ("by-engine-a", "engine-a"),
        ("by-engine-b", "engine-b"),
        ("by-serial-1", "serial-1"),
        ("by-serial-2", "serial-2"),
    ]
    # without the serial varbind the two "shared" sources cannot be told apart: never guessed
    snmptrap.v2c(rec.port, community="shared", value="ambiguous")
    wait_until(lambda: rec.counters()["unmatched_sender"] == 1, "ambiguous trap unmatched")
    # an unknown serial matches no storage
    snmptrap.v2c(rec.port, community="shared", value="unknown-serial", extra=(serial_oid, "s", "SN-9"))
    wait_until(lambda: rec.counters()["unmatched_sender"] == 2, "unknown serial unmatched")
    assert len(sink.got) == 6


def test_slow_sink_drops_with_a_count_and_the_socket_keeps_up(receiver, snmptrap):
    release = threading.Event()
    entered = threading.Event()
    inner = Sink()

    def slow_sink(storage_id, trap):
        entered.set()
        assert release.wait(TIMEOUT)
        inner(storage_id, trap)

    rec, _, _ = receiver([v2c("s1")], sink=slow_sink, queue_size=1)
    try:
        snmptrap.v2c(rec.port, value="first")
        assert entered.wait(TIMEOUT)  # the sink holds "first"
        snmptrap.v2c(rec.port, value="queued")
        snmptrap.v2c(rec.port, value="dropped-1")
        snmptrap.v2c(rec.port, value="dropped-2")
        wait_until(lambda: rec.counters()["dropped"] == 2, "two traps dropped")
        assert rec.counters()["received"] == 4
    finally:
        release.set()
    got = inner.wait(2)
    assert [dict(t.varbinds)[TRAP_VAR] for _, t in got] == ["first", "queued"]


def test_failing_sink_and_provider_do_not_stop_the_receiver(receiver, snmptrap):
    calls = []

    def flaky_sink(storage_id, trap):
        calls.append(trap)
        if len(calls) == 1:
            raise RuntimeError("database down")

    class FlakyProvider(Sources):
        def refresh(self):
            if self.fail:
                raise ConnectionError("db down")
            return super().refresh()

    provider = FlakyProvider([v2c("s1")])
    provider.fail = False
    rec, _, _ = receiver(provider, sink=flaky_sink)
    provider.fail = True  # the receiver keeps the last sources it read
    snmptrap.v2c(rec.port, value="one")
    snmptrap.v2c(rec.port, value="two")
    wait_until(lambda: rec.counters()["delivered"] == 1 and rec.counters()["sink_errors"] == 1, "one stored")


def test_start_stop_bounded_and_port_in_use(receiver):
    rec, _, _ = receiver([v2c("s1")])
    with pytest.raises(OSError):
        TrapReceiver(Sources(), Sink(), host="127.0.0.1", port=rec.port).start()
    with pytest.raises(RuntimeError):
        rec.start()
    began = time.monotonic()
    rec.stop()
    assert time.monotonic() - began < 5
    assert not any(t.name.startswith("trap-") and t.is_alive() for t in threading.enumerate())
    rec.stop()  # idempotent


def test_authenticated_trap_without_trap_oid_is_malformed(receiver, snmptrap):
    """A well-formed v2c message with the right community whose trap lacks snmpTrapOID.0."""
    from pyasn1.codec.ber import encoder
    from pysnmp.proto import api

    proto = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    pdu = proto.SNMPv2TrapPDU()
    proto.apiTrapPDU.set_defaults(pdu)
    proto.apiTrapPDU.set_varbinds(pdu, [("1.3.6.1.2.1.1.3.0", proto.TimeTicks(1))])
    message = proto.Message()
    proto.apiMessage.set_defaults(message)
    proto.apiMessage.set_community(message, "public")
    proto.apiMessage.set_pdu(message, pdu)
    rec, sink, _ = receiver([v2c("s1")])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(encoder.encode(message), ("127.0.0.1", rec.port))
    wait_until(lambda: rec.counters()["malformed"] == 1, "trap without snmpTrapOID counted as malformed")
    snmptrap.v2c(rec.port, value="good")
    (_, trap), = sink.wait(1)
    assert dict(trap.varbinds)[TRAP_VAR] == "good"
    assert rec.counters()["failed_authentication"] == 0


def test_flood_counted_logged_at_a_bounded_rate_good_traps_still_delivered(receiver, snmptrap, caplog):
    rec, sink, _ = receiver([v2c("s1")], log_burst=3, log_interval=3600)
    flood = 2000
    with caplog.at_level("WARNING", logger="delfin_like.alert_manager.trap_receiver"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for i in range(flood):
                sock.sendto(b"\x30\x03\x02\x01" + bytes([i % 256]), ("127.0.0.1", rec.port))
                if i % 200 == 199:  # within any socket buffer size (net.core.rmem_max may be small)
                    wait_until(lambda n=i + 1: rec.counters()["malformed"] == n, f"{i + 1} counted")
        snmptrap.v2c(rec.port, value="through-the-flood")
        (_, trap), = sink.wait(1)
        wait_until(lambda: rec.counters()["malformed"] == flood, "every flood datagram counted")
    assert dict(trap.varbinds)[TRAP_VAR] == "through-the-flood"
    malformed_lines = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert len(malformed_lines) == 3
    assert rec.counters()["received"] == flood + 1


def test_two_receivers_side_by_side(receiver, snmptrap):
    first, first_sink, _ = receiver([v2c("s1")])
    second, second_sink, _ = receiver([v3("s3")])
    snmptrap.v2c(first.port, value="to-first")
    snmptrap.v3(second.port, value="to-second")
    snmptrap.v3(first.port, value="wrong-receiver")  # the first has no v3 user
    (sid1, t1), = first_sink.wait(1)
    (sid2, t2), = second_sink.wait(1)
    assert (sid1, dict(t1.varbinds)[TRAP_VAR]) == ("s1", "to-first")
    assert (sid2, dict(t2.varbinds)[TRAP_VAR]) == ("s3", "to-second")
    wait_until(lambda: first.counters()["failed_authentication"] == 1, "v3 trap refused by the v2c-only receiver")


def test_stopped_receiver_starts_again_with_its_sources(receiver, snmptrap):
    rec, sink, _ = receiver([v2c("s1"), v3("s3")])
    snmptrap.v2c(rec.port, value="first-run")
    sink.wait(1)
    rec.stop()
    rec.port = 0
    rec.start()
    snmptrap.v2c(rec.port, value="second-run")
    snmptrap.v3(rec.port, value="second-run-v3")
    got = sink.wait(3)
    assert [dict(t.varbinds)[TRAP_VAR] for _, t in got[1:]] == ["second-run", "second-run-v3"]
