"""A busy task manager leaves a backlog on RabbitMQ for the others (bounded prefetch, gated lanes)."""

import kombu
import pytest

from delfin_like import coordination
from delfin_like.common.constants import TaskStatus
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.rpc import client as rpc_client
from delfin_like.task_manager import manager as tm_manager
from tests.unit.task_manager import fakes

pytestmark = pytest.mark.services

BACKLOG = 12
WORKERS = 2


@pytest.fixture
def env(rabbit_bus, postgresql_db, redis_url):
    CONF.set_override("backend_url", redis_url, group="coordination")
    CONF.set_override("workers_per_lane", WORKERS, group="task_manager")
    services: list[tm_manager.TaskManagerService] = []
    yield rabbit_bus, services
    for service in services:
        service.stop()
    coordination.stop()


def _ready_messages(url: str, queue: str) -> int:
    """Messages waiting on the broker (not delivered to any consumer)."""
    # kombu names the scheme amqp://; oslo.messaging's rabbit:// is the same broker
    with kombu.Connection(url.replace("rabbit://", "amqp://", 1), connect_timeout=5) as conn:
        return conn.default_channel.queue_declare(queue=queue, passive=True).message_count


def test_two_task_managers_share_a_backlog(env):
    url, services = env
    first = tm_manager.TaskManagerService(lanes=["normal"])
    first.start()
    services.append(first)
    # one second per sync: the first task manager alone needs six seconds for the lot
    tasks = [fakes.register_fake_storage(volumes=3, seed=i, host=f"10.9.0.{i}", delay=1.0)[1] for i in range(BACKLOG)]
    api = rpc_client.TaskAPI()
    for task in tasks:
        api.run_task(None, task)
    assert fakes.wait_for(lambda: len(first.manager.running) == WORKERS, 10)
    # two running, at most one prefetched and one read by the heartbeat: the rest wait on the broker
    queue = rpc_client.lane_topic("normal")
    assert fakes.wait_for(lambda: _ready_messages(url, queue) >= BACKLOG - WORKERS - 2, 5)

    second = tm_manager.TaskManagerService(lanes=["normal"])
    second.start()
    services.append(second)
    done = [fakes.wait_for_status(t["id"], TaskStatus.FINISHED, timeout=60) for t in tasks]
    assert {d["status"] for d in done} == {TaskStatus.COMPLETED}
    owners = [d["lease_owner"] for d in done]
    by_second = owners.count(second.manager.owner)
    assert owners.count(first.manager.owner) + by_second == BACKLOG
    # the second started with ten casts on the broker and two free workers
    assert by_second >= 4, owners
    assert all(d["attempts"] == 1 for d in done)
    assert _ready_messages(url, queue) == 0
    for task in tasks:
        assert len(db_api.resource_list("volumes", {"storage_id": task["storage_id"]}, None, None, None, None)) == 3
