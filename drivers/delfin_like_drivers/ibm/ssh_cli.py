"""One SSH connection to an array's CLI, with pinned host keys and deadlines (paramiko).

The server's host key must be known before connecting: the ``host_key`` of
the ssh access block (one or more OpenSSH public key lines, ``ssh-ed25519
AAAA...``; known_hosts-style lines with host patterns are accepted too) and/or
a ``known_hosts`` file path. A key that is missing or different is refused,
never added. Logins use the ``private_key`` (PEM or OpenSSH text; an encrypted
one takes ``password`` as its passphrase) and/or the ``password``.

Every failure is a :mod:`delfin_like.sdk.exceptions` error whose message says
what went wrong and where, never a secret: InvalidAccessInfo (host key,
unusable key material), InvalidCredentials (login refused),
BackendUnreachable / DriverTimeout (network, closed session, deadline),
BackendError (a command failed: its ``CMMVC...E`` message).
"""

import base64
import binascii
import errno
import io
import socket
import threading
import time
from collections.abc import Iterator

import paramiko
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from paramiko.pkey import UnknownKeyType

from delfin_like.sdk import exceptions, models

_READ = 64 * 1024


class CommandFailed(exceptions.BackendError):
    """A CLI command ended with a non-zero exit status; ``code`` is its ``CMMVC...E`` id, if any."""

    def __init__(self, message: str, code: str | None = None, detail: str | None = None):
        super().__init__(message, detail)
        self.code = code


class _UnknownHostKey(paramiko.SSHException):
    def __init__(self, key: paramiko.PKey):
        super().__init__("host key not recorded")
        self.key = key


class _RefuseUnknown(paramiko.MissingHostKeyPolicy):
    """Never trust a host key that was not recorded (what AutoAddPolicy would do silently)."""

    def missing_host_key(self, client, hostname, key):
        raise _UnknownHostKey(key)


def host_key_name(host: str, port: int) -> str:
    """How known_hosts names an endpoint: ``host`` on port 22, else ``[host]:port``."""
    return host if port == 22 else f"[{host}]:{port}"


def _is_key_type(word: str) -> bool:
    return word.startswith(("ssh-", "ecdsa-", "sk-", "rsa-"))


def parse_public_key(line: str) -> paramiko.PKey:
    """A public key from an OpenSSH line (``type base64 [comment]``, optionally after host patterns).

    :raises InvalidAccessInfo: not such a line.
    """
    parts = line.split()
    while parts and not _is_key_type(parts[0]):
        parts = parts[1:]  # host patterns or a @marker of a known_hosts line
    try:
        return paramiko.PKey.from_type_string(parts[0], base64.b64decode(parts[1], validate=True))
    except (IndexError, ValueError, binascii.Error, paramiko.SSHException, UnknownKeyType, TypeError):
        raise exceptions.InvalidAccessInfo("ssh.host_key is not an OpenSSH public key line") from None


def _load_crypto_key(data: bytes, password: bytes | None):
    try:
        return serialization.load_ssh_private_key(data, password=password)
    except ValueError:
        return serialization.load_pem_private_key(data, password=password)


def load_private_key(text: str, passphrase: str | None) -> paramiko.PKey:
    """A paramiko private key from PEM, PKCS#8 or OpenSSH ``text`` (Ed25519, ECDSA or RSA).

    ``passphrase`` decrypts an encrypted key and is ignored for a clear one.

    :raises InvalidAccessInfo: unreadable, encrypted without the right passphrase, or of another type.
    """
    data = text.encode()
    try:
        try:
            loaded = _load_crypto_key(data, passphrase.encode() if passphrase else None)
        except TypeError:
            if not passphrase:
                raise exceptions.InvalidAccessInfo(
                    "ssh.private_key is encrypted: give its passphrase as ssh.password"
                ) from None
            loaded = _load_crypto_key(data, None)  # a clear key: the password is for password logins
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise exceptions.InvalidAccessInfo(
            "ssh.private_key is not a readable private key (or ssh.password does not decrypt it)"
        ) from None
    if isinstance(loaded, rsa.RSAPrivateKey):
        return paramiko.RSAKey(key=loaded)
    if isinstance(loaded, ec.EllipticCurvePrivateKey):
        return paramiko.ECDSAKey(vals=(loaded, loaded.public_key()))
    if isinstance(loaded, ed25519.Ed25519PrivateKey):
        clear = loaded.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
        return paramiko.Ed25519Key(file_obj=io.StringIO(clear.decode()))
    raise exceptions.InvalidAccessInfo("ssh.private_key must be an Ed25519, ECDSA or RSA key")


