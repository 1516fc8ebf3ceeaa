"""``delfin-like-csd-agent``: the gRPC agent of a computational-storage node.

Standalone on purpose (argparse and the standard logging module): it runs on
storage nodes that need none of the platform's services.
"""

import argparse
import logging
import signal
import sys
import threading

from delfin_like_drivers.csd.agent import server


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="delfin-like-csd-agent",
        description="gRPC agent of a computational-storage node: NVMe inventory, health and counters; "
        "preprocessing jobs (submit, status, cancel).",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; others need --auth-file)"
    )
    p.add_argument("--port", type=int, default=50051, help="port to listen on (default 50051; 0: any free port)")
    p.add_argument("--node-name", default="", help="name of this node (default: the host name)")
    p.add_argument(
        "--node-id", default="", help="stable identity of this node (default: the host NQN, else /etc/machine-id)"
    )
    p.add_argument(
        "--state-dir", default="", help="job database and job logs (default $XDG_DATA_HOME/delfin-like-csd-agent)"
    )
    p.add_argument(
        "--nvme-fixtures",
        metavar="DIR",
        default=None,
        help="read recorded nvme-cli JSON from DIR instead of running nvme-cli "
        "('builtin': the shipped two-device node)",
    )
    p.add_argument(
        "--fixture-io-rate",
        type=int,
        default=0,
        metavar="R",
        help="with --nvme-fixtures: grow the recorded I/O counters every second of the agent's uptime "
        "(controller nvmeN by (N+1)*R times 4 read and 2 write commands, 2 data units read, 1 written; "
        "one busy minute per minute); default 0: they never change",
    )
    p.add_argument("--nvme-cli", default="nvme", help="the nvme-cli executable (default: nvme on PATH)")
    p.add_argument("--nvme-timeout", type=float, default=15.0, help="longest nvme-cli call in seconds")
    p.add_argument("--max-concurrent-jobs", type=int, default=2, help="jobs running at once (default 2)")
    p.add_argument("--max-pending-jobs", type=int, default=1000, help="jobs waiting at most (default 1000)")
    p.add_argument(
        "--kill-grace",
        type=float,
        default=5.0,
        help="seconds between SIGTERM and SIGKILL when a job is stopped (default 5)",
    )
    p.add_argument(
        "--shutdown-grace",
        type=float,
        default=30.0,
        help="seconds running jobs may finish after SIGTERM before they are stopped (default 30)",
    )
    p.add_argument("--rpc-grace", type=float, default=5.0, help="seconds in-flight RPCs may finish at shutdown")
    p.add_argument(
        "--allowed-path",
        action="append",
        default=[],
        metavar="PREFIX",
        help="data and output paths must be under PREFIX (repeatable; default: anywhere)",
    )
    p.add_argument("--tls-cert-file", help="PEM certificate (chain) to serve TLS with")
    p.add_argument("--tls-key-file", help="PEM private key of --tls-cert-file")
    p.add_argument("--tls-client-ca-file", help="require client certificates signed by this CA (mutual TLS)")
    p.add_argument(
        "--auth-file", help="file of user:password lines; every RPC but health and reflection must present one"
    )
    p.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        help="serve a non-loopback address without --auth-file (anyone reaching it can run jobs)",
    )
    p.add_argument("--workers", type=int, default=16, help="threads serving RPCs (default 16)")
    p.add_argument("--log-file", help="log here instead of standard error")
    p.add_argument("--debug", action="store_true", help="log at DEBUG level")
    return p


def options_from(args: argparse.Namespace) -> server.AgentOptions:
    return server.AgentOptions(
        host=args.host,
        port=args.port,
        node_name=args.node_name,
        node_id=args.node_id,
        state_dir=args.state_dir,
        nvme_fixtures=args.nvme_fixtures,
        nvme_cli=args.nvme_cli,
        nvme_timeout=args.nvme_timeout,
        fixture_io_rate=args.fixture_io_rate,
        max_concurrent_jobs=args.max_concurrent_jobs,
        max_pending_jobs=args.max_pending_jobs,
        kill_grace=args.kill_grace,
        shutdown_grace=args.shutdown_grace,
        rpc_grace=args.rpc_grace,
        allowed_paths=tuple(args.allowed_path),
        tls_cert_file=args.tls_cert_file,
        tls_key_file=args.tls_key_file,
        tls_client_ca_file=args.tls_client_ca_file,
        auth_file=args.auth_file,
        allow_unauthenticated=args.allow_unauthenticated,
        workers=args.workers,
    )


def setup_logging(log_file: str | None, debug: bool) -> None:
    handler = logging.FileHandler(log_file) if log_file else logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO)


def main(argv: list[str] | None = None) -> int:
    """Run the agent until SIGTERM or SIGINT; 0 after a clean stop, 2 on bad options."""
    args = build_parser().parse_args(argv)
    setup_logging(args.log_file, args.debug)
    log = logging.getLogger("delfin_like_drivers.csd.agent")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stop.set())
    try:
        agent = server.Agent(options_from(args))
        agent.start()
    except server.ConfigError as e:
        log.error("Cannot start: %s", e)
        return 2
    # a timed wait keeps the main thread responsive to signals
    while not stop.wait(1.0):
        pass
    agent.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
