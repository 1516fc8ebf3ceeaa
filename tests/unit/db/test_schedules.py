"""Schedules, firing, retry back-off and task manager records in the db layer, on SQLite."""

import datetime

import pytest
import sqlalchemy as sa

from delfin_like.common import exception
from delfin_like.common.constants import Lane, TaskStatus
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.db.sqlalchemy import dispatch, engine, models
from delfin_like.db.sqlalchemy.utils import utcnow
from tests.db_helpers import register, registration_body

SECOND = datetime.timedelta(seconds=1)


@pytest.fixture
def storage(sqlite_db):
    """A registered storage whose registration sync already ended."""
    storage, task = register(registration_body(port=9001))
    db_api.task_claim(task["id"], "tm-0", 60)
    db_api.task_finish(task["id"], TaskStatus.COMPLETED, owner="tm-0")
    return storage


def _periodic(storage_id, interval=60):
    return db_api.sync_policy_set(storage_id, interval=interval)


def _sync_tasks(storage_id):
    return db_api.task_list({"storage_id": storage_id, "type": "sync"}, None, None, None, [("created_at", "asc")])


def _finish_all(storage_id):
    for task in _sync_tasks(storage_id):
        if task["status"] == TaskStatus.PENDING:
            db_api.task_finish(task["id"], TaskStatus.CANCELLED)


def test_due_scan_returns_enabled_due_rows_oldest_first(sqlite_db):
    a = register(registration_body(port=9001))[0]["id"]
    b = register(registration_body(port=9002))[0]["id"]
    c = register(registration_body(port=9003))[0]["id"]
    _periodic(a, 120)
    _periodic(b, 60)
    _periodic(c, 60)
    db_api.sync_policy_set(c, enabled=False)
    now = utcnow()
    assert db_api.schedules_due(now) == []
    assert [d["storage_id"] for d in db_api.schedules_due(now + 61 * SECOND)] == [b]
    assert [d["storage_id"] for d in db_api.schedules_due(now + 121 * SECOND)] == [b, a]
    assert [d["storage_id"] for d in db_api.schedules_due(now + 121 * SECOND, limit=1)] == [b]


def test_fire_creates_one_task_and_advances_by_one_interval(storage):
    sid = storage["id"]
    _periodic(sid, 60)
    [due] = db_api.schedules_due(utcnow() + 61 * SECOND)
    now = due["next_run_at"] + 2 * SECOND
    fired = db_api.schedule_fire(due, now)
    assert fired["created"] is True and fired["schedule_id"] == due["id"]
    task = fired["task"]
    assert (task["type"], task["priority"], task["status"], task["storage_id"]) == (
        "sync",
        Lane.NORMAL,
        TaskStatus.PENDING,
        sid,
    )
    assert db_api.storage_get(sid)["last_sync_task_id"] == task["id"]
    [again] = db_api.schedules_due(due["next_run_at"] + 61 * SECOND)
    # measured from the due time, not from when it fired: no drift
    assert again["next_run_at"] == due["next_run_at"] + 60 * SECOND
    assert again["last_fired_at"] == now and again["last_task_id"] == task["id"]
    policy = db_api.sync_policy_get(sid)
    assert (policy["last_fired_at"], policy["last_task_id"]) == (now, task["id"])


def test_the_same_due_time_fires_once(storage):
    """A second scheduler holding the same read row (a failover, a paused leader) changes nothing."""
    _periodic(storage["id"], 60)
    [due] = db_api.schedules_due(utcnow() + 61 * SECOND)
    now = due["next_run_at"]
    assert db_api.schedule_fire(due, now) is not None
    _finish_all(storage["id"])  # so a second firing would have had to create a task
    assert db_api.schedule_fire(dict(due), now) is None
    assert db_api.schedule_fire(dict(due), now + 5 * SECOND) is None
    assert len(_sync_tasks(storage["id"])) == 2  # registration + one firing


def test_a_schedule_changed_since_it_was_read_does_not_fire(storage):
    _periodic(storage["id"], 60)
    [due] = db_api.schedules_due(utcnow() + 61 * SECOND)
    db_api.sync_policy_set(storage["id"], interval=300)  # next_run_at moved
    assert db_api.schedule_fire(due, due["next_run_at"]) is None
    db_api.sync_policy_set(storage["id"], enabled=False)
    [row] = _schedule_rows(storage["id"])
    assert db_api.schedule_fire(dict(row._mapping), row.next_run_at + SECOND) is None  # paused rows never fire


