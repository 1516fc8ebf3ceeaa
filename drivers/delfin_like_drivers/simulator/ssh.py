"""The simulator's SSH CLI front end: a real SSH server speaking the IBM Storwize/SVC CLI.

:class:`SshFrontEnd` listens on a TCP port, authenticates by password or public
key, and answers ``exec`` requests (``ssh user@host lsvdisk -delim :``) from a
snapshot of one :class:`~delfin_like_drivers.simulator.model.SimulatedArray`
(commands and formats: :mod:`delfin_like_drivers.simulator.svc_cli`). There is
no interactive shell. Each connection is served by one thread, at most
``max_connections`` at once; one more is closed at once.

The host key is an Ed25519 key generated once into ``state_dir`` and reused on
every start, so clients can pin it (:attr:`SshFrontEnd.host_key_line`).

``array.faults["ssh"]`` is read at the start of every command: ``delay`` waits
before answering, ``drop_after`` closes the channel (no exit status) after that
many rows of a listing, ``malformed`` garbles rows and attribute lines.

Beyond the real CLI, ``lsiostatscounters <type>`` prints cumulative I/O counters read from the
array at that moment (a simulator extension modeled on the iostats dumps, see
:func:`delfin_like_drivers.simulator.svc_views.lsiostatscounters`), stamped with the array's
clock anchored to the wall clock at construction.
"""

import hmac
import logging
import os
import queue
import socket
import threading
import time

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from delfin_like.sdk import models as models_sdk
from delfin_like_drivers.simulator import model, svc_cli

LOG = logging.getLogger(__name__)

HOST_KEY_FILE = "ssh_host_ed25519_key"
_CHUNK = 64 * 1024  # bytes written to the channel at once
_EXEC_WAIT = 10.0  # seconds a client may take between opening a channel and sending its command
_CLOSE_GRACE = 0.5  # seconds to wait for the client to close a finished channel first


