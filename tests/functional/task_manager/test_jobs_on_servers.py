"""Sync and remove jobs on PostgreSQL and MariaDB with Redis locks: exact rows, no resurrection."""

import threading

import pytest

from delfin_like import coordination
from delfin_like.common import constants, exception
from delfin_like.common.constants import TaskStatus
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.rpc import transport as rpc_transport
from delfin_like.task_manager import manager as tm_manager
from tests.unit.task_manager import fakes

pytestmark = pytest.mark.services


@pytest.fixture(params=["postgresql_db", "mysql_db"])
def manager(request, redis_url, rabbit_bus):
    request.getfixturevalue(request.param)
    CONF.set_override("backend_url", redis_url, group="coordination")
    mgr = tm_manager.TaskManager(fakes.RecordingTaskAPI())
    mgr.start()
    yield mgr
    mgr.stop(5)
    coordination.stop()
    rpc_transport.cleanup()


def _rows(resource_type, storage_id):
    return db_api.resource_list(resource_type, {"storage_id": storage_id}, None, None, None, None)


def test_sync_resync_and_churn(manager):
    storage, task = fakes.register_fake_storage(pools=5, volumes=200, churn=1, seed=3)
    assert manager.run_task(None, task["id"]) == TaskStatus.COMPLETED
    # 5 pools + 200 volumes + the fake's 2 controllers, 8 ports, 8 disks; the storage row is unchanged
    assert db_api.task_get(task["id"])["result"]["rows_written"] == 205 + 18
    again, _ = db_api.task_create_sync(storage["id"], "normal")
    assert manager.run_task(None, again["id"]) == TaskStatus.COMPLETED
    volumes = db_api.task_get(again["id"])["result"]["volumes"]
    assert (volumes["added"], volumes["deleted"]) == (2, 2)
    native = {v["native_volume_id"] for v in _rows("volumes", storage["id"])}
    assert native == {f"vol-{i}" for i in range(2, 202)}


def test_sync_in_flight_does_not_resurrect_a_deleted_storage(manager):
    storage, task = fakes.register_fake_storage(pools=2, volumes=50, delay=3.0)
    syncing = threading.Thread(target=manager.run_task, args=(None, task["id"]))
    syncing.start()
    assert fakes.wait_for(lambda: db_api.task_get(task["id"])["status"] == TaskStatus.RUNNING, 10)
    remove_task = db_api.storage_mark_deleting(storage["id"])
    assert manager.run_task(None, remove_task["id"]) == TaskStatus.COMPLETED
    syncing.join(15)
    assert db_api.task_get(task["id"])["status"] == TaskStatus.CANCELLED
    for resource_type in constants.RESOURCE_TYPES:
        assert _rows(resource_type, storage["id"]) == []
    with pytest.raises(exception.StorageNotFound):
        db_api.storage_get(storage["id"])


def test_two_managers_never_sync_one_storage_at_once(manager):
    CONF.set_override("lock_wait_timeout", 0.3, group="coordination")
    storage, task = fakes.register_fake_storage(volumes=20, delay=3.0)
    other = tm_manager.TaskManager(fakes.RecordingTaskAPI())
    other.start()
    try:
        first = threading.Thread(target=manager.run_task, args=(None, task["id"]))
        first.start()
        assert fakes.wait_for(lambda: db_api.task_get(task["id"])["status"] == TaskStatus.RUNNING, 10)
        # the lock is held by the first manager for the whole sync: the second hands back
        second_task, created = db_api.task_create_sync(storage["id"], "urgent")
        assert created
        assert other.run_task(None, second_task["id"]) == TaskStatus.PENDING
        first.join(15)
        assert db_api.task_get(task["id"])["status"] == TaskStatus.COMPLETED
        assert other.run_task(None, second_task["id"]) == TaskStatus.COMPLETED
    finally:
        other.stop(5)


def test_two_syncs_of_a_storage_never_hold_its_redis_lock_at_once(manager):
    other = tm_manager.TaskManager(fakes.RecordingTaskAPI())
    other.start()
    try:
        first, second = fakes.two_syncs_of_one_storage(manager, other)
    finally:
        other.stop(5)
    fakes.assert_lock_holds_apart(first, second)