def test_missed_periods_fold_into_one_firing(storage):
    _periodic(storage["id"], 60)
    [due] = db_api.schedules_due(utcnow() + 61 * SECOND)
    late = due["next_run_at"] + 3600 * SECOND
    assert db_api.schedule_fire(due, late)["created"]
    [row] = _schedule_rows(storage["id"])
    assert row.next_run_at == late + 60 * SECOND


def test_periodic_firing_reuses_a_queued_or_running_sync(storage):
    sid = storage["id"]
    _periodic(sid, 60)
    queued, _ = db_api.task_create_sync(sid, Lane.URGENT)
    [due] = db_api.schedules_due(utcnow() + 61 * SECOND)
    fired = db_api.schedule_fire(due, due["next_run_at"])
    assert fired["created"] is False and fired["task"]["id"] == queued["id"]
    assert db_api.sync_policy_get(sid)["last_task_id"] == queued["id"]

    assert db_api.task_claim(queued["id"], "tm-1", 60)
    [due] = db_api.schedules_due(due["next_run_at"] + 61 * SECOND)
    fired = db_api.schedule_fire(due, due["next_run_at"])
    assert fired["created"] is False and fired["task"]["id"] == queued["id"]
    assert len(_sync_tasks(sid)) == 2


def test_one_shot_fires_once_even_while_a_sync_runs(storage):
    sid = storage["id"]
    running, _ = db_api.task_create_sync(sid, Lane.URGENT)
    db_api.task_claim(running["id"], "tm-1", 60)
    when = utcnow() + 30 * SECOND
    db_api.sync_policy_set(sid, next_sync_at=when)
    assert db_api.schedules_due(when - SECOND) == []
    [due] = db_api.schedules_due(when)
    fired = db_api.schedule_fire(due, when)
    # a sync that started before the one-shot's time does not count: a new one is queued
    assert fired["created"] is True and fired["task"]["id"] != running["id"]
    assert db_api.schedules_due(when + 3650 * 86400 * SECOND) == []
    assert db_api.sync_policy_get(sid)["next_sync_at"] is None
    assert db_api.schedule_fire(due, when) is None


def test_firing_for_a_storage_being_deleted_does_nothing(storage):
    _periodic(storage["id"], 60)
    [due] = db_api.schedules_due(utcnow() + 61 * SECOND)
    db_api.storage_mark_deleting(storage["id"])
    assert db_api.schedule_fire(due, due["next_run_at"]) is None
    assert _schedule_rows(storage["id"]) == []
    with pytest.raises(exception.StorageBeingDeleted):
        db_api.sync_policy_set(storage["id"], interval=60)


def test_register_with_a_sync_policy_and_clear(sqlite_db):
    body = registration_body(port=9005)
    from delfin_like import driver_manager as dm

    when = utcnow() + 3600 * SECOND
    probed = dm.probe(dm.access_info_from_request(body))
    storage, _ = db_api.storage_register(
        probed,
        {"vendor": body["vendor"], "model": body["model"], "extra_attributes": {}},
        [("rest", "127.0.0.1", 9005)],
        sync_policy={"interval": 900, "enabled": True, "next_sync_at": when},
    )
    policy = db_api.sync_policy_get(storage["id"])
    assert (policy["interval"], policy["enabled"], policy["next_sync_at"]) == (900, True, when)
    assert db_api.sync_policy_clear(storage["id"])["interval"] is None
    assert _schedule_rows(storage["id"]) == []
    with pytest.raises(exception.StorageNotFound):
        db_api.sync_policy_get("missing")


def _schedule_rows(storage_id):
    table = models.Schedule.__table__
    with engine.read() as conn:
        return conn.execute(sa.select(table).where(table.c.storage_id == storage_id)).all()


# ---------------------------------------------------------------- retry back-off


def test_retry_delay_doubles_and_is_capped():
    assert [dispatch.retry_delay(n, 5, 300) for n in range(0, 9)] == [0, 5, 10, 20, 40, 80, 160, 300, 300]
    assert dispatch.retry_delay(10**6, 5, 300) == 300
    assert dispatch.retry_delay(3, 0, 300) == 0


