"""Fault tests: RabbitMQ restarted under a burst of API sync requests; Redis restarted under running syncs.

Each test restarts a RabbitMQ node or a Redis server of its own, on free ports
(:mod:`tests.private_services`), never the machine's shared servers.
"""

import concurrent.futures
import random
import threading
import time

import pytest
import requests

from delfin_like.common.constants import TaskStatus
from delfin_like.db import api as db_api
from delfin_like.rpc import client as rpc_client
from delfin_like.rpc import transport as rpc_transport
from tests.e2e.fault_env import FaultEnv, lock_holds, overlaps
from tests.private_services import private_rabbit, private_redis, wait_port  # noqa: F401 - fixtures
from tests.unit.task_manager import fakes

pytestmark = pytest.mark.services

REQUESTS = 1000
# sent before the outage; the rest are paced from the moment the broker is down (however long its
# stop took on a loaded machine), so the burst always straddles the outage
BEFORE_OUTAGE = REQUESTS // 3
CLIENTS = 16
STORAGES = 400
# requests per second: the burst lasts long enough to straddle the outage
RATE = 60
BROKER_DOWN_SECONDS = 4


def _faults(tmp_path, postgresql_url, rabbit_url, redis_url, fernet_key):
    env = FaultEnv(tmp_path, postgresql_url, rabbit_url, redis_url, fernet_key, debug=True)
    try:
        yield env
    finally:
        env.kill_all()
        rpc_transport.cleanup()


@pytest.fixture
def broker_faults(tmp_path, postgresql_url, private_rabbit, redis_url, fernet_key):  # noqa: F811
    """The processes on a RabbitMQ node of this module's own (the shared Redis is never stopped)."""
    yield from _faults(tmp_path, postgresql_url, private_rabbit.url, redis_url, fernet_key)


@pytest.fixture
def redis_faults(tmp_path, postgresql_url, rabbit_url, private_redis, fernet_key):  # noqa: F811
    """The processes on a Redis server of this test's own (the shared RabbitMQ is never stopped)."""
    yield from _faults(tmp_path, postgresql_url, rabbit_url, private_redis.url, fernet_key)


# ------------------------------------------------------------------ RabbitMQ


def test_rabbitmq_restart_during_a_burst_of_sync_requests(broker_faults, private_rabbit):  # noqa: F811
    faults = broker_faults
    for _ in range(2):
        faults.start_task_manager()
    faults.start_scheduler()
    faults.start_api()
    base = f"http://127.0.0.1:{faults.port}"
    # most requests queue a new sync (and cast it); some find one still PENDING and join it
    storage_ids = []
    for i in range(STORAGES):
        storage, task = faults.register(i, pools=1, volumes=5)
        db_api.task_finish(task["id"], TaskStatus.CANCELLED, error="not needed here")
        storage_ids.append(storage["id"])
    rng = random.Random(5)
    targets = [rng.choice(storage_ids) for _ in range(REQUESTS)]

    answered: list[tuple[float, float, int, dict]] = []  # (sent, received, status, body)
    errors: list[str] = []
    window: dict[str, float] = {}
    broker_down = threading.Event()
    lock = threading.Lock()
    local = threading.local()

    def sync(index_and_storage):
        index, storage_id = index_and_storage
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        if index < BEFORE_OUTAGE:
            start, position = burst_start, index
        else:
            broker_down.wait(180)  # bounded: set in a finally
            start, position = window.get("down_monotonic", burst_start), index - BEFORE_OUTAGE
        time.sleep(max(0.0, start + position / RATE - time.monotonic()))
        sent = time.time()
        try:
            # bounded: a request that hangs is a failure, not a wait
            r = session.post(f"{base}/v1/storages/{storage_id}/sync", timeout=(5, 60))
        except requests.RequestException as e:
            with lock:
                errors.append(f"{type(e).__name__}: {e}")
            return
        with lock:
            answered.append((sent, time.time(), r.status_code, r.json()))

    def restart_broker():
        # once a quarter of the requests is answered, the broker goes away for a few seconds (bounded wait:
        # a request failing in a way neither list records must not hold the broker up forever)
        deadline = time.monotonic() + 120
        while len(answered) < REQUESTS // 4 and not errors and time.monotonic() < deadline:
            time.sleep(0.05)
        try:
            private_rabbit.stop_app()
            window["down"], window["down_monotonic"] = time.time(), time.monotonic()
            broker_down.set()
            time.sleep(BROKER_DOWN_SECONDS)
        finally:
            broker_down.set()
            window["up_requested"] = time.time()
            private_rabbit.start_app()
            window["up"] = time.time()

    restarter = threading.Thread(target=restart_broker)
    restarter.start()
    burst_start = time.monotonic()
    try:
        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(sync, enumerate(targets)))
    finally:
        restarter.join(180)
        if "up" not in window:
            private_rabbit.start_app()
    assert wait_port(private_rabbit.port, 60)

    assert errors == [], errors[:5]
    assert len(answered) == REQUESTS
    statuses = {status for _, _, status, _ in answered}
    assert statuses <= {202, 503}, statuses
    unavailable = [(s, body) for s, _, status, body in answered if status == 503]
    assert {body["error_code"] for _, body in unavailable} <= {"MessageBusUnavailable"}
    # requests sent while the broker was down: the API said so with 503s
    during = [status for sent, _, status, _ in answered if window["down"] <= sent < window["up_requested"]]
    assert 503 in during, sorted(set(during))
    accepted = {body["task"]["id"] for _, _, status, body in answered if status == 202}
    done = faults.wait_finished(accepted, timeout=180)
    stuck = [(t["id"], t["status"], t["error"]) for t in done if t["status"] != TaskStatus.COMPLETED]
    assert stuck == [], f"{len(stuck)} accepted task(s) not COMPLETED: {stuck[:5]}"
    print(
        f"{len(accepted)} tasks accepted and completed; {len(unavailable)} requests answered 503; "
        f"broker down {window['up'] - window['down']:.1f} s"
    )


