"""Client side of the task manager RPC API: the API's only way to start work."""

import threading

import kombu.exceptions
import oslo_messaging
from oslo_log import log as logging

from delfin_like import deployment
from delfin_like.common import constants, exception
from delfin_like.conf import CONF
from delfin_like.rpc import transport as rpc_transport

LOG = logging.getLogger(__name__)

# what a cast raises when the broker is down or refuses us
_BUS_ERRORS = (
    oslo_messaging.MessagingException,
    kombu.exceptions.KombuError,
    ConnectionError,
    OSError,
)


def lane_topic(lane: str) -> str:
    """The RPC topic of a priority lane, e.g. ``delfin_like.default.task.urgent``."""
    if lane not in constants.Lane.ALL:
        raise ValueError(f"unknown lane {lane!r}")
    return f"{deployment.rpc_topic()}.{lane}"


class TaskAPI:
    """Casts tasks to the task managers, one topic per priority lane.

    API version history:

    * 1.0 - Initial version: ``run_task(task_id)``.
    """

    RPC_API_VERSION = "1.0"

    def __init__(self, transport: oslo_messaging.Transport | None = None):
        """:param transport: a transport to use; default: the process-wide one."""
        self._transport = transport
        self._clients: dict[tuple[int, str, str], oslo_messaging.RPCClient] = {}
        self._lock = threading.Lock()

    def _client(self, topic: str) -> oslo_messaging.RPCClient:
        transport = self._transport or rpc_transport.get_transport()
        exchange = deployment.rpc_exchange()
        key = (id(transport), exchange, topic)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                target = oslo_messaging.Target(exchange=exchange, topic=topic, version=self.RPC_API_VERSION)
                client = oslo_messaging.get_rpc_client(transport, target, serializer=rpc_transport.get_serializer())
                self._clients[key] = client
            return client

    def run_task(self, context, task: dict) -> None:
        """Cast ``run_task(task_id)`` to the lane ``task['priority']``.

        :param context: the request context (RequestContext, dict or None).
        :param task: a task dict as returned by ``db.api`` (``id`` and ``priority`` used).
        :raises MessageBusUnavailable: the broker could not be reached within
            ``[rpc] cast_retry`` retries.
        """
        topic = lane_topic(task["priority"])
        try:
            # a bounded retry so a dead broker answers 503 instead of hanging the request
            cctxt = self._client(topic).prepare(version="1.0", retry=CONF.rpc.cast_retry)
            cctxt.cast(context, "run_task", task_id=task["id"])
        except _BUS_ERRORS as e:
            LOG.warning("Cast of task %s to %s failed: %s", task["id"], topic, e)
            raise exception.MessageBusUnavailable() from e
        LOG.debug("Cast task %s (%s) to %s", task["id"], task.get("type"), topic)
