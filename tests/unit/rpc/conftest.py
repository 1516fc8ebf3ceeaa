"""Fixtures of the RPC unit tests: the in-process transports, a unique topic per test."""

import uuid

import pytest

from delfin_like.conf import CONF
from delfin_like.rpc import transport as rpc_transport


@pytest.fixture(params=["fake://", rpc_transport.IN_PROCESS_DEFAULT_URL])
def bus(request):
    """Each test runs on both in-process transports, under a unique topic prefix."""
    rpc_transport.register_opts()
    CONF.set_override("transport_url", request.param)
    CONF.set_override("heartbeat_timeout_threshold", 0, group="oslo_messaging_rabbit")
    CONF.set_override("topic", f"test.{uuid.uuid4().hex[:8]}", group="rpc")
    yield request.param
    rpc_transport.cleanup()
