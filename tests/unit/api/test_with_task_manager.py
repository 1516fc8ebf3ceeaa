"""The API with the real task manager in-process on the fake:// bus: register -> SYNCED -> delete."""

import time

from delfin_like.common.constants import SyncStatus, TaskStatus
from tests.unit.api.conftest import register_body


def _wait_task(api, task_id, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        task = api.get(f"/v1/tasks/{task_id}").json
        if task["status"] not in TaskStatus.ACTIVE or time.monotonic() > deadline:
            return task
        time.sleep(0.05)


def test_register_sync_resync_and_delete(api, task_manager):
    storage = api.post_json("/v1/storages", register_body(pools=2, volumes=5), status=201).json
    task = _wait_task(api, storage["last_sync_task_id"])
    assert task["status"] == TaskStatus.COMPLETED
    assert task["result"]["volumes"]["added"] == 5 and task["result"]["storage_pools"]["added"] == 2
    assert api.get(f"/v1/storages/{storage['id']}").json["sync_status"] == SyncStatus.SYNCED
    assert len(api.get("/v1/volumes", {"storage_id": storage["id"]}).json["volumes"]) == 5

    resync = _wait_task(api, api.post(f"/v1/storages/{storage['id']}/sync", status=202).json["task"]["id"])
    assert resync["status"] == TaskStatus.COMPLETED and resync["result"]["rows_written"] == 0

    remove = _wait_task(api, api.delete(f"/v1/storages/{storage['id']}", status=202).json["task"]["id"])
    assert remove["status"] == TaskStatus.COMPLETED
    assert api.get(f"/v1/storages/{storage['id']}", status=404).json["error_code"] == "StorageNotFound"
    assert api.get("/v1/volumes").json == {"volumes": []}