# ------------------------------------------------------------------ Redis


def test_redis_restart_never_lets_two_syncs_of_a_storage_overlap(redis_faults, private_redis):  # noqa: F811
    faults = redis_faults
    managers = [faults.start_task_manager() for _ in range(3)]
    faults.start_scheduler()
    # slow syncs: each holds its storage's lock for over 8 s, well across the restart
    storages = [faults.register(i, pools=2, volumes=200, delay=8) for i in range(4)]
    api = rpc_client.TaskAPI()
    task_ids = []
    for _, task in storages:
        api.run_task(None, task)
        task_ids.append(task["id"])

    def queue_syncs():
        # another sync of every storage, on the urgent lane's own workers: it waits for the lock
        for storage, _ in storages:
            task, created = db_api.task_create_sync(storage["id"], "urgent")
            if created:
                api.run_task(None, task)
                task_ids.append(task["id"])

    assert fakes.wait_for(lambda: all(t["status"] == TaskStatus.RUNNING for t in faults.tasks(task_ids)), 30)

    def first_syncs_hold_their_locks():
        # RUNNING is not enough: a sync may still wait out the restart grace of this just-started Redis
        holds = lock_holds([m.log for m in managers])
        return sum(1 for v in holds.values() for h in v if h[1] == float("inf")) >= len(storages)

    assert fakes.wait_for(first_syncs_hold_their_locks, 30)
    queue_syncs()
    time.sleep(1.5)
    down = time.time()
    # no persistence: the restarted server has lost every lock key
    private_redis.kill()
    try:
        assert wait_port(private_redis.port, 5, up=False)
        time.sleep(1)
    finally:
        private_redis.start()
        up = time.time()
    for _ in range(3):
        time.sleep(2)
        queue_syncs()
    done = faults.wait_finished(task_ids, timeout=240)
    assert {t["status"] for t in done} <= {TaskStatus.COMPLETED}, [
        (t["id"], t["status"], t["error"]) for t in done if t["status"] != TaskStatus.COMPLETED
    ][:5]
    holds = lock_holds([m.log for m in managers])
    assert sum(len(v) for v in holds.values()) >= len(task_ids)
    # the restart wiped the keys of locks held across it
    spanning = [h for v in holds.values() for h in v if h[0] < down and h[1] > up]
    print(f"{len(task_ids)} syncs; {len(spanning)} held a lock across the restart ({up - down:.1f} s)")
    assert spanning
    assert overlaps(holds) == []
    for storage, _ in storages:
        assert faults.row_mismatches(storage["id"]) == []
