"""Tasks through the bus: sync tasks/s with 1 and 2 task managers, raw kombu next to it, and the lanes.

Real ``delfin-like-task`` processes on RabbitMQ, Redis and a fresh PostgreSQL
database; fake storages with a tiny inventory (one pool, one volume), so the
figure is the platform's cost per task: cast, claim, lock, driver, diff, one
transaction. Then raw kombu publish+consume on the same broker (the ceiling of
the bus here), and the lanes: with 10,000 background syncs queued, how long a
manual (urgent-lane) sync of another storage takes from cast to COMPLETED.
Prints one JSON document.

    python benchmarks/tasks_bench.py
    python benchmarks/tasks_bench.py --tasks 500 --backlog 2000
"""

import argparse
import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

POSTGRES_ADMIN = os.environ.get("DELFIN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
RABBIT_URL = os.environ.get("DELFIN_BENCH_RABBIT_URL", "rabbit://guest:guest@127.0.0.1:5672/")
REDIS_URL = os.environ.get("DELFIN_BENCH_REDIS_URL", "redis://127.0.0.1:6379")
BIN = os.path.dirname(sys.executable)
TINY = {"pools": 1, "volumes": 1, "controllers": 0, "ports_per_controller": 0, "disks": 0}


def _server_db(admin_url: str):
    import sqlalchemy as sa

    name = f"delfin_bench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop():
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()

    return sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


class TaskManagers:
    """``delfin-like-task`` processes on one config file."""

    def __init__(self, conf_path: str, log_dir: str):
        self.conf_path = conf_path
        self.log_dir = log_dir
        self.procs: list[tuple[subprocess.Popen, str]] = []

    def start(self, count: int) -> None:
        for _ in range(count):
            log = os.path.join(self.log_dir, f"task{len(self.procs) + 1}.log")
            with open(log, "wb") as out:
                proc = subprocess.Popen(
                    [os.path.join(BIN, "delfin-like-task"), "--config-file", self.conf_path],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self.procs.append((proc, log))
        deadline = time.monotonic() + 60
        for proc, log in self.procs:
            while "Consuming task lanes" not in open(log, errors="replace").read():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"task manager did not start; see {log}")
                time.sleep(0.1)

    def stop(self) -> None:
        for proc, _ in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        self.procs.clear()


def _wait_completed(db_api, task_ids: list[str], timeout: float) -> float:
    """Poll until every task is finished; returns the time.monotonic() it was seen.

    Cheap on the database (the task managers share its CPU): two one-row queries per
    poll for a batch, one primary-key read for a single task.
    """
    from delfin_like.common.constants import TaskStatus

    deadline = time.monotonic() + timeout
    while True:
        if len(task_ids) == 1:
            busy = db_api.task_state(task_ids[0])["status"] not in TaskStatus.FINISHED
        else:
            # a batch is every task not yet finished in the database
            busy = any(db_api.task_list({"status": s}, 1, None, None, None) for s in TaskStatus.ACTIVE)
        if not busy:
            return time.monotonic()
        if time.monotonic() > deadline:
            raise RuntimeError(f"tasks not finished within {timeout} s")
        time.sleep(0.02)


def _cast_all(rpcapi, tasks: list[dict]) -> float:
    """Cast every task; returns the casts per second."""
    started = time.perf_counter()
    for task in tasks:
        rpcapi.run_task(None, task)
    return len(tasks) / (time.perf_counter() - started)


def throughput(db_api, rpcapi, managers: TaskManagers, storage_ids: list[str], count: int) -> dict:
    """One sync task per storage through ``count`` task managers: tasks/s from first cast to last COMPLETED."""
    managers.start(count)
    try:
        tasks = [db_api.task_create_sync(sid, "normal")[0] for sid in storage_ids]
        started = time.monotonic()
        cast_rate = _cast_all(rpcapi, tasks)
        done = _wait_completed(db_api, [t["id"] for t in tasks], timeout=600)
        statuses = {db_api.task_state(t["id"])["status"] for t in tasks}
        return {
            "task_managers": count,
            "tasks": len(tasks),
            "seconds": round(done - started, 2),
            "tasks_per_s": round(len(tasks) / (done - started), 1),
            "casts_per_s": round(cast_rate),
            "statuses": sorted(statuses),
        }
    finally:
        managers.stop()


def raw_kombu(url: str, count: int) -> dict:
    """Publish ``count`` messages and consume them concurrently with kombu (acks, prefetch 100)."""
    import kombu

    amqp = url.replace("rabbit://", "amqp://", 1)
    queue = kombu.Queue(f"delfin_bench_raw.{uuid.uuid4().hex[:8]}", auto_delete=False, durable=False)
    body = {"method": "run_task", "args": {"task_id": str(uuid.uuid4())}, "version": "1.0", "pad": "x" * 300}
    consumed = threading.Event()
    seen = [0]

    def consume():
        with kombu.Connection(amqp) as conn:

            def on_message(_body, message):
                message.ack()
                seen[0] += 1
                if seen[0] >= count:
                    consumed.set()

            with conn.Consumer(queue, callbacks=[on_message], prefetch_count=100):
                deadline = time.monotonic() + 300  # the producer's wait: never outlive it
                while not consumed.is_set() and time.monotonic() < deadline:
                    try:
                        conn.drain_events(timeout=1)
                    except TimeoutError:
                        pass

    with kombu.Connection(amqp) as conn:
        queue(conn.default_channel).declare()
        consumer = threading.Thread(target=consume, daemon=True)
        consumer.start()
        producer = conn.Producer(serializer="json")
        started = time.perf_counter()
        for _ in range(count):
            producer.publish(body, routing_key=queue.name, declare=[queue])
        published = time.perf_counter() - started
        consumed.wait(300)
        total = time.perf_counter() - started
        queue(conn.default_channel).delete()
    return {
        "messages": count,
        "publish_per_s": round(count / published),
        "publish_and_consume_per_s": round(seen[0] / total),
    }


def lanes(db_api, rpcapi, managers: TaskManagers, storage_ids: list[str], urgent_id: str, backlog: int) -> dict:
    """Queue ``backlog`` background syncs, then time manual syncs of another storage on the urgent lane."""
    from delfin_like.common.constants import TaskStatus, TaskType

    def create(i):
        return db_api.task_create(TaskType.SYNC, storage_ids[i % len(storage_ids)], "background")

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        tasks = list(pool.map(create, range(backlog)))
    _cast_all(rpcapi, tasks)
    managers.start(1)
    try:
        time.sleep(2)  # the background lane is busy
        runs = []
        for _ in range(3):
            queued = len(
                db_api.task_list({"status": TaskStatus.PENDING, "priority": "background"}, None, None, None, None)
            )
            started = time.monotonic()
            task, _ = db_api.task_create_sync(urgent_id, "urgent")
            rpcapi.run_task(None, task)
            done = _wait_completed(db_api, [task["id"]], timeout=60)
            runs.append(
                {
                    "seconds": round(done - started, 3),
                    "background_pending": queued,
                    "status": db_api.task_state(task["id"])["status"],
                }
            )
            time.sleep(0.5)
        return {"backlog": backlog, "urgent_syncs": runs, "max_seconds": max(r["seconds"] for r in runs)}
    finally:
        managers.stop()


def _delete_queues(url: str, topic: str) -> None:
    import kombu

    with kombu.Connection(url.replace("rabbit://", "amqp://", 1)) as conn:
        for lane in ("urgent", "normal", "background"):
            for name in (f"{topic}.{lane}", f"{topic}.{lane}.{os.uname().nodename}"):
                try:
                    kombu.Queue(name, channel=conn.channel()).delete()
                except Exception:  # noqa: BLE001 - a queue that was never declared
                    pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000, help="sync tasks per throughput run (one per storage)")
    parser.add_argument("--backlog", type=int, default=10000, help="background syncs queued for the lanes run")
    parser.add_argument("--raw", type=int, default=20000, help="messages for the raw kombu run")
    args = parser.parse_args(argv)

    from cryptography.fernet import Fernet

    import delfin_like.cmd  # noqa: F401 - selects the threading backend first
    from delfin_like import driver_manager as dm
    from delfin_like.common import crypto
    from delfin_like.common.constants import TaskStatus
    from delfin_like.conf import CONF
    from delfin_like.db import api as db_api
    from delfin_like.db import migration
    from delfin_like.rpc import client as rpc_client
    from delfin_like.rpc import transport as rpc_transport

    tmp = tempfile.TemporaryDirectory()
    url, drop = _server_db(POSTGRES_ADMIN)
    topic = f"delfin_bench.{uuid.uuid4().hex[:8]}"
    key = Fernet.generate_key().decode()
    conf_path = os.path.join(tmp.name, "delfin_like.conf")
    with open(conf_path, "w") as f:
        f.write(
            f"[DEFAULT]\nstate_path = {tmp.name}/state\ntransport_url = {RABBIT_URL}\ndeployment_name = {topic}\n"
            f"[database]\nconnection = {url}\n[coordination]\nbackend_url = {REDIS_URL}\n"
            f"[rpc]\ntopic = {topic}\n[security]\nfernet_keys = {key}\n"
            f"[task_manager]\nmembership_group = {topic}.tm\n"
        )
    CONF([], project="delfin_like", default_config_files=[])
    CONF.set_override("fernet_keys", [key], group="security")
    rpc_transport.register_opts()
    CONF.set_override("transport_url", RABBIT_URL)
    CONF.set_override("topic", topic, group="rpc")
    managers = TaskManagers(conf_path, tmp.name)
    report = {
        "benchmark": "tasks",
        "broker": "rabbitmq 127.0.0.1",
        "database": "postgresql",
        "inventory": TINY,
        "workers_per_lane": 4,
    }
    try:
        migration.upgrade("head", url=url)
        db_api.configure(url)
        storage_ids = []
        for i in range(args.tasks + 1):
            rest = {"host": f"10.{i // 250}.{i % 250}.9", "port": 8443, "username": "bench", "password": "bench"}
            body = {
                "vendor": "fake_storage",
                "model": "fake_driver",
                "rest": rest,
                "extra_attributes": {**TINY, "seed": i},
            }
            storage, task = db_api.storage_register(
                dm.probe(dm.access_info_from_request(body)),
                {
                    "vendor": "fake_storage",
                    "model": "fake_driver",
                    "rest": crypto.encrypt_block(rest),
                    "extra_attributes": body["extra_attributes"],
                },
                [("rest", rest["host"], rest["port"])],
            )
            db_api.task_finish(task["id"], TaskStatus.CANCELLED, error="benchmark set-up")
            storage_ids.append(storage["id"])
        urgent_id, storage_ids = storage_ids[-1], storage_ids[:-1]
        rpcapi = rpc_client.TaskAPI()
        # a first pass writes the inventories; the measured passes are steady-state re-syncs
        throughput(db_api, rpcapi, managers, storage_ids, 2)
        report["bus"] = [throughput(db_api, rpcapi, managers, storage_ids, n) for n in (1, 2)]
        print(json.dumps(report["bus"]), file=sys.stderr)
        report["raw_kombu"] = raw_kombu(RABBIT_URL, args.raw)
        print(json.dumps(report["raw_kombu"]), file=sys.stderr)
        report["lanes"] = lanes(db_api, rpcapi, managers, storage_ids, urgent_id, args.backlog)
    finally:
        managers.stop()
        rpc_transport.cleanup()
        _delete_queues(RABBIT_URL, topic)
        db_api.dispose()
        drop()
        tmp.cleanup()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
