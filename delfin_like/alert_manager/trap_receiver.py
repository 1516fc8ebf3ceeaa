"""SNMP trap receiver: v1, v2c and v3 (authNoPriv, authPriv) traps in, one ``(storage_id, trap)`` per good trap out.

Three threads, no eventlet:

* ``trap-engine`` runs an asyncio loop with a pysnmp engine on one UDP socket. Every
  datagram is classified there: a sender address no alert source names is counted as
  ``unmatched_sender`` before it is even decoded; the rest go through pysnmp's message
  processing, where the community (v1/v2c) or the USM user (v3: digest and decryption
  with the source's keys, localized to the source's engine id) is checked. A good trap
  is matched to exactly one alert source: same sender address, same credentials (a
  community source takes v1 and v2c traps, a v3 source v3 ones at its security level or
  above), same v3 engine id and, when the trap carries a varbind named in
  ``serial_varbind_oids``, the same serial number. Several sources behind one address
  are told apart that way; a trap that still fits several (or none) is never passed on.
* ``trap-sink`` takes the matched traps from a bounded queue and calls ``sink(storage_id,
  trap)`` (the storage's driver parses it, the alert is stored); a sink with a ``many(batch)``
  method gets, with each trap, those queued meanwhile (at most ``SINK_BATCH``: ``[(storage_id,
  trap), ...]``), so it can store them in one transaction. A full queue drops the trap with a
  count: a slow sink never slows down the socket.
* ``trap-sources`` calls ``sources.refresh()`` every ``poll_interval`` seconds and applies
  what changed to the running engine (communities and v3 users added and removed), so
  an snmp-config change needs no restart. Several receivers may run, each on its own
  socket, each with its own provider.

Counters (``received``, ``delivered``, ``unmatched_sender``, ``failed_authentication``,
``malformed``, ``dropped``, ``sink_errors``) are in :meth:`TrapReceiver.counters`.
Rejections are logged at most ``log_burst`` lines per reason per ``log_interval``, the
number suppressed is reported with the next line. Communities and keys are never logged.

A v3 alert source must name the array's engine id (hex): a trap is authenticated by
the sender's engine (it is authoritative), and the keys are localized to it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import hashlib
import hmac
import ipaddress
import json
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable

from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.carrier.asyncio.dispatch import AsyncioDispatcher
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import ntfrcv

LOG = logging.getLogger(__name__)

SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
# rfc2576 appends the community of a v1 trap as a varbind: a secret, never passed on
SNMP_TRAP_COMMUNITY = "1.3.6.1.6.3.18.1.4.0"

VERSIONS = {"snmpv1": "v1", "snmpv2c": "v2c", "snmpv3": "v3"}
_MP_MODEL_VERSION = {0: "v1", 1: "v2c", 3: "v3"}
SECURITY_LEVELS = {"authNoPriv": 2, "authPriv": 3}
RECEIVE_BUFFER = 4 * 1024 * 1024
SINK_BATCH = 200  # at most this many queued traps handed at once to a sink with ``many``

# the names the SNMP driver accepts, plus Delfin's spellings
AUTH_PROTOCOLS = {
    "MD5": config.USM_AUTH_HMAC96_MD5,
    "SHA": config.USM_AUTH_HMAC96_SHA,
    "SHA1": config.USM_AUTH_HMAC96_SHA,
    "SHA224": config.USM_AUTH_HMAC128_SHA224,
    "SHA256": config.USM_AUTH_HMAC192_SHA256,
    "SHA384": config.USM_AUTH_HMAC256_SHA384,
    "SHA512": config.USM_AUTH_HMAC384_SHA512,
    "HMACMD5": config.USM_AUTH_HMAC96_MD5,
    "HMACSHA": config.USM_AUTH_HMAC96_SHA,
    "HMACSHA224": config.USM_AUTH_HMAC128_SHA224,
    "HMACSHA256": config.USM_AUTH_HMAC192_SHA256,
    "HMACSHA384": config.USM_AUTH_HMAC256_SHA384,
    "HMACSHA512": config.USM_AUTH_HMAC384_SHA512,
}
PRIVACY_PROTOCOLS = {
    "DES": config.USM_PRIV_CBC56_DES,
    "3DES": config.USM_PRIV_CBC168_3DES,
    "AES": config.USM_PRIV_CFB128_AES,
    "AES128": config.USM_PRIV_CFB128_AES,
    "AES192": config.USM_PRIV_CFB192_AES_BLUMENTHAL,
    "AES256": config.USM_PRIV_CFB256_AES_BLUMENTHAL,
    "AES192C": config.USM_PRIV_CFB192_AES,
    "AES256C": config.USM_PRIV_CFB256_AES,
}

COUNTERS = (
    "received",
    "delivered",
    "unmatched_sender",
    "failed_authentication",
    "malformed",
    "dropped",
    "sink_errors",
)

# pysnmp's own counters of rejected credentials: a datagram that raised one failed authentication
_AUTH_FAILURE_COUNTERS = (
    ("__SNMPv2-MIB", "snmpInBadCommunityNames"),
    ("__SNMP-USER-BASED-SM-MIB", "usmStatsUnknownUserNames"),
    ("__SNMP-USER-BASED-SM-MIB", "usmStatsUnknownEngineIDs"),
    ("__SNMP-USER-BASED-SM-MIB", "usmStatsWrongDigests"),
    ("__SNMP-USER-BASED-SM-MIB", "usmStatsDecryptionErrors"),
    ("__SNMP-USER-BASED-SM-MIB", "usmStatsNotInTimeWindows"),
    ("__SNMP-USER-BASED-SM-MIB", "usmStatsUnsupportedSecLevels"),
)


@dataclasses.dataclass(slots=True, frozen=True)
class ReceivedTrap:
    """One authenticated trap, the fields of the sdk's ``TrapInfo`` (see ALERTS_CONTRACT)."""

    source_address: str
    version: str  # "v1" | "v2c" | "v3"
    varbinds: tuple[tuple[str, str], ...]
    trap_oid: str
    engine_id: str | None
    community_or_user: str | None = dataclasses.field(repr=False)
    received_at: datetime.datetime


