"""Fault tests: RabbitMQ restarted under a burst of API sync requests; Redis restarted under running syncs.

Both restart a service other tests share, once, for a few seconds, and always
start it again in a ``finally``. They need root (``rabbitmqctl``, and the
``redis-server`` command line of tools/run-tests.sh).
"""

import concurrent.futures
import os
import random
import subprocess
import threading
import time

import pytest
import requests

from delfin_like.common.constants import TaskStatus
from delfin_like.db import api as db_api
from delfin_like.rpc import client as rpc_client
from delfin_like.rpc import transport as rpc_transport
from tests import services
from tests.e2e.fault_env import FaultEnv, lock_holds, overlaps, run_root
from tests.unit.task_manager import fakes

pytestmark = pytest.mark.services

REQUESTS = 1000
CLIENTS = 16
STORAGES = 400
# requests per second: the burst lasts long enough to straddle the outage
RATE = 60
BROKER_DOWN_SECONDS = 4
# tools/run-tests.sh starts Redis this way: no persistence, so a restart loses every lock
REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]


def _need_root(tool: str) -> None:
    if os.geteuid() != 0 or not any(
        os.access(os.path.join(d, tool), os.X_OK) for d in os.environ.get("PATH", "").split(os.pathsep) + ["/usr/sbin"]
    ):
        message = f"restarting a shared service needs root and {tool}"
        if services.IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def faults(tmp_path, postgresql_url, rabbit_url, redis_url, fernet_key):
    env = FaultEnv(tmp_path, postgresql_url, rabbit_url, redis_url, fernet_key, debug=True)
    yield env
    env.kill_all()
    rpc_transport.cleanup()


def _wait_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if services._reachable("127.0.0.1", port, timeout=1):
            return True
        time.sleep(0.2)
    return False


# ------------------------------------------------------------------ RabbitMQ


def test_rabbitmq_restart_during_a_burst_of_sync_requests(faults):
    _need_root("rabbitmqctl")
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
    lock = threading.Lock()
    local = threading.local()

    def sync(index_and_storage):
        index, storage_id = index_and_storage
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        time.sleep(max(0.0, burst_start + index / RATE - time.monotonic()))
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
        # once a quarter of the burst is answered, the broker goes away for a few seconds (bounded wait:
        # a request failing in a way neither list records must not hold the broker up forever)
        deadline = time.monotonic() + 120
        while len(answered) < REQUESTS // 4 and not errors and time.monotonic() < deadline:
            time.sleep(0.05)
        try:
            run_root(["rabbitmqctl", "stop_app"])
            window["down"] = time.time()
            time.sleep(BROKER_DOWN_SECONDS)
        finally:
            window["up_requested"] = time.time()
            run_root(["rabbitmqctl", "start_app"], timeout=120)
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
            run_root(["rabbitmqctl", "start_app"], timeout=120)
    assert _wait_port(5672, 60)

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


def test_redis_restart_never_lets_two_syncs_of_a_storage_overlap(faults):
    _need_root("redis-server")
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
    queue_syncs()
    time.sleep(1.5)
    down = time.time()
    try:
        run_root(["redis-cli", "shutdown", "nosave"], timeout=30)
    except AssertionError:
        pass  # redis-cli reports the closed connection of a successful shutdown as an error
    try:
        assert not _wait_port(6379, 0.5)
        time.sleep(1)
    finally:
        subprocess.run(REDIS_START, capture_output=True, timeout=30)
        assert _wait_port(6379, 30)
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
