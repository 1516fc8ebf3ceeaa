"""A RabbitMQ node and a Redis server of a test's own, on free loopback ports.

Fault tests stop, kill and restart these, never the machine's shared servers
(other users' and other tests' RabbitMQ on 5672 and Redis on 6379). Each one
lives in its own directory (data, logs, config, Erlang cookie) that
:meth:`stop` removes. Without the server binaries the test skips, or fails
under ``CI=true``.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

from tests import services
from tests.e2e.conftest import free_port

RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
RABBITMQ_BIN = os.path.dirname(RABBITMQ_SERVER)


def _missing(what: str) -> None:
    message = f"a private {what} cannot be started here"
    if services.IN_CI:
        pytest.fail(message + " (CI=true: services are required)")
    pytest.skip(message)


def wait_port(port: int, timeout: float, up: bool = True) -> bool:
    """Wait until 127.0.0.1:``port`` accepts connections (``up``) or refuses them; False at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if services._reachable("127.0.0.1", port, timeout=1) == up:
            return True
        time.sleep(0.2)
    return False


class PrivateRedis:
    """``redis-server --port N --save ''`` in a directory of its own: no persistence, like the README's."""

    def __init__(self):
        if shutil.which("redis-server") is None:
            _missing("Redis (redis-server)")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="delfin-redis-")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> "PrivateRedis":
        """Start the server (again, on the same port) and wait for its port."""
        log = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        assert wait_port(self.port, timeout), f"private Redis did not open port {self.port} within {timeout} s"
        return self

    def kill(self) -> None:
        """SIGKILL the server: every key (lock) it held is gone, as after a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        """Kill the server and remove its directory."""
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRabbit:
    """A RabbitMQ node beside the system one: its own node name, AMQP and distribution ports, mnesia,
    logs, config (no plugins) and Erlang cookie (``HOME``)."""

    def __init__(self):
        if not os.access(RABBITMQ_SERVER, os.X_OK):
            _missing(f"RabbitMQ node ({RABBITMQ_SERVER})")
        self.port = free_port()
        self.dist_port = free_port()
        self.dir = tempfile.mkdtemp(prefix="delfin-rabbit-")
        self.node = f"delfin-{uuid.uuid4().hex[:8]}@localhost"
        self.proc: subprocess.Popen | None = None
        config = os.path.join(self.dir, "rabbitmq.conf")
        with open(config, "w") as f:
            f.write(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        with open(os.path.join(self.dir, "enabled_plugins"), "w") as f:
            f.write("[].\n")
        with open(os.path.join(self.dir, "rabbitmq-env.conf"), "w") as f:
            f.write("")  # not the system's: it names the system node
        self.env = {
            **os.environ,
            "HOME": self.dir,
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": os.path.join(self.dir, "mnesia"),
            "RABBITMQ_LOG_BASE": os.path.join(self.dir, "log"),
            "RABBITMQ_CONFIG_FILE": config,
            "RABBITMQ_CONF_ENV_FILE": os.path.join(self.dir, "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(self.dir, "enabled_plugins"),
            "RABBITMQ_PID_FILE": os.path.join(self.dir, "rabbit.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    @property
    def url(self) -> str:
        return f"rabbit://guest:guest@127.0.0.1:{self.port}/"

    def ctl(self, *args: str, tool: str = "rabbitmqctl", timeout: float = 120) -> subprocess.CompletedProcess:
        """Run a RabbitMQ CLI tool against this node only (``-n <node>``)."""
        return subprocess.run(
            [os.path.join(RABBITMQ_BIN, tool), "-n", self.node, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, timeout: float = 120) -> "PrivateRabbit":
        """Start the node and wait until it runs and its AMQP port is open."""
        log = open(os.path.join(self.dir, "server.out"), "ab")
        self.proc = subprocess.Popen(
            [RABBITMQ_SERVER], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.wait_running(timeout)
        return self

    def wait_running(self, timeout: float) -> None:
        """Wait for ``rabbitmq-diagnostics check_running`` and the AMQP port (the app may be restarting)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, f"private RabbitMQ exited: {self.output()}"
            left = max(1.0, deadline - time.monotonic())
            check = self.ctl("check_running", tool="rabbitmq-diagnostics", timeout=min(30.0, left))
            if check.returncode == 0 and wait_port(self.port, min(5.0, left)):
                return
            time.sleep(0.5)
        raise AssertionError(f"private RabbitMQ node {self.node} not running within {timeout} s: {self.output()}")

    def stop_app(self) -> None:
        """Stop the RabbitMQ application of this node (the broker goes away; the Erlang VM stays)."""
        out = self.ctl("stop_app")
        assert out.returncode == 0, out.stderr or out.stdout

    def start_app(self, timeout: float = 120) -> None:
        """Start the application again and wait for it."""
        out = self.ctl("start_app", timeout=timeout)
        assert out.returncode == 0, out.stderr or out.stdout
        self.wait_running(timeout)

    def output(self) -> str:
        try:
            with open(os.path.join(self.dir, "server.out"), errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the node (killing it if it does not stop in time) and remove its directory."""
        if self.proc is not None and self.proc.poll() is None:
            self.ctl("stop", timeout=60)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def private_rabbit():
    """A RabbitMQ node of the module's own (started once: a node takes seconds to boot)."""
    node = PrivateRabbit()
    try:
        node.start()
        yield node
    finally:
        node.stop()


@pytest.fixture
def private_redis():
    """A Redis server of the test's own."""
    server = PrivateRedis()
    try:
        server.start()
        yield server
    finally:
        server.stop()
