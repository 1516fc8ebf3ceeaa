"""What keeps a 1M-volume sync cheap: the paused collector, the watch's deadline checks, compact fingerprints."""

import gc
import threading

import pytest

from delfin_like.common import exception
from delfin_like.common.constants import TaskStatus
from delfin_like.db import api as db_api
from delfin_like.diff import StoredFingerprints
from delfin_like.sdk import cancel
from delfin_like.task_manager.jobs import sync as sync_job
from delfin_like.task_manager.jobs.checkpoint import Checkpoint
from tests.unit.task_manager import fakes


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    gc.enable() if was else gc.disable()


def test_the_collector_is_paused_inside_and_restored_after_nested_pauses(collector_on):
    with sync_job._gc_paused():
        assert not gc.isenabled()
        with sync_job._gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # an inner pause ending does not end the outer one
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled(collector_on):
    gc.disable()
    with sync_job._gc_paused():
        pass
    assert not gc.isenabled()


def test_overlapping_pauses_of_two_threads_restore_the_collector_once_both_end(collector_on):
    first_in, second_out = threading.Event(), threading.Event()
    states = {}

    def first():
        with sync_job._gc_paused():
            first_in.set()
            assert second_out.wait(10)
            states["first, after the second ended"] = gc.isenabled()

    thread = threading.Thread(target=first)
    thread.start()
    assert first_in.wait(10)
    with sync_job._gc_paused():
        pass
    second_out.set()
    thread.join(10)
    assert states == {"first, after the second ended": False}
    assert gc.isenabled()


def test_a_sync_runs_with_the_collector_paused_and_leaves_it_on(manager, monkeypatch, collector_on):
    seen = []
    original = db_api.resource_fingerprints

    def recording(storage_id, resource_type):
        seen.append(gc.isenabled())
        stored = original(storage_id, resource_type)
        assert isinstance(stored, StoredFingerprints)
        return stored

    monkeypatch.setattr(db_api, "resource_fingerprints", recording)
    _, task = fakes.register_fake_storage(volumes=300)
    assert manager.run_task(None, task["id"]) == TaskStatus.COMPLETED
    assert seen and not any(seen)
    assert gc.isenabled()


def _claimed():
    _, task = fakes.register_fake_storage()
    return db_api.task_claim(task["id"], "tm-1", 60)


def test_a_cancelled_deadline_token_stops_the_listing_within_256_items(task_env):
    checkpoint = Checkpoint(_claimed(), "tm-1", interval=60)
    checkpoint.deadline, checkpoint.timeout = cancel.Token(600, what="sync"), 600
    seen = []

    def listing():
        for i in range(10_000):
            if i == 1000:
                checkpoint.deadline.cancel()
            yield i

    with pytest.raises(exception.SyncTimedOut):
        for item in checkpoint.watch(listing(), "volumes"):
            seen.append(item)
    assert 1000 <= len(seen) < 1000 + 256


def test_a_passed_deadline_stops_the_listing_at_the_next_item(task_env):
    checkpoint = Checkpoint(_claimed(), "tm-1", interval=60)
    checkpoint.deadline, checkpoint.timeout = cancel.Token(0.2, what="sync"), 0.2
    seen = []

    def listing():
        for i in range(1000):
            if i == 10:
                # a slow page: wait (bounded) until the deadline has passed
                assert fakes.wait_for(lambda: checkpoint.deadline.remaining() <= 0, 10)
            yield i

    with pytest.raises(exception.SyncTimedOut):
        for item in checkpoint.watch(listing(), "volumes"):
            seen.append(item)
    assert seen == list(range(10))
