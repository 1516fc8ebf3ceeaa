"""Shared set-up of the fault tests: one config for every process, fake storages, exact row checks.

The processes (``delfin-like-task``, ``delfin-like-scheduler``, ``delfin-like-api``)
run on real RabbitMQ, Redis and PostgreSQL with short leases, so a task whose
worker died is cast again within seconds. The test process itself registers
storages and reads rows through ``delfin_like.db.api`` on the same database.
"""

import os
import re
import signal
import time
import uuid

import kombu

from delfin_like import driver_manager
from delfin_like.common import crypto
from delfin_like.common.constants import TaskStatus
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.db import migration
from delfin_like.rpc import transport as rpc_transport
from delfin_like.sdk import models
from delfin_like_drivers.fake import driver as fake_driver
from tests.e2e.conftest import Proc, free_port, write_conf
from tests.unit.task_manager import fakes

RESOURCE_TYPES = ("storage_pools", "volumes", "controllers", "ports", "disks")
LISTERS = {
    "storage_pools": "list_storage_pools",
    "volumes": "list_volumes",
    "controllers": "list_controllers",
    "ports": "list_ports",
    "disks": "list_disks",
}
# every log line starts with the wall-clock time in seconds: the lock-hold checks compare processes
LOG_FORMAT = "%(created).6f %(process)d %(levelname)s %(name)s %(message)s"
QUIET = (
    "amqp=WARN",
    "amqplib=WARN",
    "kombu=WARN",
    "oslo.messaging=INFO",
    "oslo_messaging=INFO",
    "tooz=INFO",
    "stevedore=WARN",
    "urllib3=WARN",
    "sqlalchemy=WARN",
    "oslo_service=INFO",
    "cotyledon=INFO",
)


