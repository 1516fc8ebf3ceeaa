"""The perf job on SQLite with the fake driver: chained windows, exact rates, failures, gaps, outbox."""

import json

import pytest
import sqlalchemy as sa

from delfin_like.common.constants import TaskStatus
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.db.sqlalchemy import engine, metrics
from delfin_like.db.sqlalchemy.utils import utcnow
from delfin_like.task_manager.jobs import perf
from tests.unit.task_manager import fakes, perf_helpers

pytestmark = pytest.mark.usefixtures("task_env")


@pytest.fixture(autouse=True)
def _close_exporters():
    """Close the exporters the perf jobs opened, after the task manager (set up later) has stopped."""
    yield
    perf.close_exporters()


def _storage(manager, **extra):
    """A registered fake storage, synced (the sync stores its capabilities), and its driver."""
    storage, sync_task = fakes.register_fake_storage(pools=2, volumes=3, **extra)
    assert manager.run_task(None, sync_task["id"]) == TaskStatus.COMPLETED
    stored = db_api.access_info_get(storage["id"])
    rest = json.loads(json.dumps(stored["rest"]))
    drv = perf_helpers.fake_driver_of(stored["extra_attributes"], rest["host"], rest["port"])
    return storage, drv


def _run(manager, storage_id, rt="volume"):
    task = perf_helpers.fire(storage_id, rt)
    status = manager.run_task(None, task["id"])
    return status, db_api.task_get(task["id"])


def test_windows_chain_and_rates_are_exact(manager):
    storage, drv = _storage(manager)
    perf_helpers.enable(storage["id"], "volume", interval=5)
    status, first = _run(manager, storage["id"])
    assert status == TaskStatus.COMPLETED, first["error"]
    r1 = first["result"]
    assert r1["window_end_us"] - r1["window_start_us"] == 5_000_000  # no previous window: one interval
    assert r1["samples"] == 3 * 4  # totals only: a rate needs two readings
    assert perf_helpers.latest(storage["id"], "volume") == perf_helpers.expected_values(
        drv, "volume", r1["window_start_us"], r1["window_end_us"], first=True
    )

    status, second = _run(manager, storage["id"])
    r2 = second["result"]
    assert status == TaskStatus.COMPLETED
    assert r2["window_start_us"] == r1["window_end_us"]  # no gap, no overlap
    assert r2["samples"] == 3 * 13 and r2["exporters"] == {"prometheus": {"delivered": 1, "failed": 0, "error": None}}
    expected = perf_helpers.expected_values(drv, "volume", r2["window_start_us"], r2["window_end_us"])
    assert perf_helpers.latest(storage["id"], "volume") == expected
    assert db_api.perf_batches_pending(storage["id"], "volume") == []  # delivered everywhere: outbox empty


def test_configured_metrics_only_and_one_series_per_task_type(manager):
    storage, _ = _storage(manager)
    perf_helpers.enable(storage["id"], "port", interval=5, metrics=["read_ops_total"])
    perf_helpers.enable(storage["id"], "disk", interval=5)
    _run(manager, storage["id"], "port")
    _, task = _run(manager, storage["id"], "port")
    assert task["type"] == "perf_port" and task["result"]["samples"] == 8
    assert {m for _, m in perf_helpers.latest(storage["id"], "port")} == {"read_ops_total"}
    assert perf_helpers.latest(storage["id"], "disk") == {}