@dataclasses.dataclass(slots=True, frozen=True)
class _Source:
    storage_id: str
    host: str
    version: str  # "v1" | "v2c" | "v3"
    community: str | None = dataclasses.field(default=None, repr=False)
    username: str | None = None
    security_level: int = 0
    auth_protocol: tuple | None = None
    auth_key: str | None = dataclasses.field(default=None, repr=False)
    privacy_protocol: tuple | None = None
    privacy_key: str | None = dataclasses.field(default=None, repr=False)
    engine_id: str | None = None  # lower-case hex
    serial_number: str | None = None


class RateLimitedLog:
    """At most ``burst`` lines per reason in an ``interval``-second window, the rest counted."""

    def __init__(self, logger: logging.Logger, interval: float, burst: int):
        self._logger = logger
        self._interval = interval
        self._burst = burst
        self._lock = threading.Lock()
        self._windows: dict[str, list] = {}  # reason -> [window start, lines, suppressed]

    def log(self, level: int, reason: str, msg: str, *args) -> bool:
        now = time.monotonic()
        with self._lock:
            window = self._windows.get(reason)
            if window is None or now - window[0] >= self._interval:
                suppressed = window[2] if window else 0
                window = self._windows[reason] = [now, 0, 0]
            else:
                suppressed = 0
            if window[1] >= self._burst:
                window[2] += 1
                return False
            window[1] += 1
        if suppressed:
            msg += " (%d more %s lines suppressed in the last window)"
            args = (*args, suppressed, reason)
        self._logger.log(level, msg, *args)
        return True


def _normalize_host(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        infos = socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_DGRAM)
        return str(ipaddress.ip_address(infos[0][4][0]))


