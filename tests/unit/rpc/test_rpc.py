"""TaskAPI and LaneServers over the in-process transports: versions, lanes, context, errors."""

import threading
import time

import oslo_messaging
import pytest
from oslo_context import context as oslo_context

from delfin_like.common import constants, exception
from delfin_like.conf import CONF
from delfin_like.rpc import client as rpc_client
from delfin_like.rpc import server as rpc_server
from delfin_like.rpc import transport as rpc_transport
from delfin_like.task_manager import endpoints


class RecordingEndpoint:
    target = oslo_messaging.Target(version=endpoints.RPC_API_VERSION)

    def __init__(self):
        self.calls: list[tuple[object, str]] = []
        self.event = threading.Event()

    def run_task(self, context, task_id):
        self.calls.append((context, task_id))
        self.event.set()


def _wait(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.02)
    return predicate()


def test_client_and_server_versions_agree():
    assert rpc_client.TaskAPI.RPC_API_VERSION == endpoints.RPC_API_VERSION
    assert endpoints.TaskManagerEndpoint.target.version == rpc_client.TaskAPI.RPC_API_VERSION
    target = rpc_server.build_target(constants.Lane.URGENT, endpoints.RPC_API_VERSION)
    assert target.version == rpc_client.TaskAPI.RPC_API_VERSION


def test_lane_topics_follow_the_configured_prefix():
    CONF.set_override("topic", "prefix.x", group="rpc")
    assert rpc_client.lane_topic("urgent") == "prefix.x.urgent"
    assert [rpc_client.lane_topic(lane) for lane in constants.Lane.ALL] == [
        "prefix.x.urgent",
        "prefix.x.normal",
        "prefix.x.background",
    ]
    with pytest.raises(ValueError):
        rpc_client.lane_topic("whenever")


def test_cast_reaches_the_lane_server_with_the_context(bus):
    endpoint = RecordingEndpoint()
    servers = rpc_server.LaneServers([endpoint], endpoints.RPC_API_VERSION)
    servers.start()
    try:
        ctxt = oslo_context.RequestContext(request_id="req-42", auth_token="very-secret")
        rpc_client.TaskAPI().run_task(ctxt, {"id": "task-1", "priority": "urgent"})
        assert endpoint.event.wait(5)
    finally:
        servers.stop()
        assert servers.wait(5)
    ((received, task_id),) = endpoint.calls
    assert task_id == "task-1"
    assert received.request_id == "req-42"
    assert received.auth_token is None  # secrets never travel on the bus


def test_each_lane_is_its_own_topic(bus):
    urgent, background = RecordingEndpoint(), RecordingEndpoint()
    s1 = rpc_server.LaneServers([urgent], endpoints.RPC_API_VERSION, lanes=["urgent"])
    s2 = rpc_server.LaneServers([background], endpoints.RPC_API_VERSION, lanes=["background"])
    s1.start()
    s2.start()
    try:
        api = rpc_client.TaskAPI()
        api.run_task(None, {"id": "b1", "priority": "background"})
        api.run_task(None, {"id": "u1", "priority": "urgent"})
        assert _wait(lambda: urgent.calls and background.calls)
    finally:
        for s in (s1, s2):
            s.stop()
            s.wait(5)
    assert [c[1] for c in urgent.calls] == ["u1"]
    assert [c[1] for c in background.calls] == ["b1"]


def test_each_lane_has_a_bounded_worker_pool(bus):
    CONF.set_override("workers_per_lane", 2, group="task_manager")
    active, peak, release = [0], [0], threading.Event()
    lock = threading.Lock()

    class Slow(RecordingEndpoint):
        def run_task(self, context, task_id):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            release.wait(5)
            with lock:
                active[0] -= 1
            super().run_task(context, task_id)

    endpoint = Slow()
    servers = rpc_server.LaneServers([endpoint], endpoints.RPC_API_VERSION, lanes=["normal"])
    servers.start()
    try:
        api = rpc_client.TaskAPI()
        for i in range(5):
            api.run_task(None, {"id": f"t{i}", "priority": "normal"})
        assert _wait(lambda: active[0] == 2)
        time.sleep(0.3)
        assert peak[0] == 2
        release.set()
        assert _wait(lambda: len(endpoint.calls) == 5)
    finally:
        release.set()
        servers.stop()
        servers.wait(5)