def test_a_failing_window_is_recorded_retried_with_backoff_then_continues(manager):
    storage, drv = _storage(manager)
    perf_helpers.enable(storage["id"], "storage", interval=5)
    _, ok = _run(manager, storage["id"], "storage")
    end1 = ok["result"]["window_end_us"]
    db_api.access_info_update(
        storage["id"], {**db_api.access_info_get(storage["id"])["extra_attributes"], "perf_error": "unreachable"}
    )
    for attempt in (1, 2, 3):
        status, failed = _run(manager, storage["id"], "storage")
        assert status == TaskStatus.FAILED and "could not be reached" in failed["error"]
        state = db_api.perf_window_state(storage["id"], "storage")
        assert (state["failures"], state["last_end_us"]) == (attempt, end1)
        sched = [s for s in db_api.schedules_due(utcnow(), 100) if s["kind"] == "perf_storage"]
        assert sched == []  # backed off: not due now
    with engine.read() as conn:
        next_run = conn.execute(
            sa.select(metrics.schedules_t.c.next_run_at).where(
                metrics.schedules_t.c.storage_id == storage["id"], metrics.schedules_t.c.kind == "perf_storage"
            )
        ).scalar()
    assert 15 <= (next_run - utcnow()).total_seconds() <= 20  # 5 * 2**2 after the third failure

    extra = db_api.access_info_get(storage["id"])["extra_attributes"]
    extra.pop("perf_error")
    db_api.access_info_update(storage["id"], extra)
    _, back = _run(manager, storage["id"], "storage")
    assert back["status"] == TaskStatus.COMPLETED
    assert back["result"]["window_start_us"] == end1  # the whole failed stretch, as one window
    assert perf_helpers.latest(storage["id"], "storage") == perf_helpers.expected_values(
        drv, "storage", end1, back["result"]["window_end_us"]
    )
    assert db_api.perf_window_state(storage["id"], "storage")["failures"] == 0


def _age_last_window(storage_id, rt, seconds):
    with engine.write() as conn:
        conn.execute(
            metrics.collections_t.update()
            .where(
                metrics.collections_t.c.storage_id == storage_id,
                metrics.collections_t.c.resource_type == rt,
            )
            .values(last_end_us=metrics.collections_t.c.last_end_us - seconds * 1_000_000)
        )


def test_a_window_older_than_the_retention_becomes_a_gap(manager):
    CONF.set_override("retention_seconds", 600, group="exporters")
    storage, _ = _storage(manager)
    perf_helpers.enable(storage["id"], "controller", interval=10)
    _run(manager, storage["id"], "controller")
    _age_last_window(storage["id"], "controller", 3600)  # as if nothing ran for an hour
    old_end = db_api.perf_window_state(storage["id"], "controller")["last_end_us"]
    _, task = _run(manager, storage["id"], "controller")
    result = task["result"]
    assert result["gap"]["start_us"] == old_end and result["gap"]["end_us"] == result["window_start_us"]
    assert result["window_end_us"] - result["window_start_us"] == 10_000_000
    assert result["samples"] == 2 * 4  # the counter readings before the gap are dropped: totals only
    gaps = db_api.perf_gaps_list(storage["id"])
    assert [(g["start_us"], g["end_us"], g["exporter"]) for g in gaps] == [(old_end, result["window_start_us"], None)]
    state = db_api.perf_window_state(storage["id"], "controller")
    assert state["gaps"] == 1 and state["gap_us"] == result["window_start_us"] - old_end


def test_failures_past_the_retention_record_a_gap_and_restart_the_chain(manager):
    CONF.set_override("retention_seconds", 600, group="exporters")
    storage, _ = _storage(manager, perf_error="backend_error")
    perf_helpers.enable(storage["id"], "disk", interval=5)
    _run(manager, storage["id"], "disk")  # fails: no window yet, nothing to give up
    assert db_api.perf_gaps_list(storage["id"]) == []
    with engine.write() as conn:
        conn.execute(metrics.collections_t.update().values(last_end_us=perf.now_us() - 3600 * 1_000_000))
    status, task = _run(manager, storage["id"], "disk")
    assert status == TaskStatus.FAILED
    gap = db_api.perf_gaps_list(storage["id"])[0]
    assert gap["end_us"] - gap["start_us"] >= 3600 * 1_000_000 and "retention" in gap["reason"]
    assert db_api.perf_window_state(storage["id"], "disk")["last_end_us"] == gap["end_us"]


