"""``delfin-like-simulator``: simulated storage arrays speaking REST (ONTAP-style), SSH (SVC CLI) and SNMP.

Each array is one :class:`~.model.SimulatedArray` seen through every protocol that is switched
on; array ``i`` (from 0) listens on the protocol's base port + ``i`` (base 0: any free port) and
has seed ``--seed + i``. Once every endpoint listens, one JSON line on stdout describes them all
(ports, URL, CA file, SSH host key line, user names; never a secret). Secrets come from the
environment (``DELFIN_LIKE_SIMULATOR_PASSWORD``, ``..._COMMUNITY``, ``..._SNMP_AUTH_KEY``,
``..._SNMP_PRIV_KEY``) or are generated; either way they are written to ``credentials.json``
(mode 0600) in the state directory, whose path the JSON line gives. ``--churn-interval`` changes
the arrays every so often (one log line per array and churn, on stderr); ``--tick`` moves their
clocks with the wall clock so counters grow. ``--trap-sink host:port[,community]`` makes every
array send IBM SVC's SNMP trap (:mod:`.svc_traps`) for each event it raises, which the
simulator-only SSH command ``svctask simraiseevent -kind disk`` does at run time.
SIGTERM or SIGINT stops everything and exits 0.

The SSH and SNMP front ends are imported only when switched on, so ``--no-ssh --no-snmp``
works without their dependencies (paramiko, Debian's ``snmpd``).
"""

import argparse
import json
import logging
import os
import secrets
import signal
import sys
import threading

from delfin_like_drivers.simulator.model import SimulatedArray, WallClock
from delfin_like_drivers.simulator.rest import RestFrontEnd

LOG = logging.getLogger("delfin_like_simulator")
ENV_PREFIX = "DELFIN_LIKE_SIMULATOR_"
DEFAULT_PORTS = {"rest": 8443, "ssh": 2222, "snmp": 1161}


