"""RPC servers of the task manager: one per priority lane.

Each lane is its own topic (``delfin_like.<deployment_name>.task.<lane>``) and its own server with
a worker pool of ``[task_manager] workers_per_lane`` threads, so a backlog of
background syncs can never take the threads an urgent one needs.

oslo.messaging acknowledges an RPC cast the moment its listener thread reads
it, then queues it for the pool without limit: a busy process would read, and
a SIGKILL would lose, a whole backlog. A lane server therefore takes the next
cast only while a worker is free (:class:`LaneServer`), and the broker's
prefetch is bounded (``[oslo_messaging_rabbit] rabbit_qos_prefetch_count``,
default :data:`PREFETCH_PER_LANE` here unless the operator set it), so the
rest of a backlog stays on the broker for other task managers. One leak is
left: the rabbit driver's heartbeat thread also reads the listener's
connection, at most one cast per heartbeat interval while every worker is
busy; the ``tasks`` table still has it and the scheduler re-dispatches it if
this process dies.
"""

import threading
import time

import oslo_messaging
from oslo_config import cfg
from oslo_log import log as logging
from oslo_messaging.rpc import server as oslo_rpc_server

from delfin_like import deployment
from delfin_like.common import constants
from delfin_like.conf import CONF
from delfin_like.rpc import client as rpc_client
from delfin_like.rpc import memory_bus
from delfin_like.rpc import transport as rpc_transport

LOG = logging.getLogger(__name__)

# casts the broker may push to a lane server ahead of a free worker: one keeps the pipe full
PREFETCH_PER_LANE = 1


def bound_prefetch(count: int = PREFETCH_PER_LANE) -> int:
    """Default ``rabbit_qos_prefetch_count`` to ``count`` unless the operator set it (0: unlimited).

    Call before the listener connections exist (they read it when created).
    :returns: the prefetch now in force.
    """
    group = "oslo_messaging_rabbit"
    rpc_transport.register_opts()  # the transport registers them only when it is created
    location = CONF.get_location("rabbit_qos_prefetch_count", group)
    if location is None or location.location in (cfg.Locations.opt_default, cfg.Locations.set_default):
        CONF.set_default("rabbit_qos_prefetch_count", count, group=group)
    return CONF.oslo_messaging_rabbit.rabbit_qos_prefetch_count


class LaneServer(oslo_rpc_server.RPCServer):
    """An RPC server that reads the next cast only while one of its workers is free.

    The listener thread hands each cast to the pool and then waits until the
    number of casts in flight is below the pool size. (``start`` and ``stop``
    are oslo.messaging's ordered methods and stay as they are: :meth:`open_gate`
    and :meth:`close_gate` go with them.)
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._gate = threading.Condition()
        self._in_flight = 0
        self._pool_size = 1
        self._closing = False

    @property
    def in_flight(self) -> int:
        """Casts handed to the pool and not finished yet."""
        with self._gate:
            return self._in_flight

    def open_gate(self, pool_size: int) -> None:
        """Admit casts while fewer than ``pool_size`` are in flight; call before ``start``."""
        with self._gate:
            self._pool_size = pool_size
            self._closing = False

    def _on_incoming(self, incoming):
        # runs on the listener thread: blocking here leaves the next casts on the broker
        with self._gate:
            self._in_flight += 1
        try:
            future = self._work_executor.submit(self._process_incoming, incoming)
        except BaseException:
            self._finished(None)
            raise
        future.add_done_callback(self._finished)
        with self._gate:
            while self._in_flight >= self._pool_size and not self._closing:
                self._gate.wait(1.0)

    def _finished(self, _future) -> None:
        with self._gate:
            self._in_flight -= 1
            self._gate.notify_all()

    def close_gate(self) -> None:
        """Release a listener thread waiting for a free worker; call before ``stop``."""
        with self._gate:
            self._closing = True
            self._gate.notify_all()


def build_target(lane: str, version: str) -> oslo_messaging.Target:
    """The server Target of ``lane``; ``version`` must equal the client's."""
    return oslo_messaging.Target(
        exchange=deployment.rpc_exchange(), topic=rpc_client.lane_topic(lane), server=CONF.host, version=version
    )


class LaneServers:
    """One :class:`LaneServer` per lane, each with a bounded worker pool."""

    def __init__(
        self, endpoints: list, version: str, lanes=constants.Lane.ALL, transport: oslo_messaging.Transport | None = None
    ):
        """:param endpoints: RPC endpoint objects; :param version: the API version they serve."""
        self.endpoints = endpoints
        self.version = version
        self.lanes = tuple(lanes)
        self._transport = transport
        self.servers: dict[str, LaneServer] = {}

    def start(self) -> None:
        """Declare the lane queues and start consuming (call after fork)."""
        prefetch = bound_prefetch()
        transport = self._transport or rpc_transport.get_transport()
        pool_size = CONF.task_manager.workers_per_lane
        for lane in self.lanes:
            server = oslo_messaging.get_rpc_server(
                transport,
                build_target(lane, self.version),
                self.endpoints,
                serializer=rpc_transport.get_serializer(),
                server_cls=LaneServer,
            )
            server.open_gate(pool_size)
            server.start(override_pool_size=pool_size)
            self.servers[lane] = server
        LOG.info(
            "Consuming task lanes %s (%d workers each, prefetch %s)",
            ", ".join(rpc_client.lane_topic(lane) for lane in self.lanes),
            pool_size,
            prefetch if prefetch else "unlimited",
        )

    def stop(self) -> None:
        """Stop taking new casts; workers already busy carry on."""

        def stop_lane(lane, server):
            try:
                server.close_gate()
                server.stop()
            except Exception:  # noqa: BLE001 - stop every lane even if one fails
                LOG.warning("Stopping lane %s failed", lane, exc_info=True)

        # an idle in-process listener wakes at once rather than at its next poll
        memory_bus.hurry()
        # in parallel: an idle rabbit listener notices a stop only at its next poll (up to ~5 s)
        stoppers = [
            threading.Thread(target=stop_lane, args=item, name=f"rpc-stop-{item[0]}", daemon=True)
            for item in self.servers.items()
        ]
        for t in stoppers:
            t.start()
        for t in stoppers:
            t.join(30)

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the workers to finish and the connections to close.

        :returns: True if every lane finished in time.
        """
        waiters = [
            threading.Thread(target=s.wait, name=f"rpc-wait-{lane}", daemon=True) for lane, s in self.servers.items()
        ]
        for w in waiters:
            w.start()
        deadline = time.monotonic() + timeout
        for w in waiters:
            w.join(max(0.0, deadline - time.monotonic()))
        done = not any(w.is_alive() for w in waiters)
        if done:
            self.servers.clear()
        else:
            LOG.warning("RPC workers did not finish within %g s", timeout)
        return done
