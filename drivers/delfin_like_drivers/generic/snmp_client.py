"""A small synchronous SNMP client on pysnmp 7's asyncio API, for drivers called from threads.

Each :class:`SnmpClient` owns a private event loop in a daemon thread and its own
``SnmpEngine``; blocking calls (:meth:`SnmpClient.get`, :meth:`SnmpClient.walk`) submit
a coroutine to that loop and wait for it, so any worker thread may call them. Every
call has a deadline: each request attempt waits at most ``timeout`` seconds (less when
the deadline is nearer), is retried ``retries`` times, and no new request starts once
the deadline has passed. A walk of several table columns runs one GETBULK walk per
column, concurrently, each with a bounded ``max_repetitions`` and number of values.

Values come back as plain Python: integers for every numeric type, ``bytes`` for
octet strings, a tuple for an OBJECT IDENTIFIER, a dotted string for an IpAddress, and
None for noSuchObject/noSuchInstance. pysnmp errors become
:mod:`delfin_like.sdk.exceptions` here, in one place.
"""

import asyncio
import dataclasses
import math
import threading
import time
from typing import Any

from pyasn1.type import univ
from pysnmp.hlapi.v3arch import asyncio as hlapi
from pysnmp.proto import errind, rfc1902, rfc1905

from delfin_like.sdk import exceptions, models

Oid = tuple[int, ...]

MAX_VARIABLES = 5_000_000  # per walk: an agent that never ends its table is an error, not a hang

AUTH_PROTOCOLS = {
    "MD5": hlapi.usmHMACMD5AuthProtocol,
    "SHA": hlapi.usmHMACSHAAuthProtocol,
    "SHA1": hlapi.usmHMACSHAAuthProtocol,
    "SHA224": hlapi.usmHMAC128SHA224AuthProtocol,
    "SHA256": hlapi.usmHMAC192SHA256AuthProtocol,
    "SHA384": hlapi.usmHMAC256SHA384AuthProtocol,
    "SHA512": hlapi.usmHMAC384SHA512AuthProtocol,
}
PRIVACY_PROTOCOLS = {
    "DES": hlapi.usmDESPrivProtocol,
    "3DES": hlapi.usm3DESEDEPrivProtocol,
    "AES": hlapi.usmAesCfb128Protocol,
    "AES128": hlapi.usmAesCfb128Protocol,
    "AES192": hlapi.usmAesBlumenthalCfb192Protocol,
    "AES256": hlapi.usmAesBlumenthalCfb256Protocol,
    "AES192C": hlapi.usmAesCfb192Protocol,  # Cisco's (Reeder) key extension
    "AES256C": hlapi.usmAesCfb256Protocol,
}
# report PDUs that say the agent refused who we are (RFC 3414 usmStats*)
_CREDENTIAL_ERRORS = (
    errind.UnknownUserName,
    errind.WrongDigest,
    errind.DecryptionError,
    errind.UnknownSecurityName,
    errind.UnsupportedSecurityLevel,
    errind.AuthenticationFailure,
    errind.AuthenticationError,
    errind.UnknownCommunityName,
)
_ACCESS_STATUSES = ("noAccess", "authorizationError")
# PDU error-status values (RFC 3416)
_ERROR_STATUSES = (
    "noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr", "noAccess", "wrongType", "wrongLength",
    "wrongEncoding", "wrongValue", "noCreation", "inconsistentValue", "resourceUnavailable", "commitFailed",
    "undoFailed", "authorizationError", "notWritable", "inconsistentName",
)  # fmt: skip


def dotted(oid: Oid) -> str:
    return ".".join(map(str, oid))