def test_release_sets_the_back_off_and_the_scan_honours_it(sqlite_db):
    CONF.set_override("retry_backoff", 30, group="task_manager")
    CONF.set_override("retry_backoff_max", 45, group="task_manager")
    _, task = register(registration_body(port=9010))
    before = utcnow()
    db_api.task_claim(task["id"], "tm-1", 60)
    assert db_api.task_release(task["id"], "tm-1", "lock busy", 5) == TaskStatus.PENDING
    held = db_api.task_get(task["id"])
    assert before + 30 * SECOND <= held["not_before"] <= utcnow() + 30 * SECOND
    # neither the stale scan nor a task manager joining casts it during the back-off
    assert db_api.tasks_to_redispatch(pending_older_than=0) == []
    assert db_api.tasks_pending_to_cast() == []

    _set_task(task["id"], not_before=utcnow() - SECOND)
    [ready] = db_api.tasks_to_redispatch(pending_older_than=3600)
    assert ready["id"] == task["id"] and ready["not_before"] is None
    assert db_api.tasks_to_redispatch(pending_older_than=3600) == []  # sent once

    db_api.task_claim(task["id"], "tm-2", 60)
    db_api.task_release(task["id"], "tm-2", "lock busy", 5)
    second = db_api.task_get(task["id"])["not_before"]
    assert 44 <= (second - utcnow()).total_seconds() <= 45  # 60 capped to 45


def test_spent_attempts_fail_with_the_last_error(sqlite_db):
    _, task = register(registration_body(port=9011))
    for attempt, owner in enumerate(("a", "b"), start=1):
        db_api.task_claim(task["id"], owner, 60)
        status = db_api.task_release(task["id"], owner, f"backend unreachable #{attempt}", 2)
        if attempt == 1:
            _set_task(task["id"], not_before=None)
    failed = db_api.task_get(task["id"])
    assert (status, failed["status"], failed["error"], failed["attempts"]) == (
        TaskStatus.FAILED,
        TaskStatus.FAILED,
        "backend unreachable #2",
        2,
    )


def test_pending_to_cast_lists_waiting_tasks_and_marks_them(sqlite_db):
    _, first = register(registration_body(port=9012))
    _, second = register(registration_body(port=9013))
    db_api.task_claim(second["id"], "tm", 60)
    assert [t["id"] for t in db_api.tasks_pending_to_cast()] == [first["id"]]
    assert db_api.task_get(first["id"])["updated_at"] >= first["updated_at"]


def _set_task(task_id, **values):
    table = models.Task.__table__
    with engine.write() as conn:
        conn.execute(table.update().where(table.c.id == task_id).values(**values))


# ---------------------------------------------------------------- task manager records


def test_task_manager_records(sqlite_db):
    row = db_api.task_manager_register("host-a:10:abc", "host-a", 10, ("urgent", "normal"))
    assert (row["host"], row["pid"], row["lanes"], row["tasks_done"], row["stopped_at"]) == (
        "host-a",
        10,
        ["urgent", "normal"],
        0,
        None,
    )
    db_api.task_manager_register("host-b:11:def", "host-b", 11, ("background",))
    assert db_api.task_manager_report("host-a:10:abc", 2, 7, 1)
    assert not db_api.task_manager_report("gone:1:x", 0, 0, 0)
    [a] = db_api.task_manager_list({"host": "host-a"})
    assert (a["tasks_running"], a["tasks_done"], a["tasks_failed"]) == (2, 7, 1)
    assert db_api.task_manager_report("host-a:10:abc", 0, 8, 1, stopped=True)
    [a] = db_api.task_manager_list({"host": "host-a"})
    assert a["stopped_at"] is not None and a["tasks_done"] == 8
    assert [r["id"] for r in db_api.task_manager_list(sort="host:asc")] == ["host-a:10:abc", "host-b:11:def"]
    table = models.TaskManagerRecord.__table__
    with engine.write() as conn:
        conn.execute(
            table.update().where(table.c.id == "host-b:11:def").values(last_heartbeat=utcnow() - 7200 * SECOND)
        )
    assert db_api.task_managers_prune(3600) == 1
    assert [r["id"] for r in db_api.task_manager_list()] == ["host-a:10:abc"]
    with pytest.raises(exception.InvalidInput):
        db_api.task_manager_list({"status": "up"})