def test_a_busy_lane_server_leaves_the_backlog_to_another(bus):
    CONF.set_override("workers_per_lane", 2, group="task_manager")
    release = threading.Event()

    class Blocking(RecordingEndpoint):
        def run_task(self, context, task_id):
            super().run_task(context, task_id)
            release.wait(10)

    busy, idle = Blocking(), RecordingEndpoint()
    first = rpc_server.LaneServers([busy], endpoints.RPC_API_VERSION, lanes=["normal"])
    second = rpc_server.LaneServers([idle], endpoints.RPC_API_VERSION, lanes=["normal"])
    first.start()
    try:
        api = rpc_client.TaskAPI()
        for i in range(5):
            api.run_task(None, {"id": f"t{i}", "priority": "normal"})
        assert _wait(lambda: len(busy.calls) == 2)
        time.sleep(0.3)
        # both workers busy: the other three casts were not taken
        assert first.servers["normal"].in_flight == 2
        second.start()
        assert _wait(lambda: len(idle.calls) == 3)
        assert len(busy.calls) == 2
    finally:
        release.set()
        for servers in (first, second):
            servers.stop()
            servers.wait(5)
    assert sorted(c[1] for c in busy.calls + idle.calls) == [f"t{i}" for i in range(5)]


def test_stop_is_not_held_up_by_a_listener_waiting_for_a_free_worker(bus):
    CONF.set_override("workers_per_lane", 1, group="task_manager")
    release = threading.Event()

    class Blocking(RecordingEndpoint):
        def run_task(self, context, task_id):
            super().run_task(context, task_id)
            release.wait(10)

    endpoint = Blocking()
    servers = rpc_server.LaneServers([endpoint], endpoints.RPC_API_VERSION, lanes=["urgent"])
    servers.start()
    try:
        api = rpc_client.TaskAPI()
        for i in range(3):
            api.run_task(None, {"id": f"t{i}", "priority": "urgent"})
        assert _wait(lambda: len(endpoint.calls) == 1)
        started = time.monotonic()
        servers.stop()
        # the worker is still busy: stopping did not wait for it
        assert time.monotonic() - started < 8
        assert len(endpoint.calls) == 1
    finally:
        release.set()
        servers.wait(10)


def test_prefetch_defaults_to_one_unless_configured():
    rpc_transport.register_opts()
    assert rpc_server.bound_prefetch() == rpc_server.PREFETCH_PER_LANE == 1
    CONF.set_override("rabbit_qos_prefetch_count", 0, group="oslo_messaging_rabbit")
    # an operator's explicit 0 (unlimited) is kept
    assert rpc_server.bound_prefetch() == 0
    CONF.clear_override("rabbit_qos_prefetch_count", group="oslo_messaging_rabbit")
    CONF.set_default("rabbit_qos_prefetch_count", 0, group="oslo_messaging_rabbit")


def test_dead_broker_raises_message_bus_unavailable_quickly():
    rpc_transport.register_opts()
    CONF.set_override("transport_url", "rabbit://guest:guest@127.0.0.1:1/")
    CONF.set_override("cast_retry", 0, group="rpc")
    started = time.monotonic()
    try:
        with pytest.raises(exception.MessageBusUnavailable):
            rpc_client.TaskAPI().run_task(None, {"id": "t", "priority": "normal"})
    finally:
        rpc_transport.cleanup()
    assert time.monotonic() - started < 10


def test_serializer_round_trip_drops_secrets():
    serializer = rpc_transport.RequestContextSerializer()
    ctxt = oslo_context.RequestContext(request_id="req-1", user_id="u1", auth_token="tok")
    wire = serializer.serialize_context(ctxt)
    assert "auth_token" not in wire and wire["request_id"] == "req-1"
    back = serializer.deserialize_context(wire)
    assert (back.request_id, back.user_id) == ("req-1", "u1")
    assert serializer.serialize_context(None) == {}
    assert serializer.serialize_entity(None, {"a": (1, 2)}) == {"a": [1, 2]}


def test_in_process_defaults_only_fill_unset_options():
    rpc_transport.use_in_process_defaults()
    assert CONF.transport_url == "kombu+delfin-memory:////"
    assert CONF.oslo_messaging_rabbit.heartbeat_timeout_threshold == 0
    CONF.set_override("transport_url", "rabbit://guest:guest@127.0.0.1:5672/")
    assert not rpc_transport.is_in_process(CONF.transport_url)
    assert rpc_transport.is_in_process("fake://")


def test_transport_is_shared_and_replaced_when_the_url_changes(bus):
    first = rpc_transport.get_transport()
    assert rpc_transport.get_transport() is first
    CONF.set_override("transport_url", "fake:///other")
    assert rpc_transport.get_transport() is not first