def test_a_failing_exporter_keeps_its_batches_and_gets_them_first_next_time(manager, tmp_path):
    CONF.set_override("enabled", ["prometheus", "jsonl"], group="exporters")
    CONF.set_override("jsonl_path", str(tmp_path), group="exporters")  # a directory: every write fails
    CONF.set_override("batch_size", 5, group="exporters")
    storage, _ = _storage(manager)
    perf_helpers.enable(storage["id"], "volume", interval=5)
    _, first = _run(manager, storage["id"])
    assert first["status"] == TaskStatus.COMPLETED  # the exporter's failure is not the task's
    assert first["result"]["batches"] == 3  # 12 samples in batches of 5
    assert first["result"]["exporters"]["prometheus"] == {"delivered": 3, "failed": 0, "error": None}
    # the first failure skips jsonl for the window's later batches (they keep their order)
    assert first["result"]["exporters"]["jsonl"]["failed"] == 1
    pending = db_api.perf_batches_pending(storage["id"], "volume")
    assert [p["exporters"] for p in pending] == [["jsonl"]] * 3

    out = tmp_path / "samples.jsonl"
    CONF.set_override("jsonl_path", str(out), group="exporters")
    _, second = _run(manager, storage["id"])
    assert second["result"]["backlog"]["batches"] == 3
    assert second["result"]["backlog"]["exporters"]["jsonl"] == {"delivered": 3, "failed": 0, "error": None}
    assert db_api.perf_batches_pending(storage["id"], "volume") == []
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    ends = [line["timestamp"] for line in lines]
    assert len(lines) == 12 + 39 and ends == sorted(ends)  # the backlog first, each sample once


def test_disabled_collection_cancels_and_withdraws_the_series(manager):
    storage, _ = _storage(manager)
    perf_helpers.enable(storage["id"], "volume", interval=5)
    _run(manager, storage["id"])
    assert perf_helpers.latest(storage["id"], "volume")
    queued = perf_helpers.fire(storage["id"], "volume")
    perf_helpers.enable(storage["id"], "volume", interval=5, enabled=False)
    assert db_api.task_get(queued["id"])["status"] == TaskStatus.CANCELLED
    assert perf_helpers.latest(storage["id"], "volume") == {}
    assert db_api.schedules_due(utcnow(), 100) == []


def test_a_second_commit_of_the_same_window_is_refused(manager):
    storage, _ = _storage(manager)
    perf_helpers.enable(storage["id"], "volume", interval=5)
    _run(manager, storage["id"])
    task = perf_helpers.fire(storage["id"], "volume")
    db_api.task_claim(task["id"], "owner-a", 60)
    state = db_api.perf_window_state(storage["id"], "volume")
    args = (storage["id"], "volume", state["last_end_us"], state["last_end_us"] + 1, None, [], [])
    assert db_api.perf_window_commit(task["id"], "owner-b", *args) == "lost"  # not the lease holder
    assert db_api.perf_window_commit(task["id"], "owner-a", *args) == "committed"
    assert db_api.perf_window_commit(task["id"], "owner-a", *args) == "lost"  # last_end moved on


def test_perf_task_of_a_deleted_storage_is_cancelled(manager):
    storage, _ = _storage(manager)
    perf_helpers.enable(storage["id"], "volume", interval=5)
    task = perf_helpers.fire(storage["id"], "volume")
    db_api.storage_mark_deleting(storage["id"])
    assert manager.run_task(None, task["id"]) == TaskStatus.CANCELLED


def test_without_exporters_the_chain_goes_on_and_nothing_piles_up(manager):
    CONF.set_override("enabled", [], group="exporters")
    storage, _ = _storage(manager)
    perf_helpers.enable(storage["id"], "volume", interval=5)
    _, first = _run(manager, storage["id"])
    _, second = _run(manager, storage["id"])
    assert second["result"]["window_start_us"] == first["result"]["window_end_us"]
    assert (second["result"]["samples"], second["result"]["batches"]) == (39, 0)
    assert db_api.perf_batches_pending(storage["id"], "volume") == []