def default_state_dir() -> str:
    """Where the host key lives unless told otherwise: ``$XDG_STATE_HOME/delfin-like-simulator``."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "delfin-like-simulator")


def load_or_create_host_key(state_dir: str) -> paramiko.Ed25519Key:
    """The Ed25519 host key in ``state_dir``, created (mode 0600) on first use."""
    os.makedirs(state_dir, exist_ok=True)
    path = os.path.join(state_dir, HOST_KEY_FILE)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
    return paramiko.Ed25519Key(filename=path)


def public_key_line(key: paramiko.PKey) -> str:
    """The OpenSSH public key line (``ssh-ed25519 AAAA...``) of ``key``."""
    return f"{key.get_name()} {key.get_base64()}"


def _parse_authorized(lines: list[str] | None) -> set[tuple[str, str]]:
    keys = set()
    for line in lines or []:
        parts = line.split()
        if len(parts) >= 2:
            keys.add((parts[0], parts[1]))
    return keys


class _Server(paramiko.ServerInterface):
    """Authentication and channel policy of one connection; exec requests go to ``commands``."""

    def __init__(self, front: "SshFrontEnd"):
        self.front = front
        self.commands: queue.Queue = queue.Queue()

    def get_allowed_auths(self, username):
        return "password,publickey"

    def check_auth_password(self, username, password):
        ok = (
            hmac.compare_digest(username.encode(), self.front.username.encode())
            and self.front.password is not None
            and hmac.compare_digest(password.encode(), self.front.password.encode())
        )
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_auth_publickey(self, username, key):
        ok = (
            hmac.compare_digest(username.encode(), self.front.username.encode())
            and (key.get_name(), key.get_base64()) in self.front.authorized_keys
        )
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel, command):
        self.commands.put((channel, command.decode("utf-8", "replace")))
        return True

    def check_channel_shell_request(self, channel):
        return False  # the CLI answers exec requests only

    def check_channel_pty_request(self, *args):
        return False


class SshFrontEnd:
    """An SSH server answering SVC CLI commands about ``array`` (see the module docstring).

    :param array: the simulated array to show.
    :param host: address to bind (loopback by default).
    :param port: TCP port; 0 picks a free one (read :attr:`port` after :meth:`start`).
    :param username: the one login name.
    :param password: its password (None: public-key logins only).
    :param authorized_keys: OpenSSH public key lines allowed to log in as ``username``.
    :param state_dir: directory of the host key (default :func:`default_state_dir`).
    :param max_connections: connections served at once.
    :param idle_timeout: seconds a connection may stay without a command before it is closed.
    :param disabled_commands: commands refused as unsupported (as on older code levels or other models).
    """

    def __init__(
        self,
        array: model.SimulatedArray,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str = "superuser",
        password: str | None = "passw0rd",
        authorized_keys: list[str] | None = None,
        state_dir: str | None = None,
        max_connections: int = 16,
        idle_timeout: float = 300.0,
        disabled_commands: tuple[str, ...] = (),
    ):
        self.array = array
        self.host = host
        self.requested_port = port
        self.username = username
        self.password = password
        self.authorized_keys = _parse_authorized(authorized_keys)
        self.state_dir = state_dir or default_state_dir()
        self.host_key = load_or_create_host_key(self.state_dir)
        self._slots = threading.BoundedSemaphore(max_connections)
        self.idle_timeout = idle_timeout
        self.disabled_commands = frozenset(disabled_commands)
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._transports: set[paramiko.Transport] = set()
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._snapshot: model.Snapshot | None = None
        # counter timestamps follow the array's clock, anchored to the wall clock now
        self._epoch = time.time() - array.clock
        self.port = 0

    @property
    def host_key_line(self) -> str:
        """The server's public host key as one OpenSSH line, for ``ssh.host_key`` or a known_hosts file."""
        return public_key_line(self.host_key)

    def registration_body(self, username: str | None = None, password: str | None = None, **ssh) -> dict:
        """A ``POST /v1/storages`` body for ``ibm svc_ssh`` reaching this front end (host key pinned).

        ``password`` defaults to the front end's; ``ssh`` adds or overrides keys of the ssh block.
        """
        block = {"host": self.host, "port": self.port, "username": username or self.username,
                 "host_key": self.host_key_line}  # fmt: skip
        if password or self.password:
            block["password"] = password or self.password
        block.update(ssh)
        return {"vendor": "ibm", "model": "svc_ssh", "ssh": {k: v for k, v in block.items() if v is not None}}

    def access_info(self, timeout: float = 60.0) -> models_sdk.AccessInfo:
        """The driver-side :class:`~delfin_like.sdk.models.AccessInfo` of ``ibm svc_ssh`` for this
        front end (password login, host key pinned), for benchmarks and direct driver use."""
        ssh = self.registration_body()["ssh"]
        endpoint = models_sdk.AccessEndpoint(
            host=ssh["host"],
            port=ssh["port"],
            username=ssh["username"],
            password=ssh.get("password"),
            extra={"host_key": ssh["host_key"]},
        )
        return models_sdk.AccessInfo(vendor="ibm", model="svc_ssh", ssh=endpoint, timeout=timeout)

    @property
    def host_key_fingerprint(self) -> str:
        """``SHA256:...`` of the host key, as ``ssh`` prints it."""
        return self.host_key.fingerprint

    def start(self) -> "SshFrontEnd":
        """Bind and start accepting connections; returns self.

        The host key is (re)read from :attr:`state_dir`, so a restart with another
        ``state_dir`` shows another key (an array replaced behind the same address).
        """
        self.host_key = load_or_create_host_key(self.state_dir)
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.requested_port))
        sock.listen(64)
        sock.settimeout(0.2)  # the accept loop checks for stop() this often
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._stop.clear()
        self._accept_thread = threading.Thread(target=self._accept_loop, name=f"ssh-accept-{self.port}", daemon=True)
        self._accept_thread.start()
        LOG.info(
            "SSH CLI of %s listening on %s:%d (host key %s)",
            self.array.name,
            self.host,
            self.port,
            self.host_key_fingerprint,
        )
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, close every connection and wait (bounded) for their threads."""
        self._stop.set()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout)
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        with self._lock:
            transports, threads = list(self._transports), list(self._threads)
        for t in transports:
            t.close()
        for th in threads:
            th.join(timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- connections --------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, addr = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            if not self._slots.acquire(blocking=False):
                LOG.warning("SSH CLI: too many connections, refusing %s", addr[0])
                conn.close()
                continue
            th = threading.Thread(target=self._serve, args=(conn,), name=f"ssh-conn-{addr[1]}", daemon=True)
            with self._lock:
                self._threads.add(th)
            th.start()

    def _serve(self, conn: socket.socket) -> None:
        transport = None
        try:
            conn.settimeout(None)
            # many small SSH messages per command: Nagle + delayed ACKs would add ~40 ms to each
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            transport = paramiko.Transport(conn)
            transport.add_server_key(self.host_key)
            with self._lock:
                self._transports.add(transport)
            server = _Server(self)
            transport.start_server(server=server)
            idle_since = time.monotonic()
            while not self._stop.is_set() and transport.is_active():
                # keep the accepted channel referenced: paramiko closes a channel when it is collected
                opened = transport.accept(timeout=0.2)
                if opened is None:
                    if time.monotonic() - idle_since > self.idle_timeout:
                        break  # an idle client must not hold a connection slot forever
                    continue
                try:
                    channel, command = server.commands.get(timeout=_EXEC_WAIT)
                except queue.Empty:
                    opened.close()  # opened but never used
                    continue
                self._run(channel, command)
                idle_since = time.monotonic()
        except (paramiko.SSHException, OSError, EOFError) as e:
            LOG.debug("SSH CLI connection ended: %s", e)
        finally:
            if transport is not None:
                transport.close()
                with self._lock:
                    self._transports.discard(transport)
            conn.close()
            with self._lock:
                self._threads.discard(threading.current_thread())
            self._slots.release()

    # -- commands -----------------------------------------------------------------------------

    def _current_snapshot(self) -> model.Snapshot:
        # inventory changes bump the array's generation: reuse the copy until then (10k volumes cost ms to copy)
        generation = getattr(self.array, "generation", None)
        snap = self._snapshot
        if snap is None or generation is None or getattr(snap, "generation", None) != generation:
            snap = self.array.snapshot()
            self._snapshot = snap
        return snap

    def _read_counters(self, ids) -> tuple[float, dict]:
        """The counters of ``ids`` now and the instant (seconds since the epoch) the array's clock shows."""
        clock, counters = self.array.counters_many(ids)
        return self._epoch + clock, counters

    def _run(self, channel: paramiko.Channel, command: str) -> None:
        """Answer one exec request on ``channel`` and close it."""
        faults = self.array.faults.get("ssh") or model.Faults()
        delay, drop_after, malformed = faults.delay, faults.drop_after, faults.malformed
        channel.settimeout(30.0)  # a client that stops reading must not hold the thread forever
        try:
            if delay and self._stop.wait(delay):
                return
            try:
                view, opts = svc_cli.execute(
                    self._current_snapshot(), command, self.disabled_commands, self._read_counters,
                    getattr(self.array, "fix_event", None), getattr(self.array, "raise_event", None),
                )
            except svc_cli.CliError as e:
                channel.sendall_stderr(f"{e}\n".encode())
                channel.send_exit_status(1)
                return
            if isinstance(view, svc_cli.Table) and opts.delim is not None:
                if not self._send_table(channel, view, opts, drop_after, malformed):
                    return  # dropped mid-listing: no exit status, as when an array's CLI session dies
            else:
                lines = svc_cli.render(view, opts)
                self._send_lines(channel, [svc_cli.mangle(x, opts) if x and malformed else x for x in lines])
            channel.send_exit_status(0)
        except (OSError, paramiko.SSHException) as e:
            LOG.debug("SSH CLI: %r not answered completely: %s", command, e)
        finally:
            self._close(channel)

    def _close(self, channel: paramiko.Channel) -> None:
        """Send EOF, let the client close first (bounded), then close.

        paramiko sends the reply to the exec request after ``check_channel_exec_request``
        returns, racing this thread: a CLOSE that overtook it would make the client report
        "channel closed" instead of the output. A client closes only once it has that reply.
        """
        try:
            channel.shutdown_write()
        except (OSError, EOFError, paramiko.SSHException):
            pass
        if not self._stop.is_set():
            channel.status_event.wait(_CLOSE_GRACE)
        channel.close()

    def _send_table(self, channel, view: svc_cli.Table, opts: svc_cli.Options, drop_after, malformed) -> bool:
        """Stream a delimited table in chunks; False if it was cut after ``drop_after`` rows."""
        header = svc_cli.render_header(view, opts)
        batch: list[str] = [] if header is None else [header]
        size = len(header or "")
        for count, row in enumerate(view.rows):
            if drop_after is not None and count >= drop_after:
                self._send_lines(channel, batch)
                return False
            line = svc_cli.render_row(row, opts)
            batch.append(svc_cli.mangle(line, opts) if malformed else line)
            size += len(line) + 1
            if size >= _CHUNK:
                self._send_lines(channel, batch)
                batch, size = [], 0
        self._send_lines(channel, batch)
        return True

    @staticmethod
    def _send_lines(channel, lines: list[str]) -> None:
        if lines:
            channel.sendall(("\n".join(lines) + "\n").encode())