def default_state_dir() -> str:
    """``$XDG_STATE_HOME/delfin-like-simulator`` (the CA and the SSH host key stay stable across runs)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "delfin-like-simulator")


def _non_negative(kind):
    def parse(text):
        value = kind(text)
        if value < 0:
            raise argparse.ArgumentTypeError(f"must be >= 0, not {text}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="delfin-like-simulator", description=__doc__.split("\n\n")[0])
    count, seconds = _non_negative(int), _non_negative(float)
    g = p.add_argument_group("arrays")
    g.add_argument("--arrays", type=count, default=1, help="number of arrays (default 1)")
    g.add_argument("--name-prefix", default="sim-array", help="array i is named <prefix>-<i+1>")
    g.add_argument("--pools", type=count, default=4, help="pools per array (default 4)")
    g.add_argument("--volumes", type=count, default=100, help="volumes per array at start (default 100)")
    g.add_argument("--nodes", type=count, default=2, help="controllers per array, 2 FC + 2 Ethernet ports each")
    g.add_argument("--disks-per-pool", type=count, default=4, help="disks per pool (plus one spare)")
    g.add_argument("--seed", type=int, default=1, help="array i uses seed + i (same options, same arrays)")
    g = p.add_argument_group("change over time")
    g.add_argument("--churn-interval", type=seconds, default=0.0, help="seconds between churns (0: never)")
    g.add_argument("--churn-create", type=count, default=2, help="volumes created per churn")
    g.add_argument("--churn-resize", type=count, default=2, help="volumes grown by 1 GiB per churn")
    g.add_argument("--churn-delete", type=count, default=1, help="volumes deleted per churn")
    g.add_argument(
        "--tick",
        type=seconds,
        default=1.0,
        help="advance the arrays' clocks with the wall clock every this many seconds (0: frozen)",
    )
    g = p.add_argument_group("protocols")
    g.add_argument("--host", default="127.0.0.1", help="address every front end binds (default 127.0.0.1)")
    for proto, what in (("rest", "HTTPS REST (ONTAP-style)"), ("ssh", "SSH CLI (SVC-style)"), ("snmp", "SNMP")):
        g.add_argument(
            f"--{proto}",
            dest=proto,
            action=argparse.BooleanOptionalAction,
            default=True,
            help=f"serve {what} (default on)",
        )
        g.add_argument(
            f"--{proto}-port",
            type=count,
            default=DEFAULT_PORTS[proto],
            help=f"port of the first array (default {DEFAULT_PORTS[proto]}; 0: any free port)",
        )
    g.add_argument("--no-tls", dest="tls", action="store_false", help="plain HTTP instead of HTTPS")
    g.add_argument("--rest-user", default="admin", help="REST user name (default admin)")
    g.add_argument("--ssh-user", default="superuser", help="SSH user name (default superuser)")
    g.add_argument(
        "--ssh-authorized-keys",
        metavar="FILE",
        help="OpenSSH public keys (authorized_keys format) that may log in as --ssh-user",
    )
    g.add_argument(
        "--snmp-v2c",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="serve SNMPv2c with the community (default on)",
    )
    g.add_argument("--snmp-v3-user", help="also serve SNMPv3 authPriv (SHA/AES) for this user")
    g = p.add_argument_group("events and traps")
    g.add_argument(
        "--trap-sink",
        action="append",
        default=[],
        metavar="HOST:PORT[,COMMUNITY]",
        help="send each event an array raises (simraiseevent over SSH) as IBM SVC's SNMPv2c trap to this "
        "receiver, with COMMUNITY (default: the simulator's community); repeatable",
    )
    p.add_argument("--state-dir", default=None, help=f"CA, host key, credentials (default {default_state_dir()})")
    p.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    return p


def _check_ports(parser, args) -> None:
    for proto in DEFAULT_PORTS:
        base = getattr(args, f"{proto}_port")
        if getattr(args, proto) and base and base + args.arrays - 1 > 65535:
            parser.error(f"--{proto}-port {base} leaves no room for {args.arrays} arrays")
    if args.arrays < 1:
        parser.error("--arrays must be at least 1")
    if args.snmp and not args.snmp_v2c and not args.snmp_v3_user:
        parser.error("--no-snmp-v2c needs --snmp-v3-user")
    from delfin_like_drivers.simulator import svc_traps

    for sink in args.trap_sink:
        try:
            svc_traps.parse_sink(sink, "default")
        except ValueError as e:
            parser.error(f"--trap-sink: {e}")


def _secret(name: str, generated) -> str:
    return os.environ.get(ENV_PREFIX + name) or generated


def load_credentials(state_dir: str, snmp_v3: bool) -> tuple[dict, str]:
    """Secrets from the environment or freshly generated, written to ``state_dir/credentials.json`` (0600).

    :returns: (secrets by name, path of the file).
    """
    creds = {
        "password": _secret("PASSWORD", "Sim-" + secrets.token_urlsafe(12)),
        "community": _secret("COMMUNITY", "sim" + secrets.token_hex(8)),
    }
    if snmp_v3:
        creds["snmp_auth_key"] = _secret("SNMP_AUTH_KEY", secrets.token_hex(12))
        creds["snmp_priv_key"] = _secret("SNMP_PRIV_KEY", secrets.token_hex(12))
    path = os.path.join(state_dir, "credentials.json")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(creds, f)
    os.chmod(path, 0o600)  # an older file keeps its mode through O_TRUNC
    return creds, path


class Simulator:
    """The arrays, their front ends, clocks and churn, from parsed options; :meth:`start` / :meth:`stop`."""

    def __init__(self, args, state_dir: str, creds: dict):
        self.args = args
        self.state_dir = state_dir
        self.creds = creds
        self.arrays = [
            SimulatedArray(
                name=f"{args.name_prefix}-{i + 1}",
                pools=args.pools,
                volumes=args.volumes,
                nodes=args.nodes,
                disks_per_pool=args.disks_per_pool,
                seed=args.seed + i,
            )
            for i in range(args.arrays)
        ]
        from delfin_like_drivers.simulator import svc_traps

        sinks = [svc_traps.parse_sink(text, creds["community"]) for text in getattr(args, "trap_sink", [])]
        # every array sends the traps of the events it raises to every sink
        self.trap_senders = [svc_traps.TrapSender(array, sinks, state_dir).attach() for array in self.arrays] \
            if sinks else []
        self.front_ends: list[tuple[int, str, object]] = []  # (array index, protocol, front end)
        self.clocks: list[WallClock] = []
        self._stop = threading.Event()
        self._churner: threading.Thread | None = None

    def _port(self, proto: str, index: int) -> int:
        base = getattr(self.args, f"{proto}_port")
        return base + index if base else 0

    def _make(self, proto: str, index: int, array: SimulatedArray):
        a, host, port = self.args, self.args.host, self._port(proto, index)
        if proto == "rest":
            return RestFrontEnd(
                array,
                host=host,
                port=port,
                tls=a.tls,
                state_dir=self.state_dir,
                username=a.rest_user,
                password=self.creds["password"],
            )
        if proto == "ssh":
            try:
                from delfin_like_drivers.simulator.ssh import SshFrontEnd
            except ImportError as e:
                raise RuntimeError(f"the SSH front end cannot load ({e}); install paramiko or pass --no-ssh")

            keys = None
            if a.ssh_authorized_keys:
                with open(a.ssh_authorized_keys) as f:
                    keys = [line.strip() for line in f if line.strip() and not line.startswith("#")]
            return SshFrontEnd(
                array,
                host=host,
                port=port,
                username=a.ssh_user,
                password=self.creds["password"],
                authorized_keys=keys,
                state_dir=self.state_dir,
            )
        try:
            from delfin_like_drivers.simulator.snmp import SnmpFrontEnd
        except ImportError as e:
            raise RuntimeError(f"the SNMP front end cannot load ({e}); pass --no-snmp")

        v3 = {}
        if a.snmp_v3_user:
            v3 = {
                "v3_user": a.snmp_v3_user,
                "v3_auth_key": self.creds["snmp_auth_key"],
                "v3_priv_key": self.creds["snmp_priv_key"],
            }
        # snmpd's configuration and relays are per agent: one directory per array
        return SnmpFrontEnd(
            array,
            host=host,
            port=port,
            community=self.creds["community"] if a.snmp_v2c else None,
            state_dir=os.path.join(self.state_dir, f"snmp-{array.name}"),
            **v3,
        )

    def start(self) -> None:
        """Start every front end (stopping those already started if one fails), the clocks and the churn."""
        try:
            for index, array in enumerate(self.arrays):
                for proto in ("rest", "ssh", "snmp"):
                    if getattr(self.args, proto):
                        front = self._make(proto, index, array)
                        front.start()
                        self.front_ends.append((index, proto, front))
        except BaseException:
            self.stop()
            raise
        if self.args.tick:
            self.clocks = [WallClock(array, self.args.tick) for array in self.arrays]
            for clock in self.clocks:
                clock.start()
        if self.args.churn_interval:
            self._churner = threading.Thread(target=self._churn_loop, name="churn", daemon=True)
            self._churner.start()

    def _churn_loop(self) -> None:
        a = self.args
        while not self._stop.wait(a.churn_interval):
            for array in self.arrays:
                changed = array.churn(created=a.churn_create, resized=a.churn_resize, deleted=a.churn_delete)
                LOG.info(
                    "churn %s: %d created, %d resized, %d deleted; %d volumes, generation %d",
                    array.name,
                    len(changed["created"]),
                    len(changed["resized"]),
                    len(changed["deleted"]),
                    len(array.volumes),
                    array.generation,
                )

    def stop(self) -> None:
        """Stop churn, clocks and every front end (each failure logged, none skipped)."""
        self._stop.set()
        if self._churner is not None:
            self._churner.join(5)
        for clock in self.clocks:
            clock.stop()
        for _, proto, front in reversed(self.front_ends):
            try:
                front.stop()
            except Exception:  # noqa: BLE001 - the others must still stop
                LOG.exception("stopping the %s front end failed", proto)
        self.front_ends = []

    def describe(self, credentials_file: str) -> dict:
        """The endpoints of every array, as the ready line shows them (user names, never secrets)."""
        a = self.args
        arrays = []
        for index, array in enumerate(self.arrays):
            entry: dict = {"name": array.name, "serial": array.serial, "seed": array.seed}
            for i, proto, front in self.front_ends:
                if i != index:
                    continue
                info = {"host": a.host, "port": front.port}
                if proto == "rest":
                    info.update(url=front.url, tls=a.tls, ca_file=front.ca_file, username=a.rest_user)
                elif proto == "ssh":
                    info.update(username=a.ssh_user, host_key=front.host_key_line)
                else:
                    info.update(v2c=a.snmp_v2c, v3_user=a.snmp_v3_user)
                entry[proto] = info
            if self.trap_senders:
                entry["trap_sinks"] = [sink.describe() for sink in self.trap_senders[index].sinks]
            arrays.append(entry)
        return {
            "event": "ready",
            "pid": os.getpid(),
            "state_dir": self.state_dir,
            "credentials_file": credentials_file,
            "arrays": arrays,
        }


def main(argv: list[str] | None = None) -> int:
    """Run until SIGTERM/SIGINT; returns the exit code (0 after a clean stop, 1 if a front end failed to start)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_ports(parser, args)
    logging.basicConfig(
        level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    state_dir = os.path.abspath(args.state_dir or default_state_dir())
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    creds, creds_path = load_credentials(state_dir, bool(args.snmp_v3_user))
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    sim = Simulator(args, state_dir, creds)
    try:
        sim.start()
    except Exception as e:  # noqa: BLE001 - one line that says why, then exit
        LOG.error("could not start: %s: %s", type(e).__name__, e)
        return 1
    print(json.dumps(sim.describe(creds_path)), flush=True)
    LOG.info("simulating %d array(s); SIGTERM or SIGINT stops", len(sim.arrays))
    while not stop.wait(0.5):
        pass
    LOG.info("stopping")
    sim.stop()
    LOG.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
