"""The scheduler in one process: SQLite, file:// coordination (election and membership), the fake:// bus."""

import datetime
import uuid

import pytest
import sqlalchemy as sa

from delfin_like import coordination
from delfin_like.common.constants import TaskStatus
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.db.sqlalchemy import engine, models
from delfin_like.db.sqlalchemy.utils import utcnow
from delfin_like.rpc import transport as rpc_transport
from delfin_like.scheduler import service as scheduler_service
from delfin_like.task_manager import manager as tm_manager
from tests.unit.task_manager import fakes


@pytest.fixture
def bus(sqlite_db):
    rpc_transport.register_opts()
    CONF.set_override("transport_url", "fake://")
    CONF.set_override("topic", f"test.{uuid.uuid4().hex[:8]}", group="rpc")
    CONF.set_override("membership_group", f"tm-{uuid.uuid4().hex[:8]}", group="task_manager")
    CONF.set_override("election_group", f"sched-{uuid.uuid4().hex[:8]}", group="scheduler")
    # these tests count sync casts: no periodic alert sync schedules made for their storages
    # (tests/unit/scheduler/test_alert_sync_schedules.py covers those)
    CONF.set_override("interval", 0, group="alert_sync")
    yield
    rpc_transport.cleanup()
    coordination.stop()


@pytest.fixture
def rpcapi(bus):
    return fakes.RecordingTaskAPI()


@pytest.fixture
def schedulers(rpcapi):
    made = []

    def make(elect=True):
        scheduler = scheduler_service.Scheduler(rpcapi, elect=elect, redispatch_interval=3600)
        scheduler.open()
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:
        scheduler.close()


@pytest.fixture
def task_service(bus):
    service = tm_manager.TaskManagerService()
    yield service
    if service.manager is not None:
        service.stop()


def _make_due(storage_id, seconds_ago=1):
    table = models.Schedule.__table__
    with engine.write() as conn:
        conn.execute(
            table.update()
            .where(table.c.storage_id == storage_id)
            .values(next_run_at=utcnow() - datetime.timedelta(seconds=seconds_ago))
        )


def _registered(**kw):
    storage, task = fakes.register_fake_storage(**kw)
    db_api.task_claim(task["id"], "tm-0", 60)
    db_api.task_finish(task["id"], TaskStatus.COMPLETED, owner="tm-0")
    return storage


def test_only_the_leader_acts_and_a_resignation_hands_over(schedulers, rpcapi):
    storage = _registered()
    db_api.sync_policy_set(storage["id"], interval=60)
    leader, follower = schedulers(), schedulers()
    leader.tick()
    follower.tick()
    assert (leader.is_leader, follower.is_leader) == (True, False)
    _make_due(storage["id"])
    follower.tick()
    assert rpcapi.cast_tasks == []  # a follower never fires
    leader.tick()
    [task] = rpcapi.cast_tasks
    assert (task["storage_id"], task["type"], task["status"]) == (storage["id"], "sync", TaskStatus.PENDING)
    leader.close()
    follower.tick()
    assert follower.is_leader
    _make_due(storage["id"])
    follower.tick()
    # the first firing's sync is still PENDING: the second reuses it, nothing new is cast
    assert len(rpcapi.cast_tasks) == 1
    assert db_api.sync_policy_get(storage["id"])["last_task_id"] == task["id"]


def test_due_sync_runs_on_a_task_manager(schedulers, task_service):
    task_service.start()
    storage = _registered(volumes=5)
    db_api.sync_policy_set(storage["id"], interval=60)
    _make_due(storage["id"])
    schedulers(elect=False).tick()
    last = db_api.sync_policy_get(storage["id"])["last_task_id"]
    done = fakes.wait_for_status(last, TaskStatus.FINISHED)
    assert done["status"] == TaskStatus.COMPLETED and done["result"]["volumes"]["added"] == 5


def test_tasks_cast_while_no_task_manager_is_up_run_when_one_joins(schedulers, task_service, rpcapi):
    leader = schedulers()
    leader.tick()  # leads; learns the (empty) membership
    # RabbitMQ drops a cast to a lane no task manager ever declared; here it is simply never made
    _, task = fakes.register_fake_storage(volumes=3)
    leader.tick()
    assert db_api.task_get(task["id"])["status"] == TaskStatus.PENDING
    task_service.start()  # joins the membership group
    before = len(rpcapi.cast_tasks)
    leader.tick()
    assert [t["id"] for t in rpcapi.cast_tasks[before:]] == [task["id"]]  # cast again at the join
    done = fakes.wait_for_status(task["id"], TaskStatus.FINISHED)
    assert done["status"] == TaskStatus.COMPLETED and done["attempts"] == 1
    [record] = db_api.task_manager_list()
    assert record["id"] == task_service.manager.owner and record["stopped_at"] is None
    # a second task manager joining a non-empty group casts nothing again
    casts = len(rpcapi.cast_tasks)
    leader.tick()
    assert len(rpcapi.cast_tasks) == casts


def test_the_redispatch_scan_runs_under_the_leader_and_prunes_records(schedulers, rpcapi):
    CONF.set_override("redispatch_after", 5, group="task_manager")
    _, task = fakes.register_fake_storage()
    table = models.Task.__table__
    with engine.write() as conn:
        conn.execute(
            sa.update(table)
            .where(table.c.id == task["id"])
            .values(updated_at=utcnow() - datetime.timedelta(seconds=10))
        )
    db_api.task_manager_register("old:1:x", "old", 1, ("normal",))
    members = models.TaskManagerRecord.__table__
    with engine.write() as conn:
        conn.execute(members.update().values(last_heartbeat=utcnow() - datetime.timedelta(days=2)))
    scheduler = schedulers()
    scheduler.tick()
    assert [t["id"] for t in rpcapi.cast_tasks] == [task["id"]]
    assert db_api.task_manager_list() == []


def test_stopping_the_service_resigns(bus, schedulers):
    service = scheduler_service.SchedulerService(elect=True)
    CONF.set_override("tick_interval", 0.05, group="scheduler")
    service.start()
    assert fakes.wait_for(lambda: service.scheduler.is_leader, timeout=10)
    other = schedulers()
    other.tick()
    assert not other.is_leader
    service.stop()
    other.tick()
    assert other.is_leader


def test_task_manager_records_its_counters(task_service):
    CONF.set_override("report_interval", 0.5, group="task_manager")
    task_service.start()
    ok = [fakes.register_fake_storage(volumes=2, host=f"10.9.0.{i}")[1] for i in range(2)]
    _, bad = fakes.register_fake_storage(volumes=2, host="10.9.0.9", sync_error="backend_error")
    for task in (*ok, bad):
        task_service.manager.run_task(None, task["id"])
    owner = task_service.manager.owner

    def reported():
        [row] = db_api.task_manager_list()
        return row if (row["tasks_done"], row["tasks_failed"]) == (2, 1) else None

    row = fakes.wait_for(reported, timeout=10)
    assert row and row["id"] == owner and row["lanes"] == ["urgent", "normal", "background"]
    assert row["tasks_running"] == 0 and row["pid"] > 0
    task_service.stop()
    task_service.manager = None
    [row] = db_api.task_manager_list()
    assert row["stopped_at"] is not None and row["tasks_done"] == 2
