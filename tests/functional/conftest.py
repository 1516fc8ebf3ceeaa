"""Fixtures shared by the functional tests (the database, bus and service ones are in tests/conftest.py)."""

import pytest

from delfin_like import coordination
from delfin_like.conf import CONF
from delfin_like.task_manager import manager as tm_manager


@pytest.fixture
def task_service(rabbit_bus, postgresql_db, redis_url):
    """A task manager in this process: its lane servers on the real RabbitMQ, PostgreSQL, Redis locks."""
    CONF.set_override("backend_url", redis_url, group="coordination")
    service = tm_manager.TaskManagerService()
    service.start()
    yield service
    service.stop()
    coordination.stop()
