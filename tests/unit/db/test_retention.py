"""Retention rules on SQLite: age, count per (storage, type), the last FAILED kept, unfinished and
referenced tasks kept, jobs, perf gaps, and the batches. tests/functional/db runs them on
PostgreSQL and MariaDB too."""

import pytest

from delfin_like.common.constants import TaskStatus
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.db.sqlalchemy import jobs, metrics
from delfin_like.scheduler import retention
from tests import retention_helpers as rh


@pytest.fixture
def db(sqlite_db):
    return sqlite_db


def _run(**opts):
    for name, value in opts.items():
        CONF.set_override(name, value, group="retention")
    return retention.Retention().run_once()


def test_finished_tasks_older_than_the_max_age_go_and_unfinished_ones_stay(db):
    sid = rh.storage()
    old = [rh.task(sid, finished=rh.ago(days=8)) for _ in range(3)]
    old_cancelled = rh.task(sid, "sync", TaskStatus.CANCELLED, rh.ago(days=9))
    recent = rh.task(sid, finished=rh.ago(days=6))
    pending = rh.task(sid, status=TaskStatus.PENDING, finished=rh.ago(days=30))
    running = rh.task(sid, status=TaskStatus.RUNNING, finished=rh.ago(days=30))
    counts = _run(task_max_age=7 * 86400, tasks_per_storage_type=0)
    assert counts["tasks_by_age"] == 4
    assert rh.task_ids() == {recent, pending, running}
    assert not set(old) & rh.task_ids() and old_cancelled not in rh.task_ids()


def test_only_the_newest_finished_tasks_of_each_storage_and_type_are_kept(db):
    a, b = rh.storage("a"), rh.storage("b")
    a_perf = rh.tasks(a, 10)
    a_sync = rh.tasks(a, 4, "sync")
    b_perf = rh.tasks(b, 5)
    unfinished = rh.task(a, status=TaskStatus.RUNNING, finished=rh.ago(days=1))
    counts = _run(task_max_age=0, tasks_per_storage_type=5)
    assert counts["tasks_by_count"] == 5
    assert rh.task_ids() == set(a_perf[5:]) | set(a_sync) | set(b_perf) | {unfinished}


def test_the_last_failed_task_of_each_storage_and_type_is_kept(db):
    sid = rh.storage()
    older_failed = rh.task(sid, status=TaskStatus.FAILED, finished=rh.ago(days=20), error="old cause")
    last_failed = rh.task(sid, status=TaskStatus.FAILED, finished=rh.ago(days=10), error="the cause")
    completed = rh.tasks(sid, 5)
    sync_failed = rh.task(sid, "sync", TaskStatus.FAILED, rh.ago(days=30))
    counts = _run(task_max_age=7 * 86400, tasks_per_storage_type=2)
    left = rh.task_ids()
    assert last_failed in left and sync_failed in left and older_failed not in left
    assert left == {last_failed, sync_failed, *completed[-2:]}
    assert counts["tasks_by_age"] + counts["tasks_by_count"] == 4
    assert db_api.task_get(last_failed)["error"] == "the cause"


def test_tasks_a_storage_a_schedule_or_a_running_job_points_at_are_kept(db):
    sid = rh.storage()
    last_sync = rh.task(sid, "sync", finished=rh.ago(days=40))
    rh.point_storage_at(sid, last_sync)
    fired = rh.task(sid, "perf_port", finished=rh.ago(days=40))
    rh.schedule(sid, "perf_port", last_task_id=fired)
    submit = rh.task(sid, "job_submit", finished=rh.ago(days=40))
    rh.job(sid, status="RUNNING", updated=rh.ago(days=40), submit_task_id=submit)
    done_submit = rh.task(sid, "job_submit", finished=rh.ago(days=40))
    rh.job(sid, status="COMPLETED", updated=rh.ago(days=1), submit_task_id=done_submit)
    _run(task_max_age=86400, tasks_per_storage_type=0)
    assert rh.task_ids() == {last_sync, fired, submit}
    assert db_api.storage_get(sid)["last_sync_task_id"] == last_sync


def test_a_referenced_task_beyond_the_count_is_kept_and_does_not_stall_the_run(db):
    sid = rh.storage()
    pointed, *newer = rh.tasks(sid, 4, "sync")
    rh.point_storage_at(sid, pointed)
    counts = _run(task_max_age=0, tasks_per_storage_type=1, batch_size=1, max_batches=50)
    assert counts["tasks_by_count"] == 2
    assert rh.task_ids() == {pointed, newer[-1]}


