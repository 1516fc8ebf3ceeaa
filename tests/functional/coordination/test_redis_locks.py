"""storage_lock on the real Redis: two task managers (coordinators) never hold one storage at once."""

import threading
import time
import uuid

import pytest

from delfin_like import coordination
from delfin_like.common import exception
from delfin_like.conf import CONF

pytestmark = pytest.mark.services


@pytest.fixture
def storage_id():
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def pair(redis_url):
    a = coordination.Coordinator(redis_url, member_id=f"a-{uuid.uuid4().hex[:6]}").start()
    b = coordination.Coordinator(redis_url, member_id=f"b-{uuid.uuid4().hex[:6]}").start()
    yield a, b
    a.stop()
    b.stop()


def test_second_holder_is_excluded_and_times_out(pair, storage_id):
    a, b = pair
    with coordination.storage_lock(storage_id, purpose="sync", coordinator=a):
        started = time.monotonic()
        with pytest.raises(exception.LockUnavailable) as err:
            with coordination.storage_lock(storage_id, purpose="sync", coordinator=b, timeout=0.5):
                pytest.fail("two holders of one storage lock")
        assert 0.3 <= time.monotonic() - started < 5  # redis-py polls every 0.1 s
        assert f"storage-{storage_id}" in err.value.msg
    with coordination.storage_lock(storage_id, purpose="sync", coordinator=b, timeout=0.5):
        pass


def test_waiter_enters_after_the_holder_leaves(pair, storage_id):
    a, b = pair
    inside = []
    held = threading.Event()

    def holder():
        with coordination.storage_lock(storage_id, purpose="remove", coordinator=a):
            inside.append("a")
            held.set()
            time.sleep(0.5)
            inside.append("a-out")

    t = threading.Thread(target=holder)
    t.start()
    assert held.wait(5)
    with coordination.storage_lock(storage_id, purpose="sync", coordinator=b, timeout=5):
        inside.append("b")
    t.join(5)
    assert inside == ["a", "a-out", "b"]


def test_heartbeat_keeps_a_long_held_lock(redis_url, storage_id):
    # Redis expires a lock after lock_timeout unless the holder's heartbeat renews it
    CONF.set_override("heartbeat_interval", 0.5, group="coordination")
    url = f"{redis_url}?lock_timeout=2"
    a = coordination.Coordinator(url, member_id="long-holder").start()
    b = coordination.Coordinator(url, member_id="waiter").start()
    try:
        with coordination.storage_lock(storage_id, purpose="sync", coordinator=a):
            time.sleep(3)
            with pytest.raises(exception.LockUnavailable):
                with coordination.storage_lock(storage_id, purpose="sync", coordinator=b, timeout=0.5):
                    pytest.fail("lock expired while held")
    finally:
        a.stop()
        b.stop()


def test_process_coordinator_uses_the_configured_redis(redis_url, storage_id):
    CONF.set_override("backend_url", redis_url, group="coordination")
    try:
        with coordination.storage_lock(storage_id, purpose="sync"):
            assert coordination.get_coordinator().url == redis_url
    finally:
        coordination.stop()


def test_dead_redis_fails_fast_with_coordination_unavailable():
    CONF.set_override("backend_url", "redis://127.0.0.1:1", group="coordination")
    started = time.monotonic()
    with pytest.raises(exception.CoordinationUnavailable):
        with coordination.storage_lock("x", purpose="sync"):
            pass
    assert time.monotonic() - started < 5
