"""TaskManagerService and the re-dispatch scan end to end in one process (fake:// and kombu+delfin-memory)."""

import datetime
import uuid

import pytest
import sqlalchemy as sa

from delfin_like.common.constants import TaskStatus
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.db.sqlalchemy import api as db_impl
from delfin_like.db.sqlalchemy.utils import utcnow
from delfin_like.rpc import client as rpc_client
from delfin_like.rpc import transport as rpc_transport
from delfin_like.scheduler import service as scheduler_service
from delfin_like.task_manager import manager as tm_manager
from tests.unit.task_manager import fakes


@pytest.fixture(params=["fake://", rpc_transport.IN_PROCESS_DEFAULT_URL])
def bus(request, sqlite_db, locks):
    rpc_transport.register_opts()
    CONF.set_override("transport_url", request.param)
    CONF.set_override("heartbeat_timeout_threshold", 0, group="oslo_messaging_rabbit")
    CONF.set_override("topic", f"test.{uuid.uuid4().hex[:8]}", group="rpc")
    yield request.param
    rpc_transport.cleanup()


@pytest.fixture
def task_service(bus):
    service = tm_manager.TaskManagerService()
    service.start()
    yield service
    service.stop()


def test_cast_sync_runs_in_the_service(task_service):
    storage, task = fakes.register_fake_storage(pools=2, volumes=7)
    rpc_client.TaskAPI().run_task(None, task)
    done = fakes.wait_for_status(task["id"], TaskStatus.FINISHED)
    assert done["status"] == TaskStatus.COMPLETED
    assert done["result"]["volumes"]["added"] == 7
    assert done["lease_owner"] == task_service.manager.owner


def test_concurrent_syncs_of_two_storages(task_service):
    tasks = [fakes.register_fake_storage(volumes=30, seed=i, host=f"10.0.1.{i}")[1] for i in range(2)]
    api = rpc_client.TaskAPI()
    for task in tasks:
        api.run_task(None, task)
    for task in tasks:
        assert fakes.wait_for_status(task["id"], TaskStatus.FINISHED)["status"] == TaskStatus.COMPLETED


def test_lost_cast_is_redispatched(task_service):
    CONF.set_override("redispatch_after", 5, group="task_manager")
    _, task = fakes.register_fake_storage()
    # the cast was "lost": nobody sent it. Age the row past redispatch_after.
    redispatcher = scheduler_service.Redispatcher()
    assert redispatcher.scan_once() == 0
    _age_task(task["id"], seconds=10)
    assert redispatcher.scan_once() == 1
    assert fakes.wait_for_status(task["id"], TaskStatus.FINISHED)["status"] == TaskStatus.COMPLETED


def test_task_of_a_dead_worker_is_redispatched(task_service):
    _, task = fakes.register_fake_storage()
    assert db_api.task_claim(task["id"], "dead-host:1:deadbeef", 5)
    _expire_lease(task["id"])
    assert scheduler_service.Redispatcher().scan_once() == 1
    done = fakes.wait_for_status(task["id"], TaskStatus.FINISHED)
    assert done["status"] == TaskStatus.COMPLETED and done["attempts"] == 2


def test_scheduler_service_scans_periodically(task_service):
    CONF.set_override("redispatch_after", 5, group="task_manager")
    _, task = fakes.register_fake_storage()
    _age_task(task["id"], seconds=10)
    scheduler = scheduler_service.SchedulerService(interval=0.1)
    scheduler.start()
    try:
        assert fakes.wait_for_status(task["id"], TaskStatus.FINISHED)["status"] == TaskStatus.COMPLETED
    finally:
        scheduler.stop()


def test_scan_survives_a_dead_bus(sqlite_db):
    rpc_transport.register_opts()
    CONF.set_override("transport_url", "rabbit://guest:guest@127.0.0.1:1/")
    CONF.set_override("cast_retry", 0, group="rpc")
    CONF.set_override("redispatch_after", 5, group="task_manager")
    try:
        _, task = fakes.register_fake_storage()
        _age_task(task["id"], seconds=10)
        assert scheduler_service.Redispatcher().scan_once() == 0
        assert db_api.task_get(task["id"])["status"] == TaskStatus.PENDING
    finally:
        rpc_transport.cleanup()


def _set_task(task_id, **values):
    # the test plays the clock: rows as a lost cast or a dead worker would leave them
    with db_impl.write() as conn:
        conn.execute(sa.update(db_impl.tasks).where(db_impl.tasks.c.id == task_id).values(**values))


def _age_task(task_id, seconds):
    _set_task(task_id, updated_at=utcnow() - datetime.timedelta(seconds=seconds))


def _expire_lease(task_id):
    _set_task(task_id, lease_expires_at=utcnow() - datetime.timedelta(seconds=1))
