"""Fixtures of the driver functional tests: the real platform and simulated arrays on loopback.

``platform``: the real pecan app (WebTest) and the real task manager in-process on the ``fake://``
bus, on PostgreSQL (parametrize it indirectly with ``"mysql_db"`` or ``"sqlite_db"`` for another
database). A task gets one attempt, so a back-end failure FAILS it at once instead of waiting for
a re-dispatch. ``sim_array`` is one simulated array; ``rest_sim`` serves it the ONTAP way over
HTTPS with a CA of its own.
"""

import time

import pytest
import webtest

from delfin_like import coordination
from delfin_like.api import app
from delfin_like.common.constants import TaskStatus
from delfin_like.conf import CONF
from delfin_like.rpc import client as rpc_client
from delfin_like_drivers.simulator.model import SimulatedArray
from delfin_like_drivers.simulator.rest import RestFrontEnd
from tests.unit.api.conftest import fake_bus  # noqa: F401 - fixture

REST_USER = "ontap-admin"
REST_PASSWORD = "Sim-rest-pw-0001"
# what the API shows of a row beyond the driver's fields
_ROW_NOISE = ("id", "storage_id", "created_at", "updated_at")
_NATIVE_ID = {
    "storage-pools": "native_storage_pool_id",
    "volumes": "native_volume_id",
    "controllers": "native_controller_id",
    "ports": "native_port_id",
    "disks": "native_disk_id",
}
_LIST_KEY = {"storage-pools": "storage_pools"}


class Platform:
    """The API under test, with the waits and listings the driver tests share."""

    def __init__(self, api: webtest.TestApp):
        self.api = api

    def register(self, body: dict, status: int = 201) -> dict:
        return self.api.post_json("/v1/storages", body, status=status).json

    def wait_task(self, task_id: str, timeout: float = 60.0) -> dict:
        """The task once it is COMPLETED, FAILED or CANCELLED (fails the test after ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        while True:
            task = self.api.get(f"/v1/tasks/{task_id}").json
            if task["status"] not in TaskStatus.ACTIVE:
                return task
            if time.monotonic() > deadline:
                raise AssertionError(f"task {task_id} still {task['status']} after {timeout} s")
            time.sleep(0.05)

    def sync(self, storage_id: str, timeout: float = 60.0) -> dict:
        """Ask for a sync through the API and return the finished task."""
        task = self.api.post(f"/v1/storages/{storage_id}/sync", status=202).json["task"]
        return self.wait_task(task["id"], timeout)

    def storage(self, storage_id: str) -> dict:
        return self.api.get(f"/v1/storages/{storage_id}").json

    def rows(self, resource: str, storage_id: str) -> dict[str, dict]:
        """Every row of ``resource`` (``volumes``, ``storage-pools``, ...) of a storage, by native id,
        without the platform's own columns (id, storage_id, timestamps)."""
        native, key = _NATIVE_ID[resource], _LIST_KEY.get(resource, resource)
        out: dict[str, dict] = {}
        offset = 0
        while True:
            page = self.api.get(
                f"/v1/{resource}", {"storage_id": storage_id, "limit": 1000, "offset": offset, "sort": f"{native}:asc"}
            ).json[key]
            for row in page:
                assert row[native] not in out, f"duplicate {native} {row[native]}"
                out[row[native]] = {k: v for k, v in row.items() if k not in _ROW_NOISE and k != native}
            if len(page) < 1000:
                return out
            offset += len(page)

    def inventory(self, storage_id: str) -> dict[str, dict]:
        """The storage (driver fields only) and every resource type's rows, as :meth:`rows` gives them."""
        storage = self.storage(storage_id)
        out = {resource: self.rows(resource, storage_id) for resource in _NATIVE_ID}
        out["storage"] = {
            k: storage[k]
            for k in (
                "name",
                "vendor",
                "model",
                "serial_number",
                "status",
                "firmware_version",
                "location",
                "description",
                "raw_capacity",
                "total_capacity",
                "used_capacity",
                "free_capacity",
                "subscribed_capacity",
            )
        }
        return out


@pytest.fixture
def platform(request, fake_bus):  # noqa: F811 - the imported fixture
    """The API and an in-process task manager on the database named by the indirect param."""
    from delfin_like.task_manager import manager

    request.getfixturevalue(getattr(request, "param", "postgresql_db"))
    CONF.set_override("max_attempts", 1, group="task_manager")
    service = manager.TaskManagerService()
    service.start()
    try:
        yield Platform(webtest.TestApp(app.setup_app(rpcapi=rpc_client.TaskAPI())))
    finally:
        service.stop()
        coordination.stop()


@pytest.fixture
def sim_array() -> SimulatedArray:
    """Three pools, 150 volumes, two nodes (each 2 FC + 2 Ethernet ports), 13 disks."""
    return SimulatedArray(name="ontap-sim", pools=3, volumes=150, nodes=2, disks_per_pool=4, seed=7)


@pytest.fixture
def rest_sim(sim_array, tmp_path):
    """``sim_array`` served over HTTPS on a free loopback port (CA under ``tmp_path/rest-sim``)."""
    front = RestFrontEnd(
        sim_array, state_dir=str(tmp_path / "rest-sim"), username=REST_USER, password=REST_PASSWORD
    ).start()
    yield front
    front.stop()


def ontap_body(front: RestFrontEnd, password: str = REST_PASSWORD, ca_file: str | None = "default", **options) -> dict:
    """A registration body for ``netapp ontap_rest`` reaching ``front``; its CA is trusted unless
    ``ca_file`` is None (or another CA's file); ``options`` are more keys of the rest block."""
    rest = {"host": "127.0.0.1", "port": front.port, "username": REST_USER, "password": password, **options}
    ca_file = front.ca_file if ca_file == "default" else ca_file
    if ca_file:
        with open(ca_file) as f:
            rest["ca_cert"] = f.read()
    return {"vendor": "netapp", "model": "ontap_rest", "rest": rest}