class FaultEnv:
    """A config file, the processes started from it, and helpers on its database."""

    def __init__(
        self,
        tmp_path,
        postgresql_url: str,
        rabbit_url: str,
        redis_url: str,
        fernet_key: str,
        debug: bool = False,
        **sections,
    ):
        self.dir = tmp_path
        self.db_url = postgresql_url
        self.rabbit_url = rabbit_url
        self.redis_url = redis_url
        self.port = free_port()
        self.topic = f"delfin_faults.{uuid.uuid4().hex[:10]}"
        self.procs: list[Proc] = []
        self._serial = 0
        # short leases and scans: a lost task is cast again within seconds
        conf = {
            "DEFAULT": {
                "debug": str(debug).lower(),
                "deployment_name": self.topic,
                "state_path": str(tmp_path / "state"),
                "transport_url": rabbit_url,
                "graceful_shutdown_timeout": "15",
                "logging_default_format_string": LOG_FORMAT,
                "logging_context_format_string": LOG_FORMAT,
                "default_log_levels": ",".join(QUIET),
            },
            "api": {"host": "127.0.0.1", "port": str(self.port)},
            "database": {"connection": postgresql_url},
            # a lock of a killed holder lapses after 5 s; live holders beat every second
            "coordination": {
                "backend_url": f"{redis_url}?lock_timeout=5",
                "heartbeat_interval": "1",
                "lock_wait_timeout": "10",
            },
            "rpc": {"topic": self.topic},
            "security": {"fernet_keys": fernet_key},
            "task_manager": {
                "workers_per_lane": "2",
                "lease_seconds": "5",
                "redispatch_after": "5",
                "max_attempts": "50",
                "retry_backoff": "0.5",
                "retry_backoff_max": "2",
                "report_interval": "1",
                "membership_group": f"delfin_faults.tm.{uuid.uuid4().hex[:8]}",
            },
            "scheduler": {
                "tick_interval": "0.5",
                "redispatch_interval": "1",
                "leader_timeout": "5",
                "periodic_sync_interval": "0",
                "election_group": f"delfin_faults.sched.{uuid.uuid4().hex[:8]}",
            },
        }
        for section, values in sections.items():
            conf.setdefault(section, {}).update(values)
        self.conf_path = tmp_path / "delfin_like.conf"
        write_conf(self.conf_path, conf)
        migration.upgrade("head", url=postgresql_url)
        CONF.set_override("connection", postgresql_url, group="database")
        db_api.configure(postgresql_url)
        rpc_transport.register_opts()
        CONF.set_override("transport_url", rabbit_url)
        CONF.set_override("topic", self.topic, group="rpc")
        # the exchange derives from the deployment name: casts from this process reach its task managers
        CONF.set_override("deployment_name", self.topic)
        crypto.reset()

    # -------------------------------------------------------------- processes

    def start(self, name: str, ready: str, timeout: float = 60) -> Proc:
        """Start console script ``name`` on the config and wait for log line ``ready``."""
        self._serial += 1
        short = name.removeprefix("delfin-like-")
        proc = Proc(name, ["--config-file", str(self.conf_path)], self.dir / f"{short}{self._serial}.log")
        self.procs.append(proc)
        proc.wait_for_log(ready, timeout)
        return proc

    def start_task_manager(self) -> Proc:
        # the lane queues exist once this is logged: casts from then on land
        return self.start("delfin-like-task", "Consuming task lanes")

    def start_scheduler(self) -> Proc:
        return self.start("delfin-like-scheduler", "Scheduler started")

    def start_api(self) -> Proc:
        return self.start("delfin-like-api", "delfin-like-api started")

    def kill_all(self) -> None:
        """Kill every process started, and delete the lane queues this run left on the broker."""
        for proc in self.procs:
            proc.kill()
        with kombu.Connection(self.rabbit_url.replace("rabbit://", "amqp://", 1), connect_timeout=5) as conn:
            for lane in ("urgent", "normal", "background"):
                for name in (f"{self.topic}.{lane}", f"{self.topic}.{lane}.{CONF.host}"):
                    try:
                        kombu.Queue(name, channel=conn.channel()).delete()
                    except Exception:  # noqa: BLE001 - never declared, or the broker is away: nothing to tidy
                        pass

    @staticmethod
    def sigkill(proc: Proc) -> None:
        """SIGKILL the process group: the launcher and its forked worker die at once."""
        try:
            os.killpg(proc.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.popen.wait(10)

    # -------------------------------------------------------------- storages and tasks

    def register(self, index: int, **attrs) -> tuple[dict, dict]:
        """Register fake storage ``index`` (its own endpoint and seed); returns (storage, sync task)."""
        attrs.setdefault("seed", index)
        return fakes.register_fake_storage(host=f"10.{77 + index // 250}.{index % 250}.1", **attrs)

    @staticmethod
    def tasks(task_ids) -> list[dict]:
        return [db_api.task_get(t) for t in task_ids]

    @staticmethod
    def wait_finished(task_ids, timeout: float) -> list[dict]:
        """Poll until every task is finished (or ``timeout``); returns the tasks as last read."""
        deadline = time.monotonic() + timeout
        while True:
            tasks = FaultEnv.tasks(task_ids)
            if all(t["status"] in TaskStatus.FINISHED for t in tasks) or time.monotonic() > deadline:
                return tasks
            time.sleep(0.5)

    # -------------------------------------------------------------- checks

    @staticmethod
    def expected_inventory(storage_id: str) -> dict[str, list]:
        """What the fake driver returns for the storage's stored access info, per resource type."""
        stored = db_api.access_info_get(storage_id)
        # the same inventory without the slowness
        attrs = {k: v for k, v in (stored["extra_attributes"] or {}).items() if k != "delay"}
        drv = fake_driver.FakeStorageDriver(
            driver_manager.access_info_from_stored({**stored, "extra_attributes": attrs})
        )
        return {rt: list(getattr(drv, LISTERS[rt])()) for rt in RESOURCE_TYPES}

    @staticmethod
    def row_mismatches(storage_id: str) -> list[str]:
        """Differences between the stored rows of a storage and the fake driver's inventory."""
        problems = []
        for resource_type, expected in FaultEnv.expected_inventory(storage_id).items():
            rows = db_api.resource_list(resource_type, {"storage_id": storage_id}, None, None, None, None)
            native_key = type(expected[0]).NATIVE_ID if expected else None
            if len(rows) != len(expected):
                problems.append(f"{storage_id} {resource_type}: {len(rows)} rows, driver has {len(expected)}")
                continue
            by_native = {row[native_key]: row for row in rows} if native_key else {}
            if len(by_native) != len(rows):
                problems.append(f"{storage_id} {resource_type}: duplicate native ids")
                continue
            for model in expected:
                row = by_native.get(getattr(model, native_key))
                if row is None:
                    problems.append(f"{storage_id} {resource_type}: {getattr(model, native_key)} missing")
                    continue
                bad = [f for f in models.field_names(type(model)) if row[f] != getattr(model, f)]
                if bad:
                    problems.append(f"{storage_id} {resource_type} {getattr(model, native_key)}: {bad} differ")
        return problems


_HOLD = re.compile(r"^(\d+\.\d+) (\d+) DEBUG \S+ Sync task (\S+) (holds|releases) lock storage-(\S+)")


def lock_holds(logs: list[str]) -> dict[str, list[tuple[float, float, str]]]:
    """Per storage, the ``(start, end, task)`` intervals a sync held its lock, from the processes' logs.

    A hold whose release line is missing (the process died) ends at +inf.
    """
    holds: dict[str, list[tuple[float, float, str]]] = {}
    for log in logs:
        open_holds: dict[tuple[str, str], tuple[float, str]] = {}
        for line in log.splitlines():
            m = _HOLD.match(line)
            if not m:
                continue
            when, pid, task, what, storage = float(m[1]), m[2], m[3], m[4], m[5]
            if what == "holds":
                open_holds[(pid, task)] = (when, storage)
            elif (pid, task) in open_holds:
                start, _ = open_holds.pop((pid, task))
                holds.setdefault(storage, []).append((start, when, task))
        for (_pid, task), (start, storage) in open_holds.items():
            holds.setdefault(storage, []).append((start, float("inf"), task))
    return holds


def overlaps(holds: dict[str, list[tuple[float, float, str]]]) -> list[str]:
    """Pairs of lock holds of one storage that overlap in time."""
    found = []
    for storage, intervals in holds.items():
        latest = None  # the hold that ends last among those started so far
        for start, end, task in sorted(intervals):
            if latest is not None and start < latest[1]:
                found.append(
                    f"storage {storage}: task {latest[2]} held until {latest[1]:.3f}, task {task} from {start:.3f}"
                )
            if latest is None or end > latest[1]:
                latest = (start, end, task)
    return found