def _protocol(value, table: dict, what: str):
    name = str(value or "").upper().replace("-", "").replace("_", "")
    if name not in table:
        raise ValueError(f"unsupported {what} {value!r}")
    return table[name]


def parse_source(raw: dict) -> _Source:
    """An alert source (the ``alert_sources`` fields, secrets in clear, plus storage_id) -> ``_Source``.

    Raises ValueError with a message that never contains a secret.
    """
    storage_id = raw.get("storage_id")
    if not storage_id:
        raise ValueError("no storage_id")
    version = VERSIONS.get(str(raw.get("version") or "").lower())
    if version is None:
        raise ValueError(f"unsupported version {raw.get('version')!r}")
    if not raw.get("host"):
        raise ValueError("no host")
    try:
        host = _normalize_host(str(raw["host"]))
    except (OSError, ValueError, IndexError):
        raise ValueError(f"host {raw['host']!r} does not resolve") from None
    serial = raw.get("serial_number") or None
    if version in ("v1", "v2c"):
        if not raw.get("community_string"):
            raise ValueError("no community_string")
        return _Source(str(storage_id), host, version, community=str(raw["community_string"]),
                       serial_number=serial)
    level = SECURITY_LEVELS.get(raw.get("security_level") or "")
    if level is None:
        raise ValueError(f"unsupported security_level {raw.get('security_level')!r} (authNoPriv or authPriv)")
    if not raw.get("username"):
        raise ValueError("no username")
    engine_id = str(raw.get("engine_id") or "").lower().removeprefix("0x")
    try:
        if not 5 <= len(bytes.fromhex(engine_id)) <= 32:
            raise ValueError
    except ValueError:
        raise ValueError("v3 needs the array's engine_id (5 to 32 bytes in hex)") from None
    if not raw.get("auth_key") or len(str(raw["auth_key"])) < 8:
        raise ValueError("auth_key missing or shorter than 8 characters")
    auth_protocol = _protocol(raw.get("auth_protocol") or "SHA", AUTH_PROTOCOLS, "auth_protocol")
    privacy_protocol = privacy_key = None
    if level == 3:
        if not raw.get("privacy_key") or len(str(raw["privacy_key"])) < 8:
            raise ValueError("privacy_key missing or shorter than 8 characters")
        privacy_protocol = _protocol(raw.get("privacy_protocol") or "AES", PRIVACY_PROTOCOLS, "privacy_protocol")
        privacy_key = str(raw["privacy_key"])
    return _Source(
        str(storage_id),
        host,
        "v3",
        username=str(raw["username"]),
        security_level=level,
        auth_protocol=auth_protocol,
        auth_key=str(raw["auth_key"]),
        privacy_protocol=privacy_protocol,
        privacy_key=privacy_key,
        engine_id=engine_id,
        serial_number=serial,
    )


def _digest(sources: Iterable[dict]) -> str:
    """A fingerprint of the provider's answer, to skip re-applying an unchanged config."""
    text = json.dumps(sorted(json.dumps(s, sort_keys=True, default=str) for s in sources))
    return hashlib.sha256(text.encode()).hexdigest()


def _text(value) -> str:
    try:
        return value.prettyPrint()
    except Exception:  # noqa: BLE001 - a value pyasn1 cannot print is still passed on as text
        return str(value)


