"""Alert syncs requested by the trap sink (issue 14), on SQLite and the fake:// bus: which traps
request one, at most one queued per storage, rate-limited per storage, a failed cast left to the
re-dispatch. (The path over RabbitMQ to a task manager: tests/functional/alert_manager.)"""

import datetime
import json
import uuid

import pytest

from delfin_like.alert_manager import service, sync_requests
from delfin_like.alert_manager.trap_receiver import ReceivedTrap
from delfin_like.common import crypto
from delfin_like.common.constants import TaskStatus
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.db.sqlalchemy import engine as db_engine
from delfin_like.db.sqlalchemy import models
from delfin_like.rpc import transport as rpc_transport
from delfin_like.scheduler import service as scheduler_service
from tests.unit.task_manager import fakes

FAKE_TRAP_OID = "1.3.6.1.4.1.99999.1.1"
FIELD = "1.3.6.1.4.1.99999.1."


def _trap(sequence="7", trap_oid=FAKE_TRAP_OID):
    varbinds = [("1.3.6.1.6.3.1.1.4.1.0", trap_oid), (FIELD + "2", "FAN_FAILED"), (FIELD + "3", "major")]
    if sequence is not None:
        varbinds.append((FIELD + "1", sequence))
    return ReceivedTrap(source_address="127.0.0.1", version="v2c", varbinds=tuple(varbinds), trap_oid=trap_oid,
                        engine_id=None, community_or_user="c",
                        received_at=datetime.datetime(2026, 5, 1, 12, 0, tzinfo=datetime.UTC))


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def rpcapi(sqlite_db):
    rpc_transport.register_opts()
    CONF.set_override("transport_url", "fake://")
    CONF.set_override("topic", f"test.{uuid.uuid4().hex[:8]}", group="rpc")
    yield fakes.RecordingTaskAPI()
    rpc_transport.cleanup()


def _alert_syncs(storage_id):
    return db_api.task_list({"storage_id": storage_id, "type": "alert_sync"}, None, None, None, None)


def test_traps_not_parsed_whole_request_one_alert_sync_per_interval(rpcapi):
    storage, _ = fakes.register_fake_storage(alerts=4)
    sid = storage["id"]
    clock = Clock()
    requests = sync_requests.AlertSyncRequests(rpcapi, interval=60, clock=clock)
    sink = service.AlertSink(log_interval=60, log_burst=1, requests=requests)
    sink(sid, _trap())  # parsed whole: recorded, nothing requested
    sink(sid, _trap(sequence=None))  # the fake's malformed trap: AlertIncomplete
    sink(sid, _trap(trap_oid="1.3.6.1.6.3.1.1.5.3"))  # the driver refuses it: parse_failed, rate-limited
    counters = sink.counters()
    assert (counters["recorded"], counters["parse_incomplete"], counters["parse_failed"]) == (1, 1, 1)
    assert counters["sync_rate_limited"] == 1
    # the thread is not started: queue what was accepted by hand
    assert requests.queue_now(sid)["type"] == "alert_sync"
    [task] = _alert_syncs(sid)
    assert (task["status"], task["priority"]) == (TaskStatus.PENDING, "normal")
    assert [t["id"] for t in rpcapi.cast_tasks] == [task["id"]]
    # after the interval: requested again, the PENDING one reused, nothing cast twice
    clock.now += 61
    sink(sid, _trap(sequence=None))
    assert requests.queue_now(sid)["id"] == task["id"]
    assert len(_alert_syncs(sid)) == 1 and len(rpcapi.cast_tasks) == 1
    assert sink.counters()["sync_requested"] == 2
    sink.close()


def test_the_request_thread_queues_and_a_driver_that_lists_no_alerts_asks_nothing(rpcapi):
    storage, _ = fakes.register_fake_storage(alerts=4)
    snmp_only, _ = fakes.register_fake_storage()
    access = models.AccessInfo.__table__
    block = crypto.encrypt_block({"host": "127.0.0.1", "port": 1161, "version": "2c", "community": "c"})
    with db_engine.write() as conn:
        conn.execute(access.update().where(access.c.storage_id == snmp_only["id"])
                     .values(vendor="generic", model="snmp", snmp=json.dumps(block)))
    requests = sync_requests.AlertSyncRequests(rpcapi, interval=60)
    requests.start()
    sink = service.AlertSink(requests=requests)
    try:
        sink(snmp_only["id"], _trap())  # generic snmp parses this as a generic alert or refuses: never a sync
        sink(storage["id"], _trap(sequence=None))
        assert fakes.wait_for(lambda: _alert_syncs(storage["id"]), 10)
        assert fakes.wait_for(lambda: rpcapi.cast_tasks, 10)
        assert _alert_syncs(snmp_only["id"]) == []
        assert sink.counters()["sync_requested"] == 1
    finally:
        requests.stop()
        sink.close()


def test_a_failed_cast_leaves_the_task_to_the_redispatch(sqlite_db):
    rpc_transport.register_opts()
    storage, _ = fakes.register_fake_storage(alerts=4)

    class DeadBus(fakes.RecordingTaskAPI):
        def run_task(self, context, task):
            from delfin_like.common import exception

            raise exception.MessageBusUnavailable()

    requests = sync_requests.AlertSyncRequests(DeadBus(), interval=0)
    task = requests.queue_now(storage["id"])
    assert requests.counters()["sync_cast_failed"] == 1 and requests.counters()["sync_requested"] == 1
    assert db_api.task_get(task["id"])["status"] == TaskStatus.PENDING
    # the scheduler's re-dispatch casts a PENDING task left unclaimed for redispatch_after seconds
    tasks = models.Task.__table__
    with db_engine.write() as conn:
        conn.execute(tasks.update().where(tasks.c.id == task["id"]).values(
            updated_at=datetime.datetime(2020, 1, 1)))
    CONF.set_override("transport_url", "fake://")
    try:
        recording = fakes.RecordingTaskAPI()
        assert scheduler_service.Redispatcher(recording).scan_once() >= 1
        assert task["id"] in [t["id"] for t in recording.cast_tasks]
    finally:
        rpc_transport.cleanup()


def test_a_storage_gone_or_a_database_error_queues_nothing(rpcapi):
    storage, _ = fakes.register_fake_storage()
    requests = sync_requests.AlertSyncRequests(rpcapi, interval=3600)
    assert requests.request("no-such-storage") is True
    assert requests.queue_now("no-such-storage") is None
    db_api.storage_mark_deleting(storage["id"])
    assert requests.queue_now(storage["id"]) is None
    assert requests.counters() == dict.fromkeys(sync_requests.COUNTERS, 0)
    assert rpcapi.cast_tasks == []