@dataclasses.dataclass(frozen=True)
class SnmpSettings:
    """How to reach and authenticate to an agent, from the ``snmp`` access block."""

    host: str
    port: int
    version: str  # "2c" | "3"
    community: str | None = dataclasses.field(default=None, repr=False)
    username: str | None = None
    auth_key: str | None = dataclasses.field(default=None, repr=False)
    privacy_key: str | None = dataclasses.field(default=None, repr=False)
    auth_protocol: str = "SHA"
    privacy_protocol: str = "AES"
    context_name: str = ""
    timeout: float = 5.0  # seconds per request attempt
    retries: int = 1
    max_repetitions: int = 50
    call_timeout: float = 60.0  # seconds a whole driver call may take

    @classmethod
    def from_access_info(cls, access_info: models.AccessInfo) -> "SnmpSettings":
        """Validate the ``snmp`` block; InvalidAccessInfo names what is wrong (never a secret)."""
        block = access_info.snmp
        if block is None:
            raise exceptions.InvalidAccessInfo("the generic snmp driver needs an 'snmp' access block")
        extra = dict(block.extra or {})
        username = block.username or extra.get("username")
        version = str(extra.get("version") or ("3" if username else "2c")).lower().lstrip("v")
        if version not in ("2c", "3"):
            raise exceptions.InvalidAccessInfo("snmp.version must be '2c' or '3' (GETBULK needs SNMPv2c or later)")
        retries = _number(extra, "retries", 1, int, 0, 10)
        call_timeout = float(access_info.timeout)
        default_timeout = max(0.5, min(5.0, call_timeout / (2 * (retries + 1))))
        common = dict(
            host=block.host,
            port=int(block.port),
            version=version,
            context_name=str(extra.get("context_name") or ""),
            timeout=_number(extra, "timeout", default_timeout, float, 0.1, 600),
            retries=retries,
            max_repetitions=_number(extra, "max_repetitions", 50, int, 1, 100),
            call_timeout=call_timeout,
        )
        if version == "2c":
            community = extra.get("community")
            if not community:
                raise exceptions.InvalidAccessInfo("snmp.community is required for SNMPv2c")
            return cls(community=str(community), **common)
        if not username:
            raise exceptions.InvalidAccessInfo("snmp.username is required for SNMPv3")
        auth_key, privacy_key = extra.get("auth_key"), extra.get("privacy_key")
        auth_protocol = _protocol(extra, "auth_protocol", "SHA", AUTH_PROTOCOLS)
        privacy_protocol = _protocol(extra, "privacy_protocol", "AES", PRIVACY_PROTOCOLS)
        if privacy_key and not auth_key:
            raise exceptions.InvalidAccessInfo("snmp.privacy_key needs snmp.auth_key (no privacy without auth)")
        for name, key in (("auth_key", auth_key), ("privacy_key", privacy_key)):
            if key is not None and len(str(key)) < 8:
                raise exceptions.InvalidAccessInfo(f"snmp.{name} must be at least 8 characters (RFC 3414)")
        return cls(
            username=str(username),
            auth_key=auth_key and str(auth_key),
            privacy_key=privacy_key and str(privacy_key),
            auth_protocol=auth_protocol,
            privacy_protocol=privacy_protocol,
            **common,
        )

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"


def _number(extra: dict, key: str, default, kind, low, high):
    value = extra.get(key, default)
    try:
        value = kind(value)
    except (TypeError, ValueError):
        raise exceptions.InvalidAccessInfo(f"snmp.{key} must be a number")
    if not low <= value <= high:
        raise exceptions.InvalidAccessInfo(f"snmp.{key} must be between {low} and {high}")
    return value


def _protocol(extra: dict, key: str, default: str, known: dict) -> str:
    name = str(extra.get(key) or default).upper().replace("-", "").replace("_", "")
    if name not in known:
        raise exceptions.InvalidAccessInfo(f"snmp.{key} must be one of {', '.join(sorted(known))}")
    return name


def plain(value) -> Any:
    """A pysnmp value as plain Python (see the module docstring)."""
    # the decoder gives pyasn1's universal classes or pysnmp's application ones: test the bases
    if isinstance(value, univ.Null):  # also noSuchObject, noSuchInstance, endOfMibView
        return None
    if isinstance(value, rfc1902.IpAddress):
        return ".".join(str(b) for b in bytes(value))
    if isinstance(value, univ.OctetString):
        return bytes(value)
    if isinstance(value, univ.ObjectIdentifier):
        return tuple(value)
    if isinstance(value, univ.Integer):
        return int(value)
    return value


def _leaves(group: BaseExceptionGroup) -> list[BaseException]:
    out = []
    for e in group.exceptions:
        out.extend(_leaves(e) if isinstance(e, BaseExceptionGroup) else [e])
    return out


