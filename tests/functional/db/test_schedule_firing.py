"""Firing races on every database: schedulers that fire the same due rows at the same moment
create exactly one task per due time, and never deadlock (SQLite, PostgreSQL, MariaDB)."""

import datetime
import threading

from delfin_like.common.constants import TaskStatus
from delfin_like.db import api as db_api
from delfin_like.db.sqlalchemy.utils import utcnow
from tests.db_helpers import register, registration_body

STORAGES = 12
RACERS = 4


def test_racing_schedulers_fire_each_due_time_once(any_db):
    ids = []
    for i in range(STORAGES):
        storage, task = register(registration_body(port=9100 + i))
        db_api.task_claim(task["id"], "tm-0", 60)
        db_api.task_finish(task["id"], TaskStatus.COMPLETED, owner="tm-0")
        db_api.sync_policy_set(storage["id"], interval=60)
        ids.append(storage["id"])
    due = db_api.schedules_due(utcnow() + datetime.timedelta(seconds=61))
    assert sorted(d["storage_id"] for d in due) == sorted(ids)

    wins, errors = [], []
    barrier = threading.Barrier(RACERS)

    def racer(offset: int):
        barrier.wait(10)
        # each racer walks the same rows from a different starting point, as two scans would
        for schedule in due[offset:] + due[:offset]:
            try:
                fired = db_api.schedule_fire(dict(schedule), schedule["next_run_at"])
            except Exception as e:  # noqa: BLE001 - collected and asserted below
                errors.append(repr(e))
                continue
            if fired is not None:
                wins.append((schedule["id"], fired["task"]["id"], fired["created"]))

    threads = [threading.Thread(target=racer, args=(i * 3,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(w[0] for w in wins) == sorted(d["id"] for d in due)  # each due row won exactly once
    assert all(created for _, _, created in wins)
    for storage_id in ids:
        tasks = db_api.task_list({"storage_id": storage_id, "status": TaskStatus.PENDING}, None, None, None, [])
        assert len(tasks) == 1
    for schedule in due:
        [row] = [
            d
            for d in db_api.schedules_due(schedule["next_run_at"] + datetime.timedelta(seconds=60))
            if d["id"] == schedule["id"]
        ]
        assert row["next_run_at"] == schedule["next_run_at"] + datetime.timedelta(seconds=60)


def test_missing_alert_sync_schedules_created_once_and_fired_once(any_db):
    """Two schedulers (a failover) give the storages registered without one their periodic alert
    sync schedule at the same moment: one row per storage, no error; racing firings then create one
    alert sync task per storage."""
    ids = []
    for i in range(STORAGES):
        storage, _task = register(registration_body(port=9200 + i))
        ids.append(storage["id"])
    created, errors = [], []
    barrier = threading.Barrier(2)

    def ensure():
        barrier.wait(10)
        try:
            created.append(db_api.alert_sync_schedules_ensure(300))
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(e))

    threads = [threading.Thread(target=ensure) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    # the loser of a race sees the rows already there (0) or creates none
    assert sum(created) == STORAGES and db_api.alert_sync_schedules_ensure(300) == 0
    due = [d for d in db_api.schedules_due(utcnow() + datetime.timedelta(seconds=1))
           if d["kind"] == "periodic_alert_sync"]
    assert sorted(d["storage_id"] for d in due) == sorted(ids)
    wins = []

    def racer(offset: int):
        for schedule in due[offset:] + due[:offset]:
            fired = db_api.schedule_fire(dict(schedule), schedule["next_run_at"])
            if fired is not None:
                wins.append(fired["task"])

    threads = [threading.Thread(target=racer, args=(i * 5,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(t["storage_id"] for t in wins) == sorted(ids)
    assert {t["type"] for t in wins} == {"alert_sync"}
    for storage_id in ids:
        policy = db_api.sync_policy_get(storage_id)
        assert policy["alert_sync_enabled"] and policy["last_alert_sync_task_id"] in {t["id"] for t in wins}
