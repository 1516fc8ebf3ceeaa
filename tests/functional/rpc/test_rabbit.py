"""TaskAPI → real RabbitMQ → lane servers → task manager → PostgreSQL; and a dead broker."""

import time

import pytest

from delfin_like import coordination
from delfin_like.common import exception
from delfin_like.common.constants import TaskStatus
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.rpc import client as rpc_client
from delfin_like.rpc import transport as rpc_transport
from delfin_like.task_manager import manager as tm_manager
from tests.unit.task_manager import fakes

pytestmark = pytest.mark.services


def _volumes(storage_id):
    return db_api.resource_list("volumes", {"storage_id": storage_id}, None, None, None, None)


def test_cast_over_rabbitmq_lands_in_postgresql(task_service):
    storage, task = fakes.register_fake_storage(pools=4, volumes=25)
    rpc_client.TaskAPI().run_task(None, task)
    done = fakes.wait_for_status(task["id"], TaskStatus.FINISHED, timeout=30)
    assert done["status"] == TaskStatus.COMPLETED, done["error"]
    assert done["result"]["volumes"]["added"] == 25
    assert len(_volumes(storage["id"])) == 25
    assert len(db_api.resource_list("storage_pools", {"storage_id": storage["id"]}, None, None, None, None)) == 4


def test_urgent_and_background_lanes_both_run(task_service):
    storage, task = fakes.register_fake_storage(volumes=5)
    api = rpc_client.TaskAPI()
    api.run_task(None, task)
    fakes.wait_for_status(task["id"], TaskStatus.FINISHED, timeout=30)
    for lane in ("urgent", "background"):
        again, _ = db_api.task_create_sync(storage["id"], lane)
        api.run_task(None, again)
        done = fakes.wait_for_status(again["id"], TaskStatus.FINISHED, timeout=30)
        assert done["status"] == TaskStatus.COMPLETED and done["result"]["rows_written"] == 0


def test_sigterm_like_stop_then_a_new_service_takes_over(rabbit_bus, postgresql_db, redis_url):
    CONF.set_override("backend_url", redis_url, group="coordination")
    first = tm_manager.TaskManagerService()
    first.start()
    first.stop()
    second = tm_manager.TaskManagerService()
    second.start()
    try:
        storage, task = fakes.register_fake_storage(volumes=3)
        rpc_client.TaskAPI().run_task(None, task)
        done = fakes.wait_for_status(task["id"], TaskStatus.FINISHED, timeout=30)
        assert done["lease_owner"] == second.manager.owner
    finally:
        second.stop()
        coordination.stop()


def test_dead_broker_gives_message_bus_unavailable_within_seconds():
    rpc_transport.register_opts()
    CONF.set_override("transport_url", "rabbit://guest:guest@127.0.0.1:1//")
    started = time.monotonic()
    try:
        with pytest.raises(exception.MessageBusUnavailable):
            # the default [rpc] cast_retry: bounded retries, then 503
            rpc_client.TaskAPI().run_task(None, {"id": "t", "priority": "normal"})
    finally:
        rpc_transport.cleanup()
    assert time.monotonic() - started < 15
