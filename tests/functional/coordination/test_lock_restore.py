"""A storage lock whose key the backend lost (a Redis restart without persistence) is put back by its holder."""

import threading
import time
import uuid

import pytest
import redis

from delfin_like import coordination
from delfin_like.common import exception
from delfin_like.conf import CONF

pytestmark = pytest.mark.services


@pytest.fixture
def pair(redis_url):
    CONF.set_override("heartbeat_interval", 0.5, group="coordination")
    a = coordination.Coordinator(redis_url, member_id=f"a-{uuid.uuid4().hex[:6]}").start()
    b = coordination.Coordinator(redis_url, member_id=f"b-{uuid.uuid4().hex[:6]}").start()
    yield a, b
    a.stop()
    b.stop()


def test_holder_restores_a_lost_key_and_keeps_the_lock(pair, redis_url):
    a, b = pair
    storage_id = f"test-{uuid.uuid4().hex[:10]}"
    client = redis.Redis.from_url(redis_url)
    with coordination.storage_lock(storage_id, purpose="sync", coordinator=a) as held:
        [key] = client.keys(f"*storage-{storage_id}*")
        assert held.still_held()
        client.delete(key)  # what a restart of a Redis without persistence does to every lock
        assert not held.still_held()
        deadline = time.monotonic() + 5
        while not client.exists(key) and time.monotonic() < deadline:
            time.sleep(0.05)
        # the holder's heartbeat put it back: the lock is still a's, and b is kept out
        assert held.still_held()
        with pytest.raises(exception.LockUnavailable):
            with coordination.storage_lock(storage_id, purpose="sync", coordinator=b, timeout=0.3):
                pytest.fail("two holders of one storage lock")
    assert not client.exists(key)
    with coordination.storage_lock(storage_id, purpose="sync", coordinator=b, timeout=0.5) as held:
        assert held.still_held()


def test_no_restore_over_a_key_someone_else_holds(pair, redis_url):
    a, b = pair
    storage_id = f"test-{uuid.uuid4().hex[:10]}"
    client = redis.Redis.from_url(redis_url)
    with coordination.storage_lock(storage_id, purpose="sync", coordinator=a) as held:
        [key] = client.keys(f"*storage-{storage_id}*")
        client.set(key, b"someone-else", px=5000)
        assert held.restore() is False
        assert client.get(key) == b"someone-else"
        assert not held.still_held()
    client.delete(key)


def test_a_redis_younger_than_the_lock_timeout_grants_no_lock(redis_url):
    # a lock timeout longer than the server has been up: as seen just after a restart
    young = coordination.Coordinator(f"{redis_url}?lock_timeout=1000000000", member_id="young").start()
    try:
        started = time.monotonic()
        with pytest.raises(exception.LockUnavailable):
            with coordination.storage_lock(
                f"test-{uuid.uuid4().hex[:10]}", purpose="sync", coordinator=young, timeout=0.5
            ):
                pytest.fail("a lock granted while a holder from before the restart may still restore its key")
        assert 0.4 <= time.monotonic() - started < 3
    finally:
        young.stop()


def test_a_released_lock_is_never_restored(redis_url):
    """The heartbeat's restore racing the holder's release must not put the key back after it."""
    coord = coordination.Coordinator(redis_url, member_id=f"r-{uuid.uuid4().hex[:6]}").start()
    client = redis.Redis.from_url(redis_url)
    try:
        for _ in range(100):
            storage_id = f"test-{uuid.uuid4().hex[:10]}"
            stop = threading.Event()
            with coordination.storage_lock(storage_id, purpose="sync", coordinator=coord) as held:
                [key] = client.keys(f"*storage-{storage_id}*")

                def restore_loop(held=held, stop=stop):
                    # what the heartbeat does, as often as it can, while the lock is released
                    while not stop.is_set():
                        held.restore()

                racer = threading.Thread(target=restore_loop, daemon=True)
                racer.start()
            stop.set()
            racer.join(5)
            assert not client.exists(key), "a released lock was restored: nobody can take it until it expires"
    finally:
        coord.stop()
