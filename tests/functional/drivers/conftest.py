"""Fixtures of the driver functional tests: the real platform and simulated arrays on loopback.

``platform``: the real pecan app (WebTest) and the real task manager in-process, casting over the
real RabbitMQ (a topic prefix per test), on PostgreSQL (parametrize it indirectly with ``"mysql_db"``
or ``"sqlite_db"`` for another database). A task gets one attempt, so a back-end failure FAILS it at
once instead of waiting for a re-dispatch. ``sim_array`` is one simulated array; ``rest_sim`` serves
it the ONTAP way over HTTPS with a CA of its own.
"""

import time

import pytest
import webtest

from delfin_like.api import app
from delfin_like.common.constants import SyncStatus, TaskStatus
from delfin_like.conf import CONF
from delfin_like.rpc import client as rpc_client
from delfin_like_drivers.simulator.model import SimulatedArray
from delfin_like_drivers.simulator.rest import RestFrontEnd
from tests import task_managers
from tests.functional.drivers.perf_fixtures import metrics_url  # noqa: F401 - fixtures of every module here
from tests.functional.drivers.snmp_fixtures import snmp_array, snmp_sim  # noqa: F401
from tests.functional.drivers.ssh_fixtures import ed25519_key, rsa_key, ssh_sim, start_ssh_sim, svc_array  # noqa: F401

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

    def register_and_sync(self, body: dict) -> dict:
        """Register ``body`` and wait for its first sync, which must complete; returns the storage."""
        storage = self.register(body)
        task = self.wait_task(storage["last_sync_task_id"])
        assert task["status"] == TaskStatus.COMPLETED, (task["error"], task)
        return storage

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

    def assert_inventory(self, storage_id: str, want: dict[str, dict]) -> None:
        """Fail unless :meth:`inventory` of the storage equals ``want`` (the test's own expectation), row for row."""
        got = self.inventory(storage_id)
        for resource in want:
            assert set(got[resource]) == set(want[resource]), resource
            diffs = [k for k in want[resource] if got[resource][k] != want[resource][k]]
            assert not diffs, (resource, [(k, got[resource][k], want[resource][k]) for k in diffs[:3]])

    def sync_after_churn(self, storage_id: str, array, added: int, deleted: int, updated: set, expected) -> dict:
        """Sync after churning ``array``: it must complete with ``added``, ``deleted`` and ``len(updated)``
        volume rows changed and leave the inventory ``expected(snapshot)`` says; returns the task."""
        task = self.sync(storage_id)
        assert task["status"] == TaskStatus.COMPLETED, (task["error"], task)
        volumes = task["result"]["volumes"]
        assert (volumes["added"], volumes["deleted"]) == (added, deleted)
        assert volumes["updated"] == len(updated)
        self.assert_inventory(storage_id, expected(array.snapshot()))
        return task

    def churn_and_resync(self, storage_id: str, array, before, statuses, expected) -> dict:
        """Churn ``array`` (12 created, 7 resized, 5 deleted), take a volume of ``before`` (a snapshot) that is
        still there offline and apply ``statuses`` ((table, id, status), ...): the next sync must count that,
        leave the storage degraded, and a sync right after must write nothing. Returns the first task."""
        changed = array.churn(created=12, resized=7, deleted=5)
        offline = next(v.id for v in before.volumes if v.id in array.volumes)
        array.set_status("volumes", offline, "offline")
        for table, row_id, status in statuses:
            array.set_status(table, row_id, status)
        task = self.sync_after_churn(storage_id, array, 12, 5, set(changed["resized"]) | {offline}, expected)
        assert self.storage(storage_id)["status"] == "degraded"
        again = self.sync(storage_id)
        assert again["status"] == TaskStatus.COMPLETED and again["result"]["rows_written"] == 0
        return task

    def failed_sync(self, storage_id: str, message: str, secret: str) -> dict:
        """Ask for a sync that must FAIL with ``message`` in its error (on the task and on the storage) and
        without ``secret``; returns the task."""
        task = self.sync(storage_id, timeout=30)
        assert task["status"] == TaskStatus.FAILED and message in task["error"], task
        assert secret not in task["error"]
        shown = self.storage(storage_id)
        assert shown["sync_status"] == SyncStatus.FAILED and message in shown["sync_error"]
        return task

    def recovers_from_a_cut_sync(self, storage_id: str, array, channel: str, drop_after: int, expected) -> None:
        """Churn ``array`` (3 created, 3 deleted), fail a sync by cutting ``channel`` (``"rest"``, ``"ssh"``)
        after ``drop_after`` records, then sync again unhindered: it must complete, count the churn and
        leave the inventory ``expected(snapshot)`` says."""
        array.churn(created=3, deleted=3)
        array.faults[channel].drop_after = drop_after
        assert self.sync(storage_id)["status"] == TaskStatus.FAILED
        array.faults[channel].drop_after = None
        task = self.sync(storage_id)
        assert task["status"] == TaskStatus.COMPLETED
        assert (task["result"]["volumes"]["added"], task["result"]["volumes"]["deleted"]) == (3, 3)
        self.assert_inventory(storage_id, expected(array.snapshot()))
        assert self.storage(storage_id)["sync_status"] == SyncStatus.SYNCED


@pytest.fixture
def platform(request, rabbit_bus):
    """The API and an in-process task manager, over RabbitMQ, on the database named by the indirect param."""
    request.getfixturevalue(getattr(request, "param", "postgresql_db"))
    CONF.set_override("max_attempts", 1, group="task_manager")
    with task_managers.in_process():
        yield Platform(webtest.TestApp(app.setup_app(rpcapi=rpc_client.TaskAPI())))


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


def restart_on_the_same_port(front, state_dir: str | None = None) -> int:
    """Stop a simulator front end and start it again on its port; with ``state_dir``, from a new state
    (new host key, new CA) as a replaced array would. Returns the port."""
    port = front.port
    front.stop()
    if state_dir:
        front.state_dir = state_dir
    front.requested_port = port
    front.start()
    return port


def slow_peer(array, channel: str) -> str:
    """Allow a driver call 1 s and make ``array`` answer on ``channel`` (``"rest"``, ``"ssh"``) only after
    2.5 s; returns the words the failure must carry (whichever deadline fires first says them)."""
    CONF.set_override("timeout", 1.0, group="storage_driver")
    array.faults[channel].delay = 2.5
    return "within 1 s"
