"""Two delfin-like-scheduler processes on Redis, PostgreSQL and RabbitMQ: SIGKILL the leader.

The follower must take over within the election's lock timeout, and across the
failover every due time of every schedule fires exactly once: periodic
schedules advance by whole intervals with one sync task per interval, each
one-shot creates exactly one task (checked in the database).
"""

import datetime
import os
import signal
import threading
import time
import uuid

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from delfin_like.common.constants import TaskStatus
from delfin_like.db import api as db_api
from delfin_like.db.sqlalchemy import engine, models
from delfin_like.db.sqlalchemy.utils import utcnow
from tests.e2e.conftest import Proc
from tests.unit.task_manager import fakes

pytestmark = pytest.mark.services

LEADER_TIMEOUT = 3
INTERVAL = 12  # longer than a failover on a loaded machine, so no period is ever folded into the next
PERIODIC, ONESHOTS = 5, 10
WINDOW = 22  # seconds over which the one-shots fall due


@pytest.fixture
def conf(tmp_path, postgresql_db, rabbit_url, redis_url):
    path = tmp_path / "scheduler.conf"
    path.write_text(f"""
[DEFAULT]
state_path = {tmp_path / "state"}
transport_url = {rabbit_url}
deployment_name = failover.{uuid.uuid4().hex[:10]}
[database]
connection = {postgresql_db}
[coordination]
backend_url = {redis_url}
[rpc]
topic = failover.{uuid.uuid4().hex[:10]}
[security]
fernet_keys = {Fernet.generate_key().decode()}
[scheduler]
leader_timeout = {LEADER_TIMEOUT}
tick_interval = 0.2
election_group = failover-{uuid.uuid4().hex[:10]}
[task_manager]
membership_group = failover-tm-{uuid.uuid4().hex[:10]}
[alert_sync]
# the firings counted here are the storages' sync schedules only
interval = 0
""")
    return str(path)


@pytest.fixture
def schedulers(conf, tmp_path):
    started = []

    def start(name):
        proc = Proc("delfin-like-scheduler", ["--config-file", conf], tmp_path / f"{name}.log")
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.kill()


def _storage() -> str:
    storage, task = fakes.register_fake_storage(volumes=1, host=f"10.8.{uuid.uuid4().int % 250}.1")
    db_api.task_claim(task["id"], "setup", 60)
    db_api.task_finish(task["id"], TaskStatus.COMPLETED, owner="setup")
    return storage["id"]


def _set_next_run(storage_id, when):
    table = models.Schedule.__table__
    with engine.write() as conn:
        conn.execute(table.update().where(table.c.storage_id == storage_id).values(next_run_at=when))


def _schedule(storage_id):
    table = models.Schedule.__table__
    with engine.read() as conn:
        return conn.execute(sa.select(table).where(table.c.storage_id == storage_id)).one()


def _fired_tasks(storage_id) -> list[dict]:
    tasks = db_api.task_list({"storage_id": storage_id, "type": "sync"}, None, None, None, [("created_at", "asc")])
    return [t for t in tasks if t["lease_owner"] != "setup"]


class Finisher(threading.Thread):
    """Ends every PENDING sync at once, so each firing has to create its own task."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.1):
            for task in db_api.task_list({"status": TaskStatus.PENDING}, None, None, None, []):
                if db_api.task_claim(task["id"], "finisher", 60):
                    db_api.task_finish(task["id"], TaskStatus.COMPLETED, owner="finisher")


def _leader(procs, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        leaders = [p for p in procs if "Elected leader" in p.log]
        if leaders:
            return leaders
        time.sleep(0.1)
    raise AssertionError("no scheduler became leader:\n" + "\n".join(p.log[-2000:] for p in procs))


def test_sigkill_of_the_leader_neither_doubles_nor_skips_a_firing(schedulers):
    periodic = [_storage() for _ in range(PERIODIC)]
    oneshots = [_storage() for _ in range(ONESHOTS)]
    t0 = utcnow() + datetime.timedelta(seconds=3)
    first_due = {}
    for i, sid in enumerate(periodic):
        db_api.sync_policy_set(sid, interval=INTERVAL)
        first_due[sid] = t0 + datetime.timedelta(seconds=i * INTERVAL / PERIODIC)
        _set_next_run(sid, first_due[sid])
    shot_at = {}
    for i, sid in enumerate(oneshots):
        shot_at[sid] = t0 + datetime.timedelta(seconds=1 + i * WINDOW / ONESHOTS)
        db_api.sync_policy_set(sid, next_sync_at=shot_at[sid])

    finisher = Finisher()
    finisher.start()
    try:
        a, b = schedulers("a"), schedulers("b")
        [leader] = _leader([a, b])
        follower = b if leader is a else a
        deadline = time.monotonic() + 30
        while leader.log.count("fired") < 3 and time.monotonic() < deadline:  # a few due times
            time.sleep(0.1)
        assert leader.log.count("fired") >= 3 and "fired" not in follower.log, leader.log[-3000:]
        killed_at = time.monotonic()
        os.killpg(leader.popen.pid, signal.SIGKILL)
        killed_utc = utcnow()
        leader.popen.wait(10)
        _leader([follower], timeout=LEADER_TIMEOUT + 10)
        takeover = time.monotonic() - killed_at
        # the lock outlives its last renewal by at most the timeout; a loaded machine adds to it, but a
        # take-over slower than one interval would fold a period (what the checks below must not see)
        assert takeover < INTERVAL, f"take-over after {takeover:.1f} s"
        print(f"leader SIGKILLed; follower leads {takeover:.2f} s later (lock timeout {LEADER_TIMEOUT} s)")
        end = max(shot_at.values()) + datetime.timedelta(seconds=3)
        while utcnow() < end:
            time.sleep(0.2)
        assert follower.terminate() == 0, follower.log[-3000:]
    finally:
        finisher.stop.set()
        finisher.join(10)

    for sid in oneshots:
        fired = _fired_tasks(sid)
        assert len(fired) == 1, (sid, fired)
        row = _schedule(sid)
        assert row.next_run_at is None and row.last_task_id == fired[0]["id"]
        assert fired[0]["created_at"] >= shot_at[sid]  # never early
    after_kill = 0
    for sid in periodic:
        row = _schedule(sid)
        periods, rest = divmod((row.next_run_at - first_due[sid]).total_seconds(), INTERVAL)
        assert rest == 0, f"{sid}: next run moved off the interval grid (a period was folded or skipped)"
        fired = _fired_tasks(sid)
        assert len(fired) == periods >= 2, (sid, periods, fired)
        for k, task in enumerate(fired):
            assert task["created_at"] >= first_due[sid] + datetime.timedelta(seconds=k * INTERVAL)
        after_kill += sum(task["created_at"] > killed_utc for task in fired)
    assert after_kill > 0 and "fired" in follower.log
    print(f"{after_kill} periodic firing(s) after the kill; every due time fired exactly once")
    assert "Traceback" not in follower.log
