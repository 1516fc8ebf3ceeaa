"""SNMP front end of a simulated array, served by a real agent: Debian's ``snmpd`` (net-snmp).

How the agent follows the model
    ``snmpd`` runs as a child process with a configuration written here (v2c
    ``rocommunity`` restricted to the loopback source, and/or a v3 ``createUser`` +
    ``rouser ... priv`` for authPriv), bound to ``udp:127.0.0.1:<port>``, with only its
    protocol modules loaded (``-I``): it answers nothing about the machine it runs on.
    The MIB subtrees the array is served under (see :mod:`.snmp_mib`) are delegated with
    ``pass_persist`` to a tiny relay (written to the state directory, stdlib only), one
    per subtree, which forwards net-snmp's line protocol over a Unix socket to this
    object. Each ``get``/``getnext`` is answered here, in the process that owns the
    :class:`~.model.SimulatedArray`, from a MIB view rebuilt whenever the array's
    ``generation`` moves (churn, status changes) or :meth:`SnmpFrontEnd.refresh` is
    called, with counters and ``sysUpTime`` read live from the model's clock. So the
    values change the moment the model changes, with no file to regenerate, and the
    faults in ``array.faults["snmp"]`` take effect on the next request. net-snmp hands
    pass_persist one variable at a time, so the agent side costs one round trip per
    variable: net-snmp's own ``snmpbulkwalk`` read 3,000 to 19,000 variables/s from it
    on a busy 2-core machine. A pysnmp client decodes fewer than that, and a client in
    the same process as this front end also competes with it for the GIL.

Faults (``array.faults["snmp"]``, read at every request)
    ``delay``: the agent waits this long before answering a request that arrives after
    a pause (in practice the first variable of each PDU, so a GETBULK is delayed once).
    ``drop_after``: after that many variables answered (counted from when the value was
    set) the agent goes silent, as one that died mid-walk, until the fault is cleared.
    ``malformed``: hrStorageAllocationUnits is served as a string (``malformed_kind=
    "wrong_type"``, the default) or volumes lose their hrStorageUsed cell
    (``"missing_column"``).

Notifications
    :meth:`SnmpFrontEnd.send_trap` sends an SNMPv2c trap with net-snmp's own ``snmptrap``
    (Debian package ``snmp``) to a receiver: ``coldStart``, ``linkDown``/``linkUp`` of a port
    (ifIndex, ifAdminStatus, ifOperStatus and ifDescr as the agent serves them, sysUpTime from
    the array's clock) or any enterprise notification with its varbinds.

Process hygiene: snmpd is started in its own process group (the relays are its
children), stopped with SIGTERM then SIGKILL on :meth:`stop`, on ``with`` exit and at
interpreter exit; if this process dies without that, the kernel's parent-death signal
(set with util-linux ``setpriv --pdeathsig``) stops snmpd and the relays see their
socket close and exit. No agent outlives the front end.
"""

import atexit
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from delfin_like_drivers.simulator import snmp_mib
from delfin_like_drivers.simulator.model import SimulatedArray

LOG = logging.getLogger(__name__)

SNMPD_PACKAGE = "snmpd"  # the Debian package that provides /usr/sbin/snmpd
SNMPTRAP_PACKAGE = "snmp"  # the Debian package that provides /usr/bin/snmptrap
TRAP_OIDS = {"coldStart": "1.3.6.1.6.3.1.1.5.1", "linkDown": "1.3.6.1.6.3.1.1.5.3", "linkUp": "1.3.6.1.6.3.1.1.5.4"}
_MODULES = "usmConf,vacm_conf,snmpEngine,usmUser,usmStats,snmpMPDStats,vacm_vars,vacm_context,pass_persist"
_START_TIMEOUT = 10.0
_PAUSE = 0.003  # seconds of quiet after which a request counts as a new PDU (for ``delay``)
_RELAY = '''\
"""pass_persist relay of the delfin-like SNMP simulator: snmpd <-> the front end's Unix socket."""
import os, select, socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(sys.argv[1])
sock.sendall(("subtree " + sys.argv[2] + "\\n").encode())
while True:
    ready = select.select([0, sock], [], [])[0]
    if 0 in ready:
        data = os.read(0, 65536)
        if not data:
            break
        sock.sendall(data)
    if sock in ready:
        data = sock.recv(65536)
        if not data:
            break
        while data:
            data = data[os.write(1, data):]
'''

_live: set["SnmpFrontEnd"] = set()


@atexit.register
def _stop_all() -> None:
    for front in list(_live):
        front.stop()


