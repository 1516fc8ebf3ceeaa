"""The blocking in-process transport: idle listeners cost no CPU, a call still answers at once."""

import os
import threading
import time
import uuid

import oslo_messaging
import pytest

from delfin_like.conf import CONF
from delfin_like.rpc import memory_bus
from delfin_like.rpc import transport as rpc_transport

CALLS = 20


class EchoEndpoint:
    target = oslo_messaging.Target(version="1.0")

    def echo(self, context, value):
        return value


@pytest.fixture
def memory_server():
    """An RPC server on the default in-process bus, and a client of it."""
    rpc_transport.register_opts()
    CONF.set_override("transport_url", rpc_transport.IN_PROCESS_DEFAULT_URL)
    CONF.set_override("heartbeat_timeout_threshold", 0, group="oslo_messaging_rabbit")
    transport = rpc_transport.get_transport()
    topic = f"test.bus.{uuid.uuid4().hex[:8]}"
    server = oslo_messaging.get_rpc_server(transport, oslo_messaging.Target(topic=topic, server="s1"), [EchoEndpoint()])
    server.start()
    client = oslo_messaging.get_rpc_client(transport, oslo_messaging.Target(topic=topic, version="1.0"), timeout=10)
    yield server, client
    memory_bus.hurry()
    server.stop()
    server.wait()
    rpc_transport.cleanup()


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def test_default_in_process_url_is_the_blocking_bus():
    assert rpc_transport.IN_PROCESS_DEFAULT_URL.startswith(memory_bus.SCHEME + ":")
    assert rpc_transport.is_in_process(rpc_transport.IN_PROCESS_DEFAULT_URL)


def test_calls_answer_without_waiting_for_a_poll(memory_server):
    _server, client = memory_server
    assert client.call({}, "echo", value="first") == "first"  # creates the reply queue
    started = time.monotonic()
    for i in range(CALLS):
        assert client.call({}, "echo", value=i) == i
    # a listener woken only by its poll timeout (1 s) would need CALLS seconds or more
    assert time.monotonic() - started < CALLS * 0.25


def test_idle_listeners_do_not_spin(memory_server):
    _server, client = memory_server
    assert client.call({}, "echo", value=1) == 1  # the reply listener exists too
    # kombu's memory:// transport spins here: a core per listener thread
    idle = threading.Event()
    before = _cpu_seconds()
    idle.wait(3.0)
    used = _cpu_seconds() - before
    assert used < 0.15, f"{used:.2f} CPU-seconds in 3 idle seconds"


def test_hurry_makes_a_stopping_server_stop_at_once(memory_server):
    server, _client = memory_server
    memory_bus.hurry()
    started = time.monotonic()
    server.stop()
    # without the hurry an idle listener notices the stop only at its next poll
    assert time.monotonic() - started < memory_bus.HURRY_WINDOW
