"""RPC servers of the task manager: one per priority lane.

Each lane is its own topic (``<[rpc] topic>.<lane>``) and its own server,
started with ``override_pool_size=[task_manager] workers_per_lane`` so every
lane has its own bounded worker pool: a backlog of background syncs can never
take the threads an urgent one needs. (oslo.messaging's
``executor_thread_pool_size`` is only the default of that size.)

Casts are acknowledged when a worker picks them up, so unless the operator
set ``[oslo_messaging_rabbit] rabbit_qos_prefetch_count``, it is bounded to
the lane's pool size: the rest of a backlog stays on the broker for other
task managers instead of sitting in this process's memory.
"""

import threading
import time

import oslo_messaging
from oslo_config import cfg
from oslo_log import log as logging

from delfin_like.common import constants
from delfin_like.conf import CONF
from delfin_like.rpc import client as rpc_client
from delfin_like.rpc import transport as rpc_transport

LOG = logging.getLogger(__name__)


def _bound_prefetch(count: int) -> None:
    """Default the rabbit prefetch to ``count`` unless configured (the rabbit opts exist now)."""
    try:
        if CONF.oslo_messaging_rabbit.rabbit_qos_prefetch_count == 0:
            CONF.set_default("rabbit_qos_prefetch_count", count, group="oslo_messaging_rabbit")
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        pass  # not a rabbit-driver transport (fake://)


def build_target(lane: str, version: str) -> oslo_messaging.Target:
    """The server Target of ``lane``; ``version`` must equal the client's."""
    return oslo_messaging.Target(topic=rpc_client.lane_topic(lane), server=CONF.host, version=version)


class LaneServers:
    """One oslo.messaging RPC server per lane, each with a bounded worker pool."""

    def __init__(self, endpoints: list, version: str, lanes=constants.Lane.ALL,
                 transport: oslo_messaging.Transport | None = None):
        """:param endpoints: RPC endpoint objects; :param version: the API version they serve."""
        self.endpoints = endpoints
        self.version = version
        self.lanes = tuple(lanes)
        self._transport = transport
        self.servers: dict[str, oslo_messaging.MessageHandlingServer] = {}

    def start(self) -> None:
        """Declare the lane queues and start consuming (call after fork)."""
        transport = self._transport or rpc_transport.get_transport()
        pool_size = CONF.task_manager.workers_per_lane
        _bound_prefetch(pool_size)
        for lane in self.lanes:
            server = oslo_messaging.get_rpc_server(
                transport, build_target(lane, self.version), self.endpoints,
                serializer=rpc_transport.get_serializer(),
            )
            server.start(override_pool_size=pool_size)
            self.servers[lane] = server
        LOG.info("Consuming task lanes %s (%d workers each)",
                 ", ".join(rpc_client.lane_topic(lane) for lane in self.lanes), pool_size)

    def stop(self) -> None:
        """Stop taking new casts; workers already busy carry on."""

        def stop_lane(lane, server):
            try:
                server.stop()
            except Exception:  # noqa: BLE001 - stop every lane even if one fails
                LOG.warning("Stopping lane %s failed", lane, exc_info=True)

        # in parallel: an idle rabbit listener notices a stop only at its next poll (up to ~5 s)
        stoppers = [threading.Thread(target=stop_lane, args=item, name=f"rpc-stop-{item[0]}", daemon=True)
                    for item in self.servers.items()]
        for t in stoppers:
            t.start()
        for t in stoppers:
            t.join(30)

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the workers to finish and the connections to close.

        :returns: True if every lane finished in time.
        """
        waiters = [threading.Thread(target=s.wait, name=f"rpc-wait-{lane}", daemon=True)
                   for lane, s in self.servers.items()]
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
