"""The scheduler leader prunes on its retention interval; a follower never does; the all-in-one does."""

import uuid

import pytest

from delfin_like import coordination
from delfin_like.conf import CONF
from delfin_like.rpc import transport as rpc_transport
from delfin_like.scheduler import service as scheduler_service
from tests import retention_helpers as rh
from tests.unit.task_manager import fakes


@pytest.fixture
def schedulers(sqlite_db):
    rpc_transport.register_opts()
    CONF.set_override("transport_url", "fake://")
    CONF.set_override("topic", f"test.{uuid.uuid4().hex[:8]}", group="rpc")
    CONF.set_override("membership_group", f"tm-{uuid.uuid4().hex[:8]}", group="task_manager")
    CONF.set_override("election_group", f"sched-{uuid.uuid4().hex[:8]}", group="scheduler")
    CONF.set_override("interval", 3600, group="retention")
    CONF.set_override("interval", 0, group="alert_sync")  # no alert sync schedules: casts are counted
    made = []

    def make(elect=True):
        scheduler = scheduler_service.Scheduler(fakes.RecordingTaskAPI(), elect=elect, redispatch_interval=3600)
        scheduler.open()
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:
        scheduler.close()
    rpc_transport.cleanup()
    coordination.stop()


def test_only_the_leader_prunes_and_a_new_leader_prunes_at_once(schedulers):
    sid = rh.storage()
    keep = rh.task(sid, finished=rh.ago(days=1))
    rh.task(sid, finished=rh.ago(days=30))
    leader, follower = schedulers(), schedulers()
    leader.tick()
    follower.tick()
    assert (leader.is_leader, follower.is_leader) == (True, False)
    assert leader.retention.wait(10)
    assert follower.retention.last_counts is None  # a follower never runs retention
    assert leader.retention.last_counts["tasks_by_age"] == 1
    assert rh.task_ids() == {keep}

    # within the interval the leader does not run again
    rh.task(sid, finished=rh.ago(days=30))
    leader.tick()
    assert leader.retention.wait(10) and len(rh.task_ids()) == 2

    # the follower that takes over prunes at its first tick as leader
    leader.close()
    follower.tick()
    assert follower.is_leader
    assert follower.retention.wait(10)
    assert follower.retention.last_counts["tasks_by_age"] == 1
    assert rh.task_ids() == {keep}


def test_the_all_in_one_scheduler_prunes_without_an_election(schedulers):
    sid = rh.storage()
    rh.tasks(sid, 5, start=rh.ago(days=30))
    scheduler = schedulers(elect=False)
    scheduler.tick()
    assert scheduler.retention.wait(10)
    assert rh.task_ids() == set()