def expected_host_keys(endpoint: models.AccessEndpoint) -> dict[str, paramiko.PKey]:
    """The host keys recorded for ``endpoint`` (``host_key`` lines and ``known_hosts`` file), by key type.

    :raises InvalidAccessInfo: none recorded, an unreadable line or file, or a file without this host.
    """
    extra = endpoint.extra or {}
    keys: dict[str, paramiko.PKey] = {}
    recorded = extra.get("host_key")
    if recorded:
        lines = recorded if isinstance(recorded, list) else str(recorded).splitlines()
        for line in lines:
            if str(line).strip():
                key = parse_public_key(str(line))
                keys.setdefault(key.get_name(), key)
    path = extra.get("known_hosts")
    if path:
        try:
            known = paramiko.HostKeys(str(path))
        except (OSError, paramiko.SSHException, ValueError):
            raise exceptions.InvalidAccessInfo(f"ssh.known_hosts file {path} cannot be read") from None
        entries = known.lookup(host_key_name(endpoint.host, int(endpoint.port)))
        if not entries:
            raise exceptions.InvalidAccessInfo(
                f"ssh.known_hosts file {path} has no key for {host_key_name(endpoint.host, int(endpoint.port))}"
            )
        for key_type in entries.keys():
            keys.setdefault(key_type, entries[key_type])
    if not keys:
        raise exceptions.InvalidAccessInfo(
            "the ssh block needs the array's host key: host_key (an OpenSSH public key line) or known_hosts (a path)"
        )
    return keys


