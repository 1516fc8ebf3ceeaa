"""Fixtures of the API unit tests: the real app on SQLite and the fake:// bus."""

import pytest
import webtest

from delfin_like import rpc  # noqa: F401 - selects oslo.service's threading backend first
from delfin_like.api import app
from delfin_like.conf import CONF
from delfin_like.rpc import client as rpc_client
from delfin_like.rpc import transport as rpc_transport
from tests import task_managers


def _register_messaging_opts():
    # oslo.messaging registers transport_url only when a transport is made; tests set it first
    from oslo_messaging import opts as messaging_opts

    for group, opts in messaging_opts.list_opts():
        CONF.register_opts(opts, group=group)


class RecordingTaskAPI(rpc_client.TaskAPI):
    """The real client, remembering each task it cast successfully (for assertions only)."""

    def __init__(self):
        super().__init__()
        self.cast_tasks: list[dict] = []

    def run_task(self, context, task):
        super().run_task(context, task)
        self.cast_tasks.append(task)


@pytest.fixture
def fake_bus():
    """Point the process transport at the in-process ``fake://`` driver."""
    _register_messaging_opts()
    CONF.set_override("transport_url", "fake://")
    yield "fake://"
    rpc_transport.cleanup()


@pytest.fixture
def dead_bus():
    """A RabbitMQ URL nobody listens on: every cast fails at once with a refused connection."""
    _register_messaging_opts()
    CONF.set_override("transport_url", "rabbit://guest:guest@127.0.0.1:1/")
    CONF.set_override("cast_retry", 0, group="rpc")
    yield
    rpc_transport.cleanup()


@pytest.fixture
def rpcapi(fake_bus):
    return RecordingTaskAPI()


@pytest.fixture
def api(sqlite_db, rpcapi):
    """WebTest client of the real app on a migrated SQLite file and the fake bus."""
    return webtest.TestApp(app.setup_app(rpcapi=rpcapi))


@pytest.fixture
def task_manager(sqlite_db, fake_bus):
    """The real task manager, in-process on the fake:// bus, stopped with its lock coordinator."""
    with task_managers.in_process() as service:
        yield service


def register_body(port=8443, host="10.0.0.1", **extra_attributes) -> dict:
    """A valid registration body for the fake driver (secrets: ``s3cr3t-pw``)."""
    attrs = {"pools": 2, "volumes": 6}
    attrs.update(extra_attributes)
    return {
        "vendor": "fake_storage",
        "model": "fake_driver",
        "rest": {"host": host, "port": port, "username": "admin", "password": "s3cr3t-pw"},
        "extra_attributes": attrs,
    }


PASSWORD = "s3cr3t-pw"


def sync_now(storage_id: str) -> dict:
    """Run the storage's pending sync task in-process through db.api (no task manager needed).

    Returns the task result. Lets list tests see pools and volumes the fake
    driver reports, without depending on the task manager's threads.
    """
    from delfin_like.db import api as db_api
    from tests import db_helpers

    task_id = db_api.storage_get(storage_id)["last_sync_task_id"]
    return db_helpers.sync(storage_id, task_id, owner="api-tests")
