"""The agent's gRPC server: InstorageManager, health, reflection, TLS, credentials, shutdown.

:class:`Agent` owns everything one agent process runs. ``start()`` binds and
serves; ``stop()`` is the graceful shutdown: health turns NOT_SERVING at once
(new jobs are refused, status RPCs still answer), running jobs get the
shutdown grace to finish and are then stopped and recorded FAILED, and only
then does the server stop accepting RPCs and let the ones in flight finish.
"""

import base64
import binascii
import concurrent.futures
import dataclasses
import hmac
import ipaddress
import logging
import os
import socket
import stat

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from delfin_like_drivers.csd import nvme_source
from delfin_like_drivers.csd.agent import jobs, service, store
from delfin_like_drivers.csd.grpc_api import SERVICE_NAME, pb_grpc

LOG = logging.getLogger(__name__)

# probes and API discovery work without credentials
_PUBLIC_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


@dataclasses.dataclass
class AgentOptions:
    host: str = "127.0.0.1"
    port: int = 50051
    node_name: str = ""
    node_id: str = ""
    state_dir: str = ""
    nvme_fixtures: str | None = None
    nvme_cli: str = "nvme"
    nvme_timeout: float = 15.0
    fixture_io_rate: int = 0
    max_concurrent_jobs: int = 2
    max_pending_jobs: int = 1000
    kill_grace: float = 5.0
    shutdown_grace: float = 30.0
    rpc_grace: float = 5.0
    allowed_paths: tuple[str, ...] = ()
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    tls_client_ca_file: str | None = None
    auth_file: str | None = None
    allow_unauthenticated: bool = False
    workers: int = 16