class TrapReceiver:
    """Receives traps on ``host:port`` (UDP) and calls ``sink(storage_id, ReceivedTrap)`` for the good ones.

    ``sources`` has ``refresh() -> list[dict]``: the current alert sources (``alert_sources``
    fields, secrets in clear, ``storage_id``; optionally ``serial_number``). ``port=0`` binds a
    free port (see :attr:`port` after :meth:`start`). Options default to ``[alert_receiver]``.
    """

    def __init__(
        self,
        sources,
        sink: Callable[[str, ReceivedTrap], None],
        host: str | None = None,
        port: int | None = None,
        poll_interval: float | None = None,
        queue_size: int | None = None,
        serial_varbind_oids: Iterable[str] | None = None,
        log_interval: float | None = None,
        log_burst: int | None = None,
        stop_timeout: float | None = None,
    ):
        from delfin_like.conf import CONF

        opts = CONF.alert_receiver

        def pick(value, default):
            return default if value is None else value

        self._provider = sources
        self._sink = sink
        self.host = pick(host, opts.host)
        self.port = pick(port, opts.port)
        self.poll_interval = float(pick(poll_interval, opts.poll_interval))
        self._queue: queue.Queue = queue.Queue(maxsize=pick(queue_size, opts.queue_size))
        self._serial_oids = tuple(
            o.strip().lstrip(".") for o in pick(serial_varbind_oids, opts.serial_varbind_oids) if o.strip()
        )
        self._log = RateLimitedLog(LOG, pick(log_interval, opts.log_interval), pick(log_burst, opts.log_burst))
        self._stop_timeout = float(pick(stop_timeout, opts.stop_timeout))

        self._counters = dict.fromkeys(COUNTERS, 0)
        self._counter_lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._engine = None
        self._sock: socket.socket | None = None

        # engine-thread state
        self._by_host: dict[str, list[_Source]] = {}
        self._communities: dict[str, str] = {}  # community -> communityIndex registered in the engine
        self._users: dict[tuple[str, str], tuple] = {}  # (engine id hex, user) -> key material registered
        self._auth_counters: list = []
        self._current: dict | None = None  # what pysnmp's observers saw of the datagram being processed

        # config generations, for callers that wait for a change to apply
        self._applied = threading.Condition()
        self._generation = 0
        self._digest: str | None = None

    # counters ---------------------------------------------------------------------------

    def _count(self, name: str, n: int = 1) -> None:
        with self._counter_lock:
            self._counters[name] += n

    def counters(self) -> dict[str, int]:
        with self._counter_lock:
            return dict(self._counters)

    @property
    def generation(self) -> int:
        """How many times a (changed) source list has been applied to the engine."""
        with self._applied:
            return self._generation

    def wait_generation(self, generation: int, timeout: float) -> bool:
        """Wait until at least ``generation`` source lists have been applied; False on timeout."""
        with self._applied:
            return self._applied.wait_for(lambda: self._generation >= generation, timeout)

    # life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Bind the socket (an OSError if it cannot), load the sources once, start the threads."""
        if self._threads:
            raise RuntimeError("trap receiver already started")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            try:  # room for a burst while the engine thread is busy; the kernel caps it (net.core.rmem_max)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            except OSError:
                pass
            sock.bind((self.host, self.port))
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._stopping.clear()
        # a restarted receiver has a new engine: everything is applied anew
        self._digest = None
        self._by_host, self._communities, self._users = {}, {}, {}
        ready = threading.Event()
        failure: list[BaseException] = []
        engine_thread = threading.Thread(
            target=self._run_engine, args=(ready, failure), name="trap-engine", daemon=True
        )
        engine_thread.start()
        if not ready.wait(self._stop_timeout) or failure:
            self._stopping.set()
            engine_thread.join(self._stop_timeout)
            sock.close()
            raise RuntimeError(f"trap receiver did not start: {failure[0] if failure else 'timeout'}")
        self._threads = [engine_thread]
        self._refresh()
        for target, name in ((self._run_sink, "trap-sink"), (self._run_poller, "trap-sources")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        LOG.info("trap receiver listening on %s:%d (udp)", self.host, self.port)

    def stop(self) -> None:
        """Stop the threads, each within ``stop_timeout`` seconds; traps still queued are not delivered."""
        if not self._threads:
            return
        self._stopping.set()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(loop.stop)
            except RuntimeError:  # closed meanwhile
                pass
        for thread in self._threads:
            thread.join(self._stop_timeout)
            if thread.is_alive():
                LOG.warning("trap receiver thread %s did not stop within %.1f s", thread.name, self._stop_timeout)
        self._threads = []
        LOG.info("trap receiver on %s:%d stopped", self.host, self.port)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # engine thread ----------------------------------------------------------------------

    def _run_engine(self, ready: threading.Event, failure: list) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            snmp_engine = engine.SnmpEngine()
            dispatcher = AsyncioDispatcher(loop=loop)
            snmp_engine.register_transport_dispatcher(dispatcher)
            if self._sock.family == socket.AF_INET6:
                domain, transport = udp6.DOMAIN_NAME, udp6.Udp6AsyncioTransport(loop=loop)
            else:
                domain, transport = udp.DOMAIN_NAME, udp.UdpAsyncioTransport(loop=loop)
            transport.open_server_mode(sock=self._sock)
            config.add_transport(snmp_engine, domain, transport)
            loop.run_until_complete(getattr(transport, "_lport", None) or asyncio.sleep(0))
            # every datagram goes through _on_datagram first (address check, classification)
            dispatcher.unregister_recv_callback()
            dispatcher.register_recv_callback(self._on_datagram)
            ntfrcv.NotificationReceiver(snmp_engine, self._on_notification)
            observer = snmp_engine.observer
            observer.register_observer(self._observe, "rfc2576.processIncomingMsg", "rfc3414.processIncomingMsg")
            mib = snmp_engine.get_mib_builder()
            self._auth_counters = [mib.import_symbols(module, name)[0] for module, name in _AUTH_FAILURE_COUNTERS]
            self._engine = snmp_engine
        except Exception as exc:  # noqa: BLE001 - reported to start()
            failure.append(exc)
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            try:
                snmp_engine.close_dispatcher()
            except Exception:  # noqa: BLE001
                LOG.debug("closing the trap receiver's dispatcher failed", exc_info=True)
            try:
                loop.run_until_complete(asyncio.sleep(0))
            finally:
                loop.close()
                if self._sock is not None:
                    self._sock.close()

    def _auth_failures(self) -> int:
        return sum(int(counter.syntax) for counter in self._auth_counters)

    def _observe(self, snmp_engine, execpoint, variables, cbctx) -> None:
        if self._current is not None:
            self._current.update(
                (k, variables[k]) for k in ("communityName", "securityEngineId", "userName") if k in variables
            )

    def _on_datagram(self, dispatcher, domain, address, message) -> None:
        self._count("received")
        try:
            host = _normalize_host(address[0])
        except (ValueError, OSError, IndexError):
            host = str(address[0])
        if host not in self._by_host:
            self._count("unmatched_sender")
            self._log.log(logging.WARNING, "unmatched_sender", "trap from %s: no alert source has that address", host)
            return
        self._current = current = {"host": host, "outcome": None}
        auth_before = self._auth_failures()
        try:
            self._engine.message_dispatcher.receive_message(self._engine, domain, address, message)
        except Exception as exc:  # noqa: BLE001 - a bad datagram must never stop the receiver
            LOG.debug("trap from %s: %s", host, exc, exc_info=True)
        finally:
            self._current = None
        outcome = current["outcome"]
        if outcome is None:
            outcome = "failed_authentication" if self._auth_failures() > auth_before else "malformed"
            self._count(outcome)
            if outcome == "failed_authentication":
                self._log.log(
                    logging.WARNING, outcome, "trap from %s: community or USM authentication/decryption failed", host
                )
            else:
                self._log.log(logging.WARNING, outcome, "trap from %s: malformed or not a trap (%d bytes)",
                              host, len(message))

    def _on_notification(self, snmp_engine, state_reference, context_engine_id, context_name, var_binds, cbctx):
        current = self._current
        if current is None:  # not from _on_datagram: cannot happen, be safe
            return
        request = snmp_engine.observer.get_execution_context("rfc3412.receiveMessage:request")
        version = _MP_MODEL_VERSION.get(int(request.get("messageProcessingModel", -1)))
        security_level = int(request.get("securityLevel", 0))
        varbinds = tuple((str(oid), _text(value)) for oid, value in var_binds if str(oid) != SNMP_TRAP_COMMUNITY)
        trap_oid = next((value for oid, value in varbinds if oid == SNMP_TRAP_OID), "")
        host = current["host"]
        if not trap_oid:  # v1 traps get theirs from rfc2576's translation: a v2 trap without one is broken
            current["outcome"] = "malformed"
            self._count("malformed")
            self._log.log(logging.WARNING, "malformed", "trap from %s (%s) has no snmpTrapOID varbind", host, version)
            return
        engine_id = credential = None
        if version == "v3":
            engine_id = bytes(current.get("securityEngineId") or b"").hex()
            credential = bytes(current.get("userName") or b"").decode("utf-8", "replace")
        elif version is not None:
            credential = bytes(current.get("communityName") or b"").decode("utf-8", "replace")
        # a community source takes v1 and v2c traps (arrays mix them); a v3 source only v3 ones
        candidates = [s for s in self._by_host.get(host, ()) if (s.version == "v3") == (version == "v3")]
        if version is None:
            candidates = []
        elif version == "v3":
            candidates = [
                s for s in candidates
                if s.engine_id == engine_id and s.username == credential and security_level >= s.security_level
            ]
        else:
            candidates = [s for s in candidates if hmac.compare_digest(s.community.encode(), credential.encode())]
        if not candidates:
            current["outcome"] = "failed_authentication"
            self._count("failed_authentication")
            self._log.log(
                logging.WARNING,
                "failed_authentication",
                "trap from %s (%s): no alert source at that address has these credentials%s",
                host,
                version,
                f" for engine id {engine_id}" if engine_id else "",
            )
            return
        serial = next(
            (value for oid, value in varbinds if any(oid == s or oid.startswith(s + ".") for s in self._serial_oids)),
            None,
        )
        if serial is not None:
            candidates = [s for s in candidates if s.serial_number is None or s.serial_number == serial]
        if len(candidates) != 1:
            current["outcome"] = "unmatched_sender"
            self._count("unmatched_sender")
            self._log.log(
                logging.WARNING,
                "unmatched_sender",
                "trap from %s (%s): %d alert sources fit it (address, credentials, engine id, serial)",
                host,
                version,
                len(candidates),
            )
            return
        current["outcome"] = "matched"
        trap = ReceivedTrap(
            source_address=host,
            version=version,
            varbinds=varbinds,
            trap_oid=trap_oid,
            engine_id=engine_id,
            community_or_user=credential,
            received_at=datetime.datetime.now(datetime.UTC),
        )
        try:
            self._queue.put_nowait((candidates[0].storage_id, trap))
        except queue.Full:
            self._count("dropped")
            self._log.log(logging.WARNING, "dropped", "trap from %s dropped: %d traps already wait for the sink",
                          host, self._queue.maxsize)

    def _apply(self, sources: list[_Source]) -> None:
        """Make the engine's communities, users and the address index those of ``sources`` (engine thread)."""
        snmp_engine = self._engine
        communities = {s.community for s in sources if s.community is not None}
        for community in set(self._communities) - communities:
            config.delete_v1_system(snmp_engine, self._communities.pop(community))
        for community in communities - set(self._communities):
            index = "c" + hashlib.sha256(community.encode()).hexdigest()[:20]
            config.add_v1_system(snmp_engine, index, community, securityName=index)
            self._communities[community] = index
        users: dict[tuple[str, str], tuple] = {}
        for s in sources:
            if s.version != "v3":
                continue
            material = (s.auth_protocol, s.auth_key, s.privacy_protocol, s.privacy_key)
            key = (s.engine_id, s.username)
            if key in users and users[key] != material:
                self._log.log(
                    logging.WARNING,
                    "config",
                    "alert sources share v3 user %s at engine id %s with different keys: storage %s is ignored",
                    s.username,
                    s.engine_id,
                    s.storage_id,
                )
                continue
            users[key] = material
        for key in [k for k in self._users if users.get(k) != self._users[k]]:
            config.delete_v3_user(snmp_engine, key[1], securityEngineId=bytes.fromhex(key[0]))
            del self._users[key]
        for key, material in users.items():
            if key in self._users:
                continue
            auth_protocol, auth_key, privacy_protocol, privacy_key = material
            config.add_v3_user(
                snmp_engine,
                key[1],
                authProtocol=auth_protocol,
                authKey=auth_key,
                privProtocol=privacy_protocol or config.USM_PRIV_NONE,
                privKey=privacy_key,
                securityEngineId=bytes.fromhex(key[0]),
            )
            self._users[key] = material
        by_host: dict[str, list[_Source]] = {}
        for s in sources:
            if s.version == "v3" and users.get((s.engine_id, s.username)) != (
                s.auth_protocol, s.auth_key, s.privacy_protocol, s.privacy_key
            ):
                continue
            by_host.setdefault(s.host, []).append(s)
        self._by_host = by_host

    # source poller ----------------------------------------------------------------------

    def _refresh(self) -> None:
        try:
            raw = list(self._provider.refresh())
        except Exception as exc:  # noqa: BLE001 - keep the current config, try again next time
            self._log.log(logging.WARNING, "refresh", "reading the alert sources failed, keeping the last ones: %s",
                          type(exc).__name__)
            return
        digest = _digest(raw)
        if digest == self._digest:
            return
        parsed = []
        for item in raw:
            try:
                parsed.append(parse_source(item))
            except ValueError as exc:
                self._log.log(logging.WARNING, "config", "alert source of storage %s ignored: %s",
                              item.get("storage_id"), exc)
        loop = self._loop
        if loop is None or loop.is_closed() or self._stopping.is_set():
            return
        future = asyncio.run_coroutine_threadsafe(self._apply_async(parsed), loop)
        try:
            deadline = time.monotonic() + self._stop_timeout
            while not future.done() and not self._stopping.is_set() and time.monotonic() < deadline:
                try:
                    future.result(0.1)
                except TimeoutError:
                    continue
            if not future.done():
                future.cancel()
                return
            future.result()
        except Exception as exc:  # noqa: BLE001
            self._log.log(logging.ERROR, "config", "applying the alert sources failed: %s", exc)
            return
        self._digest = digest
        with self._applied:
            self._generation += 1
            self._applied.notify_all()
        LOG.info("trap receiver: %d alert sources applied", len(parsed))

    async def _apply_async(self, sources):
        self._apply(sources)

    def _run_poller(self) -> None:
        while not self._stopping.wait(self.poll_interval):
            self._refresh()

    # sink thread ------------------------------------------------------------------------

    def _run_sink(self) -> None:
        many = getattr(self._sink, "many", None)
        while not self._stopping.is_set():
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            # a sink that takes batches gets what queued meanwhile too: one commit for many traps
            while many is not None and len(batch) < SINK_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                if many is not None:
                    many(batch)
                else:
                    self._sink(*first)
            except Exception as exc:  # noqa: BLE001 - one bad trap or a database hiccup must not stop the sink
                self._count("sink_errors", len(batch))
                self._log.log(logging.ERROR, "sink_errors", "storing %d trap(s) of storage %s failed: %s",
                              len(batch), first[0], exc)
            else:
                self._count("delivered", len(batch))


def metric_families(counters: dict[str, int], receiver: str = "default"):
    """The counters as prometheus_client families (``delfin_like_trap_<name>_total``, label ``receiver``)."""
    from prometheus_client.core import CounterMetricFamily

    families = []
    for name in COUNTERS:
        family = CounterMetricFamily(
            f"delfin_like_trap_{name}", f"SNMP trap receiver: {name.replace('_', ' ')}", labels=("receiver",)
        )
        family.add_metric((receiver,), counters.get(name, 0))
        families.append(family)
    return families