class SshCli:
    """Runs CLI commands over one lazily opened, reused SSH connection.

    :param endpoint: the ssh access block (host, port, username, password, extra).
    :param timeout: seconds for connecting and, by default, for each command.
    """

    def __init__(self, endpoint: models.AccessEndpoint, timeout: float):
        if not endpoint.username:
            raise exceptions.InvalidAccessInfo("ssh.username is required")
        self.host, self.port, self.username = endpoint.host, int(endpoint.port), endpoint.username
        self.where = f"{self.host}:{self.port}"
        self.timeout = float(timeout)
        self._password = endpoint.password
        private_key = (endpoint.extra or {}).get("private_key")
        self._pkey = load_private_key(str(private_key), endpoint.password) if private_key else None
        if self._pkey is None and not self._password:
            raise exceptions.InvalidAccessInfo("the ssh block needs a password or a private_key")
        self._host_keys = expected_host_keys(endpoint)
        self._client: paramiko.SSHClient | None = None
        self._lock = threading.Lock()

    # -- connection ---------------------------------------------------------------------------

    def _connect(self, timeout: float) -> paramiko.Transport:
        with self._lock:
            transport = self._client.get_transport() if self._client else None
            if transport is not None and transport.is_active():
                return transport
            self._close_locked()
            client = paramiko.SSHClient()
            client.set_missing_host_key_policy(_RefuseUnknown())
            name = host_key_name(self.host, self.port)
            for key_type, key in self._host_keys.items():
                client.get_host_keys().add(name, key_type, key)
            sock, started = None, time.monotonic()
            try:
                sock = socket.create_connection((self.host, self.port), timeout=timeout)
                # a command is many small SSH messages: Nagle + delayed ACKs would add ~40 ms to each
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                client.connect(
                    self.host,
                    self.port,
                    sock=sock,
                    username=self.username,
                    password=self._password,
                    pkey=self._pkey,
                    timeout=timeout,
                    banner_timeout=timeout,
                    auth_timeout=timeout,
                    channel_timeout=timeout,
                    allow_agent=False,
                    look_for_keys=False,
                )
            except Exception as e:
                client.close()
                if sock is not None:
                    sock.close()
                raise self._connect_error(e, timeout, time.monotonic() - started) from None
            self._client = client
            return client.get_transport()

    def _connect_error(self, e: Exception, timeout: float, elapsed: float) -> exceptions.DriverError:
        detail = f"{type(e).__name__}: {e}"
        late = elapsed >= timeout * 0.95  # paramiko reports a silent peer as a failed session, not a timeout
        if isinstance(e, paramiko.BadHostKeyException):
            return exceptions.InvalidAccessInfo(
                f"the SSH host key of {self.where} does not match the recorded one: it offered "
                f"{e.key.get_name()} {e.key.fingerprint}, {e.expected_key.fingerprint} was recorded; "
                "if the array's key really changed, record the new one in ssh.host_key",
                detail,
            )
        if isinstance(e, _UnknownHostKey):
            return exceptions.InvalidAccessInfo(
                f"the SSH host key of {self.where} is not the recorded one: it offered {e.key.get_name()} "
                f"{e.key.fingerprint}, recorded are {', '.join(sorted(self._host_keys))}",
                detail,
            )
        if isinstance(e, paramiko.AuthenticationException):
            if "timeout" in str(e).lower():
                return exceptions.DriverTimeout(f"SSH login at {self.where} took over {self.timeout:g} s", detail)
            return exceptions.InvalidCredentials(
                f"the SSH server at {self.where} refused the login of user {self.username!r}", detail
            )
        if isinstance(e, TimeoutError) or (late and isinstance(e, paramiko.SSHException | EOFError)):
            return exceptions.DriverTimeout(f"no SSH answer from {self.where} within {self.timeout:g} s", detail)
        if isinstance(e, paramiko.SSHException | EOFError):
            return exceptions.BackendUnreachable(f"the SSH session with {self.where} failed to start", detail)
        if isinstance(e, OSError):
            errnos = {getattr(x, "errno", None) for x in getattr(e, "errors", {}).values()} | {e.errno}
            reason = "connection refused" if errno.ECONNREFUSED in errnos else (e.strerror or "network error")
            return exceptions.BackendUnreachable(f"cannot connect to {self.where}: {reason}", detail)
        return exceptions.BackendUnreachable(f"cannot open an SSH session with {self.where}", detail)

    def _close_locked(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def close(self) -> None:
        """Close the connection (a later command opens a new one)."""
        with self._lock:
            self._close_locked()

    # -- commands -----------------------------------------------------------------------------

    def deadline(self) -> float:
        """A deadline ``timeout`` seconds from now (``time.monotonic`` clock)."""
        return time.monotonic() + self.timeout

    def _remaining(self, deadline: float, name: str) -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise exceptions.DriverTimeout(f"{name} on {self.where} did not finish within {self.timeout:g} s")
        return left

    def lines(self, command: str, deadline: float | None = None) -> Iterator[str]:
        """Run ``command`` and yield its stdout lines as they arrive (without line ends).

        :param deadline: ``time.monotonic()`` by which the command must be done (default: timeout from now).
        :raises CommandFailed: non-zero exit status (after every line was yielded).
        :raises BackendUnreachable: the session closed before the command finished.
        :raises DriverTimeout: the deadline passed.
        """
        deadline = self.deadline() if deadline is None else deadline
        name = command.split(" ", 1)[0]
        transport = self._connect(self._remaining(deadline, name))
        try:
            channel = transport.open_session(timeout=self._remaining(deadline, name))
            channel.exec_command(command)
        except (paramiko.SSHException, OSError, EOFError) as e:
            self.close()
            raise exceptions.BackendUnreachable(
                f"the SSH session with {self.where} was lost", f"{type(e).__name__}: {e}"
            ) from None
        try:
            yield from self._read(channel, name, deadline)
        finally:
            channel.close()

    def _read(self, channel: paramiko.Channel, name: str, deadline: float) -> Iterator[str]:
        pending = b""
        count = 0
        while True:
            channel.settimeout(self._remaining(deadline, name))
            try:
                data = channel.recv(_READ)
            except TimeoutError:
                raise exceptions.DriverTimeout(
                    f"{name} on {self.where} did not finish within {self.timeout:g} s"
                ) from None
            except (OSError, EOFError, paramiko.SSHException) as e:
                raise exceptions.BackendUnreachable(
                    f"the SSH session with {self.where} was lost during {name}", f"{type(e).__name__}: {e}"
                ) from None
            if not data:
                break
            pending += data
            *complete, pending = pending.split(b"\n")
            for raw in complete:
                count += 1
                yield self._decode(raw, name, count)
        if pending:
            count += 1
            yield self._decode(pending, name, count)
        if not channel.status_event.wait(self._remaining(deadline, name)):
            raise exceptions.DriverTimeout(f"{name} on {self.where} did not finish within {self.timeout:g} s")
        status = channel.exit_status
        if status == -1:
            raise exceptions.BackendUnreachable(
                f"the connection to {self.where} closed before {name} finished ({count} lines read)"
            )
        if status != 0:
            raise self._failure(channel, name, status)

    @staticmethod
    def _decode(raw: bytes, name: str, number: int) -> str:
        try:
            return raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            raise exceptions.BackendError(f"malformed output of {name}: line {number} is not UTF-8") from None

    def _failure(self, channel: paramiko.Channel, name: str, status: int) -> CommandFailed:
        err = b""
        while len(err) < 4096:
            chunk = channel.recv_stderr(4096) if channel.recv_stderr_ready() else b""
            if not chunk:
                break
            err += chunk
        message = err.decode("utf-8", "replace").strip().splitlines()
        first = message[0][:200] if message else f"exit status {status}"
        code = first.split(" ", 1)[0] if first.startswith("CMMVC") else None
        return CommandFailed(f"{name} failed on {self.where}: {first}", code=code, detail=f"exit status {status}")
