"""A sync is bounded: past [storage_driver] sync_timeout or sync_max_resources it stops, writes nothing and FAILS."""

import threading
import time

from delfin_like.common.constants import TaskStatus
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like_drivers.fake import driver as fake_driver
from tests.unit.task_manager import fakes


def _volumes(storage_id):
    return db_api.resource_list("volumes", {"storage_id": storage_id}, None, None, None, None)


def _listed_volumes(monkeypatch) -> list[int]:
    """A counter of the volumes the fake driver has produced (the generator's own progress)."""
    produced = [0]
    original = fake_driver.FakeStorageDriver.list_volumes

    def counting(self):
        for volume in original(self):
            produced[0] += 1
            yield volume

    monkeypatch.setattr(fake_driver.FakeStorageDriver, "list_volumes", counting)
    return produced


def test_a_listing_past_sync_timeout_stops_and_the_task_fails(manager, monkeypatch):
    CONF.set_override("sync_timeout", 1, group="storage_driver")
    # 5,000 volumes at 0.2 s per page of 100: a 10 s listing
    storage, task = fakes.register_fake_storage(volumes=5000, page_delay=0.2)
    produced = _listed_volumes(monkeypatch)
    started = time.monotonic()
    assert manager.run_task(None, task["id"]) == TaskStatus.FAILED
    assert time.monotonic() - started < 5
    done = db_api.task_get(task["id"])
    assert "sync_timeout (1 s)" in done["error"] and "volumes" in done["error"], done["error"]
    assert _volumes(storage["id"]) == []
    # the driver's listing stopped where the deadline found it: no later page was read
    seen = produced[0]
    threading.Event().wait(0.5)
    assert produced[0] == seen < 5000


def test_a_get_storage_past_sync_timeout_is_stopped_and_the_task_fails(manager):
    CONF.set_override("sync_timeout", 1, group="storage_driver")
    storage, task = fakes.register_fake_storage(volumes=5)
    # the array now takes 30 s to answer get_storage (the per-call timeout is 60 s)
    db_api.access_info_update(storage["id"], {"pools": 3, "volumes": 5, "seed": 0, "probe_delay": 30})
    assert manager.run_task(None, task["id"]) == TaskStatus.FAILED
    assert "sync_timeout (1 s) while reading the storage" in db_api.task_get(task["id"])["error"]
    # the helper thread was told to stop and did: nothing keeps waiting on the array
    gone = fakes.wait_for(lambda: not [t for t in threading.enumerate() if t.name == "driver-get_storage"], 5)
    assert gone


def test_a_listing_past_sync_max_resources_stops_and_the_task_fails(manager, monkeypatch):
    CONF.set_override("sync_max_resources", 50, group="storage_driver")
    storage, task = fakes.register_fake_storage(pools=3, volumes=200)
    produced = _listed_volumes(monkeypatch)
    assert manager.run_task(None, task["id"]) == TaskStatus.FAILED
    error = db_api.task_get(task["id"])["error"]
    assert "more than 50 volumes" in error and "sync_max_resources" in error, error
    assert produced[0] == 51
    assert _volumes(storage["id"]) == []
