"""storage_lock on the file backend (the all-in-one default): exclusion, bounded wait, errors."""

import threading
import time

import pytest

from delfin_like import coordination
from delfin_like.common import exception
from delfin_like.conf import CONF


@pytest.fixture
def two_coordinators():
    a = coordination.Coordinator(member_id="a").start()
    b = coordination.Coordinator(member_id="b").start()
    yield a, b
    a.stop()
    b.stop()
    coordination.stop()


def test_default_backend_is_file_locks_under_state_path():
    url = coordination.backend_url()
    assert url == f"file://{CONF.state_path}/locks"
    CONF.set_override("backend_url", "redis://127.0.0.1:6379", group="coordination")
    assert coordination.backend_url() == "redis://127.0.0.1:6379"


def test_lock_excludes_a_second_holder_and_times_out(two_coordinators):
    a, b = two_coordinators
    with coordination.storage_lock("s1", purpose="sync", coordinator=a):
        started = time.monotonic()
        with pytest.raises(exception.LockUnavailable) as err:
            with coordination.storage_lock("s1", purpose="sync", coordinator=b, timeout=0.3):
                pytest.fail("two holders of one storage lock")
        waited = time.monotonic() - started
        assert 0.25 <= waited < 3
        assert "storage-s1" in err.value.msg and "0.3" in err.value.msg
        # another storage is not blocked
        with coordination.storage_lock("s2", purpose="sync", coordinator=b, timeout=0.3):
            pass
    with coordination.storage_lock("s1", purpose="sync", coordinator=b, timeout=0.3):
        pass


def test_waiter_gets_the_lock_when_the_holder_releases(two_coordinators):
    a, b = two_coordinators
    order = []
    held = threading.Event()

    def holder():
        with coordination.storage_lock("s1", purpose="remove", coordinator=a):
            held.set()
            time.sleep(0.3)
            order.append("holder done")

    t = threading.Thread(target=holder)
    t.start()
    held.wait(5)
    with coordination.storage_lock("s1", purpose="sync", coordinator=b, timeout=5):
        order.append("waiter in")
    t.join(5)
    assert order == ["holder done", "waiter in"]


def test_lock_is_released_when_the_body_raises(two_coordinators):
    a, b = two_coordinators
    with pytest.raises(RuntimeError):
        with coordination.storage_lock("s1", purpose="sync", coordinator=a):
            raise RuntimeError("job failed")
    with coordination.storage_lock("s1", purpose="sync", coordinator=b, timeout=0.2):
        pass


def test_threads_of_one_process_exclude_each_other():
    CONF.set_override("lock_wait_timeout", 0.2, group="coordination")
    try:
        with coordination.storage_lock("s1", purpose="sync"):
            box = {}

            def other():
                try:
                    with coordination.storage_lock("s1", purpose="sync"):
                        box["got"] = True
                except exception.LockUnavailable:
                    box["got"] = False

            t = threading.Thread(target=other)
            t.start()
            t.join(5)
            assert box == {"got": False}
    finally:
        coordination.stop()


def test_unreachable_backend_raises_coordination_unavailable():
    CONF.set_override("backend_url", "redis://127.0.0.1:1?socket_timeout=1", group="coordination")
    started = time.monotonic()
    with pytest.raises(exception.CoordinationUnavailable):
        with coordination.storage_lock("s1", purpose="sync"):
            pytest.fail("locked without a backend")
    assert time.monotonic() - started < 10


def test_stopped_coordinator_gives_coordination_unavailable():
    c = coordination.Coordinator(member_id="c").start()
    c.stop()
    with pytest.raises(exception.CoordinationUnavailable):
        with coordination.storage_lock("s1", purpose="sync", coordinator=c):
            pass
