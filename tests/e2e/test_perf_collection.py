"""Perf collection across real processes: SIGKILL a task manager in the middle of a window.

Two ``delfin-like-task`` processes, a ``delfin-like-scheduler`` and ``delfin-like-api`` on
RabbitMQ, Redis and PostgreSQL. A fake storage collects volume metrics every 2 s and each
collection takes 3 s, so a window is always in flight; the test kills the task manager
running one. The window is not lost (the task's lease lapses, the scheduler casts it again,
the other task manager collects it) and not exported twice: the notifications a real
listener consumed chain without gap or overlap, one per window, and /metrics shows the
last window's values exactly as the fake driver's counters give them.
"""

import time
import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from delfin_like import rpc  # noqa: F401 - selects the threading backend before oslo_messaging
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from tests.e2e.fault_env import FaultEnv
from tests.perf_outputs import NotificationConsumer
from tests.unit.task_manager import perf_helpers
from tests.waits import wait_until

pytestmark = pytest.mark.services

ATTRS = {"pools": 1, "volumes": 4, "seed": 21, "perf_min_interval": 1, "perf_delay": 3}


@pytest.fixture
def env(tmp_path, postgresql_url, rabbit_url, redis_url, fernet_key):
    topic = f"delfin_perf_e2e.{uuid.uuid4().hex[:10]}"
    env = FaultEnv(
        tmp_path,
        postgresql_url,
        rabbit_url,
        redis_url,
        fernet_key,
        exporters={"enabled": "prometheus,notification", "retention_seconds": "600"},
        oslo_messaging_notifications={"topics": topic},
    )
    CONF.set_override("transport_url", rabbit_url, group="oslo_messaging_notifications")
    CONF.set_override("topics", [topic], group="oslo_messaging_notifications")
    consumer = NotificationConsumer(topic)
    consumer.listener.start()
    yield env, consumer
    consumer.listener.stop()
    consumer.listener.wait()
    env.kill_all()


def _perf_tasks(storage_id):
    return db_api.task_list({"storage_id": storage_id, "type": "perf_volume"}, 1000, None, None, None)


def test_sigkill_in_the_middle_of_a_window_loses_and_repeats_nothing(env):
    env, consumer = env
    tms = [env.start_task_manager(), env.start_task_manager()]
    env.start_scheduler()
    env.start_api()
    base = f"http://127.0.0.1:{env.port}"
    body = {
        "vendor": "fake_storage",
        "model": "fake_driver",
        "extra_attributes": ATTRS,
        "rest": {"host": "192.0.2.77", "port": 8443, "username": "admin", "password": "pw-" + uuid.uuid4().hex},
    }
    resp = requests.post(f"{base}/v1/storages", json=body, timeout=30)
    assert resp.status_code == 201, resp.text
    storage = resp.json()
    sid = storage["id"]
    config = {"volume_polling": {"perf_collection": True, "interval": 2, "is_historic": False}}
    resp = requests.put(f"{base}/v1/storages/{sid}/metrics-config", json=config, timeout=10)
    assert resp.status_code == 200, resp.text

    done = lambda n: len([t for t in _perf_tasks(sid) if t["status"] == "COMPLETED"]) >= n  # noqa: E731
    wait_until(lambda: done(2), 60, "two windows collected")
    running = wait_until(lambda: [t for t in _perf_tasks(sid) if t["status"] == "RUNNING"], 30, "a window in flight")[0]
    time.sleep(1)  # well inside the 3 s the driver takes: nothing of this window is committed yet
    victim_pid = int(running["lease_owner"].split(":")[1])
    victim = next(p for p in tms if victim_pid in p.worker_pids())
    env.sigkill(victim)
    killed_at = time.monotonic()

    redone = wait_until(
        lambda: (t := db_api.task_get(running["id"]))["status"] == "COMPLETED" and t,
        60,
        "the killed window collected again",
    )
    assert redone["attempts"] == 2 and int(redone["lease_owner"].split(":")[1]) != victim_pid
    completed_before = len([t for t in _perf_tasks(sid) if t["status"] == "COMPLETED"])
    wait_until(lambda: done(completed_before + 2), 60, "collection going on after the kill")
    assert time.monotonic() - killed_at < 120

    # /metrics shows the newest window exactly
    text = requests.get(f"{base}/metrics", timeout=30).text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    last_end = [
        s.value
        for s in families["delfin_like_perf_last_window_end_timestamp_seconds"].samples
        if s.labels["storage_id"] == sid
    ][0]
    window = next(
        t["result"]
        for t in _perf_tasks(sid)
        if t["status"] == "COMPLETED" and t["result"]["window_end_us"] / 1e6 == last_end
    )
    drv = perf_helpers.fake_driver_of(ATTRS, "192.0.2.77", 8443)
    expected = perf_helpers.expected_values(drv, "volume", window["window_start_us"], window["window_end_us"])
    scraped = {
        (s.labels["resource_id"], s.name): s.value
        for s in families["delfin_like_read_iops"].samples
        if s.labels["storage_id"] == sid
    }
    assert scraped == {(rid, "delfin_like_read_iops"): v for (rid, m), v in expected.items() if m == "read_iops"}

    # stop collecting, let the last window settle, then check the chain of notifications
    resp = requests.put(
        f"{base}/v1/storages/{sid}/metrics-config",
        json={"volume_polling": {**config["volume_polling"], "perf_collection": False}},
        timeout=10,
    )
    assert resp.status_code == 200
    wait_until(
        lambda: all(t["status"] not in ("PENDING", "RUNNING") for t in _perf_tasks(sid)), 30, "collection stopped"
    )
    committed = sorted(
        (t["result"]["window_start_us"], t["result"]["window_end_us"])
        for t in _perf_tasks(sid)
        if t["status"] == "COMPLETED"
    )
    consumer.wait_for(len(committed), 30)  # every window's notification
    time.sleep(1)
    with consumer.lock:
        windows = [(round(p["window_start"] * 1e6), round(p["window_end"] * 1e6)) for _, _, p in consumer.received]
        ids = [message_id for message_id, _, _ in consumer.received]
    assert len(ids) == len(set(ids)), "a batch was delivered twice"
    assert sorted(windows) == committed, "each committed window is exported exactly once"
    for (_, end), (start, _) in zip(committed, committed[1:], strict=False):
        assert start == end, "windows must chain without gap or overlap"
    assert db_api.perf_gaps_list(sid) == []
    assert [t for t in _perf_tasks(sid) if t["status"] == "FAILED"] == []