class ConfigError(Exception):
    """The options cannot work; the message says which and why."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_credentials(path: str) -> dict[str, str]:
    """``user:password`` lines (``#`` comments) -> {user: password}."""
    try:
        mode = os.stat(path).st_mode
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise ConfigError(f"cannot read the credentials file {path}: {e.strerror}")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        LOG.warning("Credentials file %s is readable by others; chmod 600 it", path)
    credentials = {}
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user or not password:
            raise ConfigError(f"{path} line {number}: expected user:password")
        credentials[user] = password
    if not credentials:
        raise ConfigError(f"{path} holds no credentials")
    return credentials


class BasicAuthInterceptor(grpc.ServerInterceptor):
    """Requires ``authorization: Basic base64(user:password)`` metadata on every RPC but probes."""

    def __init__(self, credentials: dict[str, str]):
        self._credentials = credentials

        def deny(request, context):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "valid credentials are required")

        self._deny = grpc.unary_unary_rpc_method_handler(deny)

    def _allowed(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        expected = self._credentials.get(user)
        # constant-time, and as slow for an unknown user as for a wrong password
        return hmac.compare_digest((expected or "\x00" + password).encode(), password.encode()) and bool(expected)

    def intercept_service(self, continuation, handler_call_details):
        if handler_call_details.method.startswith(_PUBLIC_PREFIXES):
            return continuation(handler_call_details)
        metadata = dict(handler_call_details.invocation_metadata or ())
        if self._allowed(metadata.get("authorization")):
            return continuation(handler_call_details)
        LOG.info("Refused %s: missing or wrong credentials", handler_call_details.method)
        return self._deny


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise ConfigError(f"cannot read the {what} {path}: {e.strerror}")


def _agent_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("delfin-like-drivers")
    except metadata.PackageNotFoundError:
        return "unknown"


def _machine_id() -> str:
    try:
        with open("/etc/machine-id", encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return ""


class Agent:
    """One agent: job manager, NVMe reader and gRPC server."""

    def __init__(self, options: AgentOptions):
        if options.tls_cert_file or options.tls_key_file:
            if not (options.tls_cert_file and options.tls_key_file):
                raise ConfigError("--tls-cert-file and --tls-key-file go together")
        elif options.tls_client_ca_file:
            raise ConfigError("--tls-client-ca-file needs --tls-cert-file and --tls-key-file")
        if not is_loopback(options.host) and not options.auth_file and not options.allow_unauthenticated:
            # anyone who reaches the port could run commands on this node
            raise ConfigError(f"refusing to serve on {options.host} without --auth-file (or --allow-unauthenticated)")
        self.options = options
        try:
            self.reader = nvme_source.NvmeReader(
                nvme_source.make_source(
                    options.nvme_fixtures, options.nvme_cli, options.nvme_timeout, options.fixture_io_rate
                )
            )
        except nvme_source.NvmeUnavailable as e:
            raise ConfigError(str(e))
        self.credentials = load_credentials(options.auth_file) if options.auth_file else None
        self.state_dir = options.state_dir or default_state_dir()
        self.store = store.JobStore(os.path.join(self.state_dir, "jobs.sqlite"))
        host_nqn = self._host_nqn()
        node_name = options.node_name or socket.gethostname()
        self.node = service.NodeInfo(
            node_id=options.node_id or host_nqn or _machine_id() or node_name,
            name=node_name,
            agent_version=_agent_version(),
            host_nqn=host_nqn,
        )
        self.manager = jobs.JobManager(
            self.store,
            node_name=node_name,
            log_dir=os.path.join(self.state_dir, "logs"),
            max_concurrent=options.max_concurrent_jobs,
            max_pending=options.max_pending_jobs,
            kill_grace=options.kill_grace,
            device_paths=self._device_paths,
            path_prefixes=tuple(options.allowed_paths),
        )
        self.health = health.HealthServicer()
        self.server: grpc.Server | None = None
        self.port: int | None = None

    def _host_nqn(self) -> str:
        try:
            return self.reader.inventory().host_nqn
        except nvme_source.NvmeUnavailable as e:
            LOG.warning("No NVMe inventory at start-up: %s", e)
            return ""

    def _device_paths(self) -> list[str]:
        return [ns.device_path for ns in self.reader.inventory().namespaces]

    def _credentials(self):
        o = self.options
        pair = (_read(o.tls_key_file, "TLS key"), _read(o.tls_cert_file, "TLS certificate"))
        client_ca = _read(o.tls_client_ca_file, "client CA") if o.tls_client_ca_file else None
        try:
            return grpc.ssl_server_credentials(
                [pair], root_certificates=client_ca, require_client_auth=client_ca is not None
            )
        except Exception as e:  # noqa: BLE001 - grpc reports bad PEM data with assorted exceptions
            raise ConfigError(f"unusable TLS certificate or key: {e}")

    def start(self) -> int:
        """Recover jobs, bind, serve; returns the bound port. ConfigError if it cannot."""
        self.manager.start()
        interceptors = [BasicAuthInterceptor(self.credentials)] if self.credentials else []
        server = grpc.server(
            concurrent.futures.ThreadPoolExecutor(max_workers=self.options.workers, thread_name_prefix="grpc"),
            interceptors=interceptors,
        )
        pb_grpc.add_InstorageManagerServicer_to_server(
            service.InstorageManagerService(self.manager, self.reader, self.node), server
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME), server
        )
        host = self.options.host
        address = (
            f"[{host}]:{self.options.port}"
            if ":" in host and not host.startswith("[")
            else f"{host}:{self.options.port}"
        )
        try:
            if self.options.tls_cert_file:
                port = server.add_secure_port(address, self._credentials())
            else:
                port = server.add_insecure_port(address)
        except RuntimeError as e:
            self.manager.stop(0)
            raise ConfigError(f"cannot listen on {address}: {e}")
        server.start()
        self.server, self.port = server, port
        for name in ("", SERVICE_NAME):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        if not is_loopback(host) and not self.options.tls_cert_file:
            LOG.warning("Serving on %s without TLS: credentials and job specs travel in clear", host)
        LOG.info(
            "delfin-like-csd-agent serving %s on %s:%d (node %s, NVMe from %s, %s)",
            SERVICE_NAME,
            host,
            port,
            self.node.name,
            self.reader.kind,
            "TLS" if self.options.tls_cert_file else "plaintext",
        )
        return port

    def stop(self) -> None:
        """Graceful shutdown (see the module docstring); returns when everything has stopped."""
        LOG.info("Shutting down: NOT_SERVING, jobs get %.0f s to finish", self.options.shutdown_grace)
        self.health.enter_graceful_shutdown()
        self.manager.stop(self.options.shutdown_grace)
        if self.server is not None:
            self.server.stop(self.options.rpc_grace).wait()
        self.store.close()
        LOG.info("delfin-like-csd-agent stopped")


def default_state_dir() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "delfin-like-csd-agent")