class SnmpdNotFound(RuntimeError):
    """snmpd (Debian package ``snmpd``) is not installed."""


def find_snmpd() -> str | None:
    """Path of the snmpd binary, or None."""
    return shutil.which("snmpd") or next(
        (p for p in ("/usr/sbin/snmpd", "/usr/local/sbin/snmpd") if os.access(p, os.X_OK)), None
    )


def _check_word(what: str, value: str, minimum: int = 1) -> str:
    if len(value) < minimum or any(c.isspace() or c in "\"'#\\" for c in value):
        raise ValueError(f"{what} must be at least {minimum} characters without spaces, quotes, '#' or '\\'")
    return value


class SnmpFrontEnd:
    """Serves one :class:`SimulatedArray` over SNMP through snmpd on ``host:port`` (0: a free port).

    :param community: the v2c read-only community, or None for no v2c access.
    :param v3_user: with ``v3_auth_key`` and ``v3_priv_key`` (8+ characters each), an SNMPv3
        authPriv user (``v3_auth_protocol`` SHA by default, ``v3_priv_protocol`` AES).
    :param state_dir: where the configuration, relay, log and agent state go (a private
        temporary directory, removed at stop, when None).
    :param malformed_kind: what ``faults["snmp"].malformed`` breaks (``wrong_type`` or ``missing_column``).
    :param counters64: serve the Counter64 columns (diskIONReadX/diskIONWrittenX, ifHC*); False
        plays an agent that has only the Counter32 ones (switchable at run time: :attr:`counters64`).
    """

    def __init__(
        self,
        array: SimulatedArray,
        host: str = "127.0.0.1",
        port: int = 0,
        community: str | None = "public",
        state_dir: str | None = None,
        v3_user: str | None = None,
        v3_auth_key: str | None = None,
        v3_priv_key: str | None = None,
        v3_auth_protocol: str = "SHA",
        v3_priv_protocol: str = "AES",
        malformed_kind: str = snmp_mib.WRONG_TYPE,
        snmpd: str | None = None,
        counters64: bool = True,
    ):
        if community is None and v3_user is None:
            raise ValueError("give a community, a v3 user, or both")
        self.array = array
        self.host = host
        self.requested_port = port
        self.community = _check_word("community", community) if community is not None else None
        self.v3_user = _check_word("v3_user", v3_user) if v3_user is not None else None
        if v3_user is not None:
            _check_word("v3_auth_key", v3_auth_key or "", 8)
            _check_word("v3_priv_key", v3_priv_key or "", 8)
        self.v3_auth_key = v3_auth_key
        self.v3_priv_key = v3_priv_key
        self.v3_auth_protocol = _check_word("v3_auth_protocol", v3_auth_protocol)
        self.v3_priv_protocol = _check_word("v3_priv_protocol", v3_priv_protocol)
        if malformed_kind not in (snmp_mib.WRONG_TYPE, snmp_mib.MISSING_COLUMN):
            raise ValueError(f"unknown malformed_kind {malformed_kind!r}")
        self.malformed_kind = malformed_kind
        self.snmpd = snmpd
        self._own_state_dir = state_dir is None
        self.state_dir = state_dir
        self._proc: subprocess.Popen | None = None
        self._port: int | None = None
        self._listener: socket.socket | None = None
        self._socket_dir: str | None = None  # a private short directory for the relay, when state_dir will not do
        self._relay_dir: str | None = None
        self._threads: list[threading.Thread] = []
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        self._stopping = threading.Event()
        self._view_lock = threading.Lock()
        self._view: snmp_mib.MibView | None = None
        self._view_key: tuple | None = None
        self._refreshes = 0
        self._builder = snmp_mib.Builder()
        self._ctx = snmp_mib.ViewContext(array)
        self._ctx.counters64 = bool(counters64)
        self._last_answer = 0.0
        self._drop_setting: int | None = None
        self._answered = 0
        self.requests = 0  # variables answered since start (for tests and benchmarks)

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The UDP port the agent listens on (after ``start()``)."""
        return self._port if self._port is not None else self.requested_port

    @property
    def counters64(self) -> bool:
        """Whether the Counter64 columns are served (takes effect at the next request)."""
        return self._ctx.counters64

    @counters64.setter
    def counters64(self, value: bool) -> None:
        self._ctx.counters64 = bool(value)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> "SnmpFrontEnd":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "SnmpFrontEnd":
        """Start the agent and the relay endpoint; returns self once snmpd has bound its port.

        :raises SnmpdNotFound: snmpd is not installed.
        :raises RuntimeError: snmpd did not come up (the message carries its log).
        """
        if self._proc is not None:
            return self
        binary = self.snmpd or find_snmpd()
        if binary is None:
            raise SnmpdNotFound(f"snmpd not found: install it with 'apt-get install -y {SNMPD_PACKAGE}'")
        if self.state_dir is None:
            self.state_dir = tempfile.mkdtemp(prefix="delfin-like-sim-snmp-")
        os.makedirs(self.state_dir, exist_ok=True)
        self._stopping.clear()
        self._listen()
        try:
            # a free port picked here may be taken before snmpd binds it: pick again
            for _ in range(1 if self.requested_port else 3):
                port = self.requested_port or _free_udp_port(self.host)
                if self._spawn(binary, port):
                    self._port = port
                    break
            else:
                raise RuntimeError(f"snmpd did not start on {self.host}:{port}: {self._log_tail()}")
        except BaseException:
            self.stop()
            raise
        _live.add(self)
        LOG.info("SNMP front end of %s on udp %s:%d (pid %d)", self.array.name, self.host, self._port, self._proc.pid)
        return self

    def stop(self) -> None:
        """Stop the agent (and its relays) and the relay endpoint (idempotent)."""
        self._stopping.set()
        proc, self._proc = self._proc, None
        if proc is not None:
            self.requested_port = self._port or self.requested_port  # a restart binds the same port
            _kill_group(proc)
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._conns_lock:
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        for thread in self._threads:
            thread.join(5)
        self._threads = []
        _live.discard(self)
        if self._socket_dir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None
        if self._own_state_dir and self.state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)
            self.state_dir = None

    def send_trap(
        self, target_port: int, kind: str, port_id: str | None = None, varbinds=(), target_host: str = "127.0.0.1",
        timeout: float = 10.0,
    ) -> None:
        """Send one SNMPv2c trap (with the front end's community) to ``target_host:target_port``.

        :param kind: ``coldStart``, ``linkDown`` or ``linkUp`` (these two about ``port_id``, a model
            port id, which is the agent's ifDescr), or a dotted enterprise notification OID.
        :param varbinds: more ``(oid, type letter as snmptrap takes it, value)`` triples.
        :raises SnmpdNotFound: snmptrap is not installed. :raises RuntimeError: it failed.
        """
        if self.community is None:
            raise ValueError("traps are sent with the v2c community: this front end has none")
        trap_oid = TRAP_OIDS.get(kind, kind)
        if not all(part.isdigit() for part in trap_oid.split(".")):
            raise ValueError(f"unknown trap kind {kind!r}")
        binds: list[tuple[str, str, str]] = []
        if kind in ("linkDown", "linkUp"):
            if port_id is None:
                raise ValueError(f"{kind} needs a port_id")
            if port_id not in {p.id for p in self.array.snapshot().ports}:
                raise ValueError(f"the array has no port {port_id!r}")
            self._current_view()  # indexes are given out in the view's order: build it first
            index = self._builder.if_index(port_id)
            binds += [("1.3.6.1.2.1.2.2.1.1", "i", str(index)), ("1.3.6.1.2.1.2.2.1.7", "i", "1"),
                      ("1.3.6.1.2.1.2.2.1.8", "i", "2" if kind == "linkDown" else "1"),
                      ("1.3.6.1.2.1.2.2.1.2", "s", port_id)]  # fmt: skip
            binds = [(f"{oid}.{index}", t, v) for oid, t, v in binds]
        binds += [tuple(str(x) for x in b) for b in varbinds]
        snmptrap(target_host, target_port, self.community, int(self.array.clock * 100), trap_oid, binds,
                 state_dir=self.state_dir, timeout=timeout)

    def refresh(self) -> None:
        """Rebuild the MIB view at the next request (after changing the array's attributes directly)."""
        with self._view_lock:
            self._refreshes += 1

    # -- agent process ------------------------------------------------------------------------

    def _listen(self) -> None:
        self._relay_dir = self.state_dir
        # sun_path holds 108 bytes, and pass_persist splits its command line on spaces
        if len(self.state_dir) > 90 or any(c.isspace() for c in self.state_dir):
            self._socket_dir = self._relay_dir = tempfile.mkdtemp(prefix="dl-snmp-")
        path = os.path.join(self._relay_dir, "relay.sock")
        if os.path.exists(path):
            os.unlink(path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        os.chmod(path, 0o600)
        listener.listen(16)
        listener.settimeout(0.2)
        self._listener = listener
        self._socket_path = path
        thread = threading.Thread(target=self._accept, args=(listener,), name=f"snmp-{self.array.name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _config(self, port: int) -> str:
        relay = os.path.join(self._relay_dir, "relay.py")
        with open(relay, "w") as f:
            f.write(_RELAY)
        address = f"udp6:[{self.host}]:{port}" if ":" in self.host else f"udp:{self.host}:{port}"
        source = self.host if self.host.startswith("127.") or self.host == "::1" else "default"
        lines = [f"agentaddress {address}", "dontLogTCPWrappersConnects yes"]
        if self.community is not None:
            directive = "rocommunity6" if ":" in self.host else "rocommunity"
            lines.append(f"{directive} {self.community} {source}")
        if self.v3_user is not None:
            lines.append(
                f'createUser {self.v3_user} {self.v3_auth_protocol} "{self.v3_auth_key}" '
                f'{self.v3_priv_protocol} "{self.v3_priv_key}"'
            )
            lines.append(f"rouser {self.v3_user} priv")
        for subtree in snmp_mib.SUBTREES:
            dotted = "." + ".".join(map(str, subtree))
            lines.append(f"pass_persist {dotted} {sys.executable} -I -S {relay} {self._socket_path} {dotted}")
        return "\n".join(lines) + "\n"

    def _spawn(self, binary: str, port: int) -> bool:
        conf = os.path.join(self.state_dir, "snmpd.conf")
        persist = os.path.join(self.state_dir, "persist")
        shutil.rmtree(persist, ignore_errors=True)  # a fresh engine: no users left from a previous run
        os.makedirs(persist, mode=0o700)
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the v3 keys
        with os.fdopen(fd, "w") as f:
            f.write(self._config(port))
        log = os.path.join(self.state_dir, "snmpd.log")
        if os.path.exists(log):
            os.unlink(log)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "MIBS": "",
            "SNMP_PERSISTENT_DIR": persist,
            "SNMPCONFPATH": self.state_dir,
            "HOME": self.state_dir,
        }
        command = [binary, "-f", "-C", "-c", conf, "-I", _MODULES, "-Lf", log]
        setpriv = shutil.which("setpriv")
        if setpriv:  # the kernel stops snmpd if this process dies without calling stop()
            command = [setpriv, "--pdeathsig", "TERM", "--"] + command
        started = threading.Event()
        box: dict = {}

        def supervise():
            # spawned from this thread, which lives as long as snmpd: the parent-death signal
            # fires when the thread that forked goes away, so it must not be a short-lived caller
            try:
                box["proc"] = proc = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=env,
                    start_new_session=True,
                    cwd=self.state_dir,
                )
            except OSError as e:
                box["error"] = e
                return
            finally:
                started.set()
            proc.wait()
            if not self._stopping.is_set():
                LOG.warning("snmpd of %s exited with status %s", self.array.name, proc.returncode)

        thread = threading.Thread(target=supervise, name=f"snmpd-{self.array.name}", daemon=True)
        thread.start()
        started.wait()
        if "error" in box:
            raise RuntimeError(f"cannot run snmpd: {box['error']}")
        self._threads.append(thread)
        self._proc = box["proc"]
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._proc = None
                return False
            if "NET-SNMP version" in self._log_tail():
                return True
            time.sleep(0.02)
        _kill_group(self._proc)
        self._proc = None
        return False

    def _log_tail(self) -> str:
        try:
            with open(os.path.join(self.state_dir, "snmpd.log"), errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return "(no log)"

    # -- the pass_persist side ----------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            with self._conns_lock:
                if self._stopping.is_set():
                    conn.close()
                    return
                self._conns.add(conn)
            thread = threading.Thread(
                target=self._serve, args=(conn,), name=f"snmp-relay-{self.array.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn.makefile("rb") as rfile, conn.makefile("wb") as wfile:
                first = rfile.readline().decode(errors="replace").split()
                within = snmp_mib.parse_oid(first[1]) if len(first) == 2 and first[0] == "subtree" else ()
                while not self._stopping.is_set():
                    line = rfile.readline()
                    if not line:
                        return
                    command = line.strip().decode(errors="replace")
                    if command == "PING":
                        reply = "PONG\n"
                    elif command in ("get", "getnext"):
                        reply = self._answer(command, rfile.readline().decode(errors="replace"), within)
                    elif command == "set":
                        rfile.readline()
                        rfile.readline()
                        reply = "not-writable\n"
                    else:
                        continue
                    wfile.write(reply.encode())
                    wfile.flush()
        except OSError:
            return
        finally:
            with self._conns_lock:
                self._conns.discard(conn)
            conn.close()

    def _current_view(self) -> snmp_mib.MibView:
        with self._view_lock:
            key = (self.array.generation, self._refreshes)
            if self._view is None or key != self._view_key:
                self._view = self._builder.build(self.array.snapshot(), self._ctx)
                self._view_key = key
            return self._view

    def _hold(self, faults) -> None:
        """Apply the delay and drop faults in force (blocking, but never past stop())."""
        if faults.delay and time.monotonic() - self._last_answer > _PAUSE:
            end = time.monotonic() + faults.delay
            # re-read the fault while waiting: clearing it releases a request already held
            while faults.delay and not self._stopping.is_set() and time.monotonic() < end:
                self._stopping.wait(min(0.05, max(0.0, end - time.monotonic())))
        if faults.drop_after != self._drop_setting:
            self._drop_setting, self._answered = faults.drop_after, 0
        while (
            faults.drop_after is not None
            and faults.drop_after == self._drop_setting
            and self._answered >= faults.drop_after
            and not self._stopping.is_set()
        ):
            self._stopping.wait(0.05)  # silent until the fault is cleared
        if faults.drop_after != self._drop_setting:
            self._drop_setting, self._answered = faults.drop_after, 0

    def _answer(self, command: str, oid_text: str, within: tuple) -> str:
        faults = self.array.faults.get("snmp")
        if faults is not None:
            self._hold(faults)
        try:
            oid = snmp_mib.parse_oid(oid_text)
        except ValueError:
            return "NONE\n"
        view = self._current_view()
        self._ctx.malformed = self.malformed_kind if faults is not None and faults.malformed else None
        if command == "get":
            found = view.get(oid) if oid[: len(within)] == within else None
        else:
            found = view.next(max(oid, within), within)
        self._answered += 1
        self.requests += 1
        self._last_answer = time.monotonic()
        return snmp_mib.format_answer(found)


def snmptrap(
    target_host: str, target_port: int, community: str, uptime_ticks: int, trap_oid: str, varbinds,
    state_dir: str | None = None, timeout: float = 10.0,
) -> None:
    """Send one SNMPv2c trap with net-snmp's ``snmptrap`` (numeric OIDs, no MIB files).

    :param varbinds: ``(oid, type letter as snmptrap takes it, value)`` triples, in PDU order.
    :param uptime_ticks: sysUpTime.0 of the notification, in hundredths of a second.
    :raises SnmpdNotFound: snmptrap is not installed. :raises RuntimeError: it failed.
    """
    binary = shutil.which("snmptrap") or ("/usr/bin/snmptrap" if os.access("/usr/bin/snmptrap", os.X_OK) else None)
    if binary is None:
        raise SnmpdNotFound(f"snmptrap not found: install it with 'apt-get install -y {SNMPTRAP_PACKAGE}'")
    host = f"[{target_host}]" if ":" in target_host else target_host
    transport = "udp6" if ":" in target_host else "udp"
    argv = [binary, "-v", "2c", "-c", community, "-m", "", "-M", "/dev/null",
            f"{transport}:{host}:{target_port}", str(uptime_ticks), trap_oid]  # fmt: skip
    for oid, kind_letter, value in varbinds:
        argv += [str(oid), str(kind_letter), str(value)]
    env = {**os.environ, "SNMP_PERSISTENT_DIR": state_dir or tempfile.gettempdir(), "MIBS": ""}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"snmptrap failed ({done.returncode}): {done.stderr.strip()[:200]}")


def _free_udp_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM snmpd's process group (it and its relays), SIGKILL what is left after 5 s."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # relays still in the group (snmpd gone first) die with the group signal above; reap nothing else


def access_block(front: SnmpFrontEnd, version: str = "2c") -> dict:
    """The ``snmp`` block of a registration body that reaches ``front`` (v2c or v3, secrets included)."""
    if version == "3":
        if front.v3_user is None:
            raise ValueError("this front end has no v3 user")
        return {
            "host": front.host,
            "port": front.port,
            "version": "3",
            "username": front.v3_user,
            "auth_key": front.v3_auth_key,
            "privacy_key": front.v3_priv_key,
            "auth_protocol": front.v3_auth_protocol,
            "privacy_protocol": front.v3_priv_protocol,
        }
    if front.community is None:
        raise ValueError("this front end has no v2c community")
    return {"host": front.host, "port": front.port, "version": "2c", "community": front.community}