class SnmpClient:
    """Blocking GET and multi-column bulk walks against one agent (see the module docstring)."""

    def __init__(self, settings: SnmpSettings):
        self.settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._engine = None
        self._auth = None
        self._lock = threading.Lock()
        self._pending: set = set()
        self._targets: dict[float, object] = {}  # by attempt timeout (resolved once)
        self._closed = False

    # -- public, blocking -------------------------------------------------------------------

    def get(self, oids: list[Oid], deadline: float) -> dict[Oid, Any]:
        """GET ``oids`` in one request: ``{oid: value or None}``."""
        return self._run(self._get(oids, deadline), deadline)

    def walk(self, columns: list[Oid], deadline: float) -> dict[Oid, dict[Oid, Any]]:
        """Walk table columns side by side: ``{column: {index suffix: value}}`` (a missing cell is absent)."""
        return self._run(self._walk(columns, deadline), deadline)

    def close(self) -> None:
        """Cancel what is in flight, close the engine's sockets and stop the loop thread (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is None:
            return
        for future in list(self._pending):
            future.cancel()

        async def shutdown():
            if self._engine is not None:
                self._engine.close_dispatcher()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(5)
        except Exception:  # noqa: BLE001 - closing must not fail the caller
            pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        if not thread.is_alive():
            loop.close()

    # -- loop plumbing ------------------------------------------------------------------------

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise exceptions.BackendError("the SNMP client is closed")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name=f"snmp-{self.settings.endpoint}", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def _run(self, coro, deadline: float):
        try:
            loop = self._start()
        except exceptions.DriverError:
            coro.close()  # never scheduled
            raise
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        self._pending.add(future)
        # the coroutine stops itself at the deadline; this bound only guards against a stuck loop
        hard = max(0.0, deadline - time.monotonic()) + self.settings.timeout * (self.settings.retries + 1) + 5
        try:
            return future.result(hard)
        except TimeoutError:
            future.cancel()
            raise exceptions.DriverTimeout(f"SNMP agent {self.settings.endpoint} did not answer in time")
        finally:
            self._pending.discard(future)

    async def _setup(self):
        if self._engine is None:
            s = self.settings
            self._engine = hlapi.SnmpEngine()
            if s.version == "2c":
                self._auth = hlapi.CommunityData(s.community, mpModel=1)
            else:
                self._auth = hlapi.UsmUserData(
                    s.username,
                    authKey=s.auth_key,
                    privKey=s.privacy_key,
                    authProtocol=AUTH_PROTOCOLS[s.auth_protocol] if s.auth_key else None,
                    privProtocol=PRIVACY_PROTOCOLS[s.privacy_protocol] if s.privacy_key else None,
                )
        return self._engine, self._auth

    async def _target(self, deadline: float):
        s = self.settings
        remaining = deadline - time.monotonic()
        # whole tenths, so the engine caches a bounded number of target entries
        attempt = min(s.timeout, math.floor(10 * remaining / (s.retries + 1)) / 10)
        if attempt < 0.1:
            raise exceptions.DriverTimeout(self._timeout_message(s.call_timeout, "the whole call"))
        target = self._targets.get(attempt)
        if target is None:
            kind = hlapi.Udp6TransportTarget if ":" in s.host else hlapi.UdpTransportTarget
            try:
                target = await kind.create((s.host.strip("[]"), s.port), timeout=attempt, retries=s.retries)
            except Exception as e:  # noqa: BLE001 - pysnmp raises its own error for a name it cannot resolve
                raise exceptions.BackendUnreachable(f"cannot resolve SNMP agent host {s.host!r}", detail=str(e))
            self._targets[attempt] = target
        return target

    def _timeout_message(self, seconds: float, what: str) -> str:
        s = self.settings
        text = f"SNMP agent {s.endpoint} did not answer within {seconds:g} s ({what})"
        if s.version == "2c":
            # an SNMPv2c agent drops a request with a wrong community without a word
            text += "; with SNMPv2c a wrong community looks the same: the agent does not answer"
        elif s.privacy_key:
            # net-snmp drops what it cannot decrypt instead of reporting it
            text += "; with SNMPv3 a wrong privacy key can look the same: the agent drops what it cannot decrypt"
        return text

    def _check(self, error_indication, error_status, error_index, request: list[Oid]) -> None:
        s = self.settings
        if error_indication:
            if isinstance(error_indication, errind.RequestTimedOut):
                raise exceptions.DriverTimeout(
                    self._timeout_message(s.timeout * (s.retries + 1), f"{s.retries + 1} attempt(s)")
                )
            if isinstance(error_indication, _CREDENTIAL_ERRORS):
                raise exceptions.InvalidCredentials(
                    f"SNMP agent {s.endpoint} rejected the credentials ({error_indication})"
                )
            raise exceptions.BackendError(f"SNMP request to {s.endpoint} failed: {error_indication}")
        if error_status:
            code = int(error_status)
            status = _ERROR_STATUSES[code] if 0 <= code < len(_ERROR_STATUSES) else f"error-status {code}"
            where = dotted(request[int(error_index) - 1]) if 0 < int(error_index) <= len(request) else "?"
            if status in _ACCESS_STATUSES:
                raise exceptions.InvalidCredentials(f"SNMP agent {s.endpoint} denied access ({status} at {where})")
            raise exceptions.BackendError(f"SNMP agent {s.endpoint} answered {status} at {where}")

    # -- requests -----------------------------------------------------------------------------

    async def _get(self, oids: list[Oid], deadline: float) -> dict[Oid, Any]:
        engine, auth = await self._setup()
        target = await self._target(deadline)
        ei, es, ix, var_binds = await hlapi.get_cmd(
            engine,
            auth,
            target,
            hlapi.ContextData(contextName=self.settings.context_name),
            *[hlapi.ObjectType(hlapi.ObjectIdentity(dotted(o))) for o in oids],
            lookupMib=False,
        )
        self._check(ei, es, ix, oids)
        return {tuple(name): plain(value) for name, value in var_binds}

    async def _walk(self, columns: list[Oid], deadline: float) -> dict[Oid, dict[Oid, Any]]:
        # one GETBULK walk per column, side by side: the agent's work on one overlaps our decoding
        # of another, and net-snmp answers a one-column GETBULK faster than a wide one
        try:
            async with asyncio.TaskGroup() as group:
                tasks = {c: group.create_task(self._walk_column(c, deadline)) for c in columns}
        except BaseExceptionGroup as failed:  # the first failure cancelled the other walks
            errors = _leaves(failed)
            raise next((e for e in errors if isinstance(e, exceptions.InvalidCredentials)), errors[0]) from None
        return {c: task.result() for c, task in tasks.items()}

    async def _walk_column(self, column: Oid, deadline: float) -> dict[Oid, Any]:
        engine, auth = await self._setup()
        context = hlapi.ContextData(contextName=self.settings.context_name)
        cells: dict[Oid, Any] = {}
        last = column
        while len(cells) <= MAX_VARIABLES:
            if time.monotonic() >= deadline:
                raise exceptions.DriverTimeout(self._timeout_message(self.settings.call_timeout, "the whole walk"))
            target = await self._target(deadline)
            ei, es, ix, var_binds = await hlapi.bulk_cmd(
                engine,
                auth,
                target,
                context,
                0,
                self.settings.max_repetitions,
                hlapi.ObjectType(hlapi.ObjectIdentity(dotted(last))),
                lookupMib=False,
            )
            self._check(ei, es, ix, [last])
            if not var_binds:
                raise exceptions.BackendError(f"SNMP agent {self.settings.endpoint} answered GETBULK with nothing")
            for name, value in var_binds:
                oid = tuple(name)
                if isinstance(value, rfc1905.EndOfMibView) or oid[: len(column)] != column:
                    return cells
                if oid <= last:
                    raise exceptions.BackendError(
                        f"SNMP agent {self.settings.endpoint} returned {dotted(oid)} after {dotted(last)}"
                        " (OIDs must increase)"
                    )
                cells[oid[len(column) :]] = plain(value)
                last = oid
        raise exceptions.BackendError(f"SNMP walk of {self.settings.endpoint} exceeded {MAX_VARIABLES} values")
