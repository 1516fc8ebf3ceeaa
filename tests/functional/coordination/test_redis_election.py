"""Leader election and task manager membership on the real Redis."""

import time
import uuid

import pytest

from delfin_like import coordination

pytestmark = pytest.mark.services


@pytest.fixture
def group():
    return f"sched-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def coordinators(redis_url):
    started = []

    def make(lock_timeout=3, heartbeat=1.0):
        url = coordination.with_lock_timeout(redis_url, lock_timeout)
        coord = coordination.Coordinator(
            url, member_id=f"m-{uuid.uuid4().hex[:8]}", heartbeat_interval=heartbeat
        ).start()
        started.append(coord)
        return coord

    yield make
    for coord in started:
        coord.stop()


def test_lock_timeout_goes_into_the_url_unless_set():
    assert coordination.with_lock_timeout("redis://h:6379", 5) == "redis://h:6379?lock_timeout=5"
    assert coordination.with_lock_timeout("redis://h:6379?db=2", 5) == "redis://h:6379?db=2&lock_timeout=5"
    assert coordination.with_lock_timeout("redis://h?lock_timeout=9", 5) == "redis://h?lock_timeout=9"


def test_one_leader_and_a_resignation_hands_over_at_once(coordinators, group):
    a = coordination.LeaderElection(coordinators(), group)
    b = coordination.LeaderElection(coordinators(), group)
    assert a.campaign() is True
    assert b.campaign() is False
    # the heartbeat keeps the lead well past the lock timeout
    time.sleep(4)
    assert a.campaign() is True and b.campaign() is False
    a.resign()
    assert b.campaign() is True
    assert a.campaign() is False


def test_a_dead_leader_is_replaced_within_the_lock_timeout(coordinators, group):
    dying = coordinators(lock_timeout=2)
    a = coordination.LeaderElection(dying, group)
    b = coordination.LeaderElection(coordinators(lock_timeout=2), group)
    assert a.campaign()
    dying._stop.set()  # its heart stops, as in a process that froze or died
    dying._heart.join(5)
    started = time.monotonic()
    while not b.campaign():
        assert time.monotonic() - started < 2 + 2, "the follower did not take over within the lock timeout"
        time.sleep(0.1)
    # the old leader, if it ever comes back, sees it lost the lock and steps down
    assert a.campaign() is False and not a.is_leader


def test_membership_of_task_managers(coordinators):
    name = f"tm-{uuid.uuid4().hex[:10]}"
    tm, scheduler = coordinators(), coordinators()
    assert coordination.group_members(scheduler, name) == set()
    coordination.join_group(tm, name, {"id": "host:1:abc", "lanes": ["urgent"]})
    coordination.join_group(tm, name, {"id": "host:1:abc", "lanes": ["urgent"]})  # idempotent
    assert coordination.group_members(scheduler, name) == {tm.member_id}
    coordination.leave_group(tm, name)
    assert coordination.group_members(scheduler, name) == set()
