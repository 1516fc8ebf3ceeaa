"""Fixtures of the task manager unit tests: SQLite, file locks under tmp, the fake:// bus."""

import pytest

from delfin_like import coordination
from delfin_like.conf import CONF
from delfin_like.rpc import transport as rpc_transport
from delfin_like.task_manager import manager as tm_manager
from tests.unit.task_manager import fakes


@pytest.fixture
def fake_bus():
    """The in-process ``fake://`` transport, under a unique topic prefix."""
    rpc_transport.register_opts()
    CONF.set_override("transport_url", "fake://")
    yield "fake://"
    rpc_transport.cleanup()


@pytest.fixture
def locks():
    """File locks under the test's state_path; the process coordinator is stopped afterwards."""
    yield coordination.backend_url()
    coordination.stop()


@pytest.fixture
def rpcapi(fake_bus):
    return fakes.RecordingTaskAPI()


@pytest.fixture
def task_env(sqlite_db, locks, rpcapi):
    """Everything a TaskManager needs: SQLite at head, file locks, the fake bus."""
    return rpcapi


@pytest.fixture
def manager(task_env):
    """A started TaskManager on :func:`task_env`, stopped (5 s grace) afterwards."""
    mgr = tm_manager.TaskManager(task_env)
    mgr.start()
    yield mgr
    mgr.stop(timeout=5)
