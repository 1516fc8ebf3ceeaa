"""The oslo.messaging transport of this process and the request-context serializer.

``transport_url`` decides the bus: ``rabbit://...`` between processes,
``kombu+delfin-memory:////`` (the default of the all-in-one, see
:mod:`delfin_like.rpc.memory_bus`), ``kombu+memory:////`` or ``fake://`` inside
one process (the all-in-one and unit tests). One transport is shared by every client and server of the
process, because the ``fake://`` driver's queues live in the transport object.
Create it after fork (in ``Service.start()``), never at import time. The
package ``__init__`` has already selected oslo.service's threading backend.
"""

import threading

import oslo_messaging
import oslo_messaging.opts
from oslo_context import context as oslo_context
from oslo_log import log as logging
from oslo_serialization import jsonutils

from delfin_like.conf import CONF
from delfin_like.rpc import memory_bus

LOG = logging.getLogger(__name__)

# the transports that never leave the process (the all-in-one, unit tests)
IN_PROCESS_SCHEMES = (memory_bus.SCHEME, "kombu+memory", "fake")
# kombu's own memory transport makes idle listeners spin: ours blocks
IN_PROCESS_DEFAULT_URL = f"{memory_bus.SCHEME}:////"

_lock = threading.Lock()
_transport: oslo_messaging.Transport | None = None
_transport_url: str | None = None

# context fields never put on the bus (a token is a secret)
_CONTEXT_DROP = ("auth_token",)


class RequestContextSerializer(oslo_messaging.Serializer):
    """Sends a RequestContext as a plain dict and payloads as JSON primitives."""

    def serialize_entity(self, ctxt, entity):
        return jsonutils.to_primitive(entity, convert_instances=True)

    def deserialize_entity(self, ctxt, entity):
        return entity

    def serialize_context(self, ctxt):
        """RequestContext (or dict or None) -> JSON-able dict without secrets."""
        if ctxt is None:
            return {}
        data = dict(ctxt) if isinstance(ctxt, dict) else ctxt.to_dict()
        for key in _CONTEXT_DROP:
            data.pop(key, None)
        return data

    def deserialize_context(self, ctxt):
        """dict -> oslo_context RequestContext."""
        return oslo_context.RequestContext.from_dict(ctxt or {})


def is_in_process(url: str | None) -> bool:
    """True for transports that do not leave the process."""
    scheme = (url or "").split(":", 1)[0]
    return scheme in IN_PROCESS_SCHEMES


def register_opts() -> None:
    """Register oslo.messaging's options now (the first transport would do it later)."""
    for group, opts in oslo_messaging.opts.list_opts():
        CONF.register_opts(opts, group=group)


def use_in_process_defaults() -> None:
    """Default ``transport_url`` to the in-process bus (the all-in-one); a config file still wins.

    The in-memory kombu transports run the rabbit driver, whose heartbeat thread
    has no broker to talk to: heartbeats are off unless configured.
    """
    register_opts()
    CONF.set_default("transport_url", IN_PROCESS_DEFAULT_URL)
    if is_in_process(CONF.transport_url):
        CONF.set_default("heartbeat_timeout_threshold", 0, group="oslo_messaging_rabbit")


def get_transport() -> oslo_messaging.Transport:
    """The process-wide RPC transport for ``CONF.transport_url`` (created on first use).

    A changed ``transport_url`` (tests) gets a new transport; the old one is cleaned up.
    """
    global _transport, _transport_url
    url = CONF.transport_url
    with _lock:
        if _transport is not None and _transport_url == url:
            return _transport
        if _transport is not None:
            memory_bus.hurry()
            _transport.cleanup()
        memory_bus.register()
        _transport = oslo_messaging.get_rpc_transport(CONF)
        _transport_url = url
        LOG.debug("RPC transport created (%s)", (url or "").split(":", 1)[0] or "default")
        return _transport


def cleanup() -> None:
    """Close the process-wide transport (service stop, tests)."""
    global _transport, _transport_url
    with _lock:
        if _transport is not None:
            # its reply listener notices the stop at once, not at its next poll
            memory_bus.hurry()
            _transport.cleanup()
        _transport = None
        _transport_url = None


def get_serializer() -> RequestContextSerializer:
    return RequestContextSerializer()