def test_finished_jobs_older_than_the_max_age_go(db):
    sid = rh.storage()
    old_done = rh.job(sid, "COMPLETED", rh.ago(days=31))
    old_failed = rh.job(sid, "FAILED", rh.ago(days=40))
    old_running = rh.job(sid, "RUNNING", rh.ago(days=40))
    old_pending = rh.job(sid, "PENDING", rh.ago(days=40))
    recent = rh.job(sid, "CANCELLED", rh.ago(days=29))
    counts = _run(job_max_age=30 * 86400)
    assert counts["jobs"] == 2
    assert rh.ids(jobs.Job.__table__) == {old_running, old_pending, recent}
    assert {old_done, old_failed}.isdisjoint(rh.ids(jobs.Job.__table__))


def test_perf_gaps_go_by_age_and_beyond_a_count_per_series(db):
    sid = rh.storage()
    aged = [rh.gap(sid, created=rh.ago(days=31)) for _ in range(2)]
    volume = [rh.gap(sid, "volume") for _ in range(6)]
    port = [rh.gap(sid, "port") for _ in range(2)]
    counts = _run(perf_gap_max_age=30 * 86400, perf_gaps_per_series=3)
    assert counts["perf_gaps_by_age"] == 2 and counts["perf_gaps_by_count"] == 3
    assert rh.ids(metrics.PerfGap.__table__) == set(volume[3:]) | set(port)
    assert not set(aged) & rh.ids(metrics.PerfGap.__table__)


def test_each_batch_deletes_at_most_batch_size_and_a_run_at_most_max_batches(db):
    sid = rh.storage()
    rh.tasks(sid, 25, start=rh.ago(days=30))
    assert db_api.tasks_prune_finished_before(rh.ago(days=7), 4) == 4
    assert len(rh.task_ids()) == 21
    counts = _run(task_max_age=7 * 86400, tasks_per_storage_type=0, batch_size=4, max_batches=3)
    assert counts["tasks_by_age"] == 12 and len(rh.task_ids()) == 9
    counts = _run()  # the next run goes on where this one stopped
    assert counts["tasks_by_age"] == 9 and rh.task_ids() == set()


def test_count_pruning_is_batched_across_groups_with_one_budget(db):
    a, b = rh.storage("a"), rh.storage("b")
    rh.tasks(a, 12)
    rh.tasks(b, 12)
    counts = _run(task_max_age=0, tasks_per_storage_type=2, batch_size=3, max_batches=4)
    assert counts["tasks_by_count"] == 12  # 4 batches of 3 over both groups, then the next run
    assert _run()["tasks_by_count"] == 8
    assert len(rh.task_ids()) == 4


def test_a_run_stops_between_batches_when_asked(db):
    sid = rh.storage()
    rh.tasks(sid, 10, start=rh.ago(days=30))
    CONF.set_override("batch_size", 2, group="retention")
    calls = []

    def keep_going():
        calls.append(1)
        return len(calls) <= 2

    counts = retention.Retention(keep_going=keep_going).run_once()
    assert counts["tasks_by_age"] == 4 and len(rh.task_ids()) == 6


def test_disabled_retention_never_starts(db):
    sid = rh.storage()
    old = rh.task(sid, finished=rh.ago(days=30))
    CONF.set_override("enabled", False, group="retention")
    pruner = retention.Retention()
    assert pruner.maybe_start(0.0) is False
    assert rh.task_ids() == {old}


def test_a_run_starts_once_per_interval(db):
    CONF.set_override("interval", 600, group="retention")
    pruner = retention.Retention()
    assert pruner.maybe_start(1000.0) is True
    assert pruner.wait(10)
    assert pruner.maybe_start(1500.0) is False
    assert pruner.maybe_start(1600.0) is True
    assert pruner.wait(10) and pruner.last_counts is not None


def test_alerts_cleared_longer_ago_than_the_max_age_go_and_open_ones_stay(db):
    from delfin_like.db import api as db_api

    sid = rh.storage()

    def alert(seq, seen):
        row, _ = db_api.alert_record(sid, "trap", {"sequence_number": seq, "alert_id": "a", "alert_name": "a",
                                                   "severity": "major", "category": "fault", "type": "equipment"},
                                     seen_at=seen)
        return row["id"]

    cleared = [alert("1", rh.ago(days=40)), alert("2", rh.ago(days=40))]
    old_open = alert("3", rh.ago(days=40))
    for alert_id in cleared:
        db_api.alert_clear(alert_id, "admin")  # cleared now
    CONF.set_override("alert_max_age", 30 * 86400, group="retention")
    # the age counts from the clearing, not from when the alert was seen: 29 days on, all stay
    assert retention.Retention().run_once(now=rh.ago(days=-29))["alerts"] == 0
    counts = retention.Retention().run_once(now=rh.ago(days=-31))
    assert counts["alerts"] == 2
    assert {a["id"] for a in db_api.alert_list()} == {old_open}
    CONF.set_override("alert_max_age", 0, group="retention")
    db_api.alert_clear(old_open, "admin")
    assert retention.Retention().run_once(now=rh.ago(days=-400))["alerts"] == 0
