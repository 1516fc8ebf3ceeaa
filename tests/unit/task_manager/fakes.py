"""Helpers shared by the task manager tests (unit and functional): fake storages, a recording client."""

import itertools
import threading
import time

from delfin_like import driver_manager
from delfin_like.common import crypto
from delfin_like.common.constants import TaskStatus
from delfin_like.db import api as db_api
from delfin_like.rpc import client as rpc_client

FAKE_VENDOR, FAKE_MODEL = "fake_storage", "fake_driver"
_ports = itertools.count(20000)


def register_fake_storage(pools: int = 3, volumes: int = 10, seed: int = 0, host: str = "10.0.0.1",
                          priority: str = "normal", **extra) -> tuple[dict, dict]:
    """Probe the fake driver and register it as the API would; returns (storage, sync task)."""
    rest = {"host": host, "port": next(_ports), "username": "admin", "password": "fake-secret"}
    attrs = {"pools": pools, "volumes": volumes, "seed": seed, **extra}
    body = {"vendor": FAKE_VENDOR, "model": FAKE_MODEL, "rest": rest, "extra_attributes": attrs}
    # the probe must not fail even if the listing is configured to
    probe_attrs = {k: v for k, v in attrs.items() if k not in ("sync_error", "delay")}
    storage = driver_manager.probe(driver_manager.access_info_from_request({**body, "extra_attributes": probe_attrs}))
    access_info = {"vendor": FAKE_VENDOR, "model": FAKE_MODEL, "rest": crypto.encrypt_block(rest),
                   "ssh": None, "snmp": None, "extra_attributes": attrs}
    return db_api.storage_register(storage, access_info, [("rest", rest["host"], rest["port"])], priority)


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    """Poll ``predicate`` until it returns a truthy value (returned) or ``timeout`` passes (None)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def wait_for_status(task_id: str, statuses, timeout: float = 10.0) -> dict:
    """The task once its status is one of ``statuses``; AssertionError after ``timeout``."""
    task = wait_for(lambda: (t := db_api.task_get(task_id))["status"] in statuses and t, timeout)
    if not task:
        raise AssertionError(f"task {task_id} still {db_api.task_get(task_id)['status']} after {timeout} s")
    return task


class RecordingTaskAPI(rpc_client.TaskAPI):
    """The real client, remembering every task it cast (for assertions)."""

    def __init__(self, transport=None):
        super().__init__(transport)
        self.cast_tasks: list[dict] = []

    def run_task(self, context, task):
        super().run_task(context, task)
        self.cast_tasks.append(task)


def two_syncs_of_one_storage(first_manager, second_manager) -> tuple[dict, dict]:
    """Run a slow sync of a new storage on ``first_manager`` and, while it holds the storage lock,
    a second sync of it on ``second_manager``; returns both finished tasks (first, second)."""
    storage, first = register_fake_storage(pools=2, volumes=20, delay=2.0)
    runs = [threading.Thread(target=first_manager.run_task, args=(None, first["id"]))]
    runs[0].start()
    assert wait_for(lambda: db_api.task_get(first["id"])["lock_acquired_at"], 15), "the first sync never took the lock"
    second, created = db_api.task_create_sync(storage["id"], "urgent")
    assert created
    runs.append(threading.Thread(target=second_manager.run_task, args=(None, second["id"])))
    runs[1].start()
    for run in runs:
        run.join(60)
    return db_api.task_get(first["id"]), db_api.task_get(second["id"])


def assert_lock_holds_apart(first: dict, second: dict) -> None:
    """Both completed; the second was claimed while the first held the lock, and took it only after."""
    assert (first["status"], second["status"]) == (TaskStatus.COMPLETED, TaskStatus.COMPLETED), (first, second)
    assert second["started_at"] < first["finished_at"], "the second sync did not wait for the lock"
    assert first["started_at"] <= first["lock_acquired_at"] < first["finished_at"]
    assert first["finished_at"] <= second["lock_acquired_at"] < second["finished_at"]
