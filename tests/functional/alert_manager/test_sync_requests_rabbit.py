"""A trap the fake driver cannot parse whole -> an alert sync requested by the sink -> cast over the
real RabbitMQ -> a task manager's lane servers -> the array's alerts in PostgreSQL (issue 14)."""

import datetime

import pytest

from delfin_like.alert_manager import service, sync_requests
from delfin_like.alert_manager.trap_receiver import ReceivedTrap
from delfin_like.common.constants import TaskStatus
from delfin_like.db import api as db_api
from tests.unit.task_manager import fakes

pytestmark = pytest.mark.services

FAKE_TRAP_OID = "1.3.6.1.4.1.99999.1.1"


def _incomplete_trap():
    # the fake enterprise's notification without its .1 sequence number: AlertIncomplete
    return ReceivedTrap(source_address="127.0.0.1", version="v2c",
                        varbinds=(("1.3.6.1.6.3.1.1.4.1.0", FAKE_TRAP_OID), ("1.3.6.1.4.1.99999.1.2", "FAN")),
                        trap_oid=FAKE_TRAP_OID, engine_id=None, community_or_user="c",
                        received_at=datetime.datetime.now(datetime.UTC))


def test_an_incomplete_trap_syncs_the_storages_alerts(task_service):
    storage, sync_task = fakes.register_fake_storage(alerts=7)
    # the requests go through the process's transport, RabbitMQ here, as in delfin-like-alert-receiver
    requests = sync_requests.AlertSyncRequests(interval=3600)
    requests.start()
    sink = service.AlertSink(requests=requests)
    try:
        sink(storage["id"], _incomplete_trap())
        task = fakes.wait_for(
            lambda: db_api.task_list({"storage_id": storage["id"], "type": "alert_sync"}, None, None, None, None), 30)
        assert task, "no alert sync was queued"
        done = fakes.wait_for_status(task[0]["id"], TaskStatus.FINISHED, timeout=30)
        assert done["status"] == TaskStatus.COMPLETED, done["error"]
        assert done["result"]["added"] == 7
        rows = db_api.alert_list({"storage_id": storage["id"], "source": "sync"}, None, None, None, None)
        assert len(rows) == 7
        # within the interval a second such trap asks nothing more
        sink(storage["id"], _incomplete_trap())
        counters = sink.counters()
        assert (counters["parse_incomplete"], counters["sync_requested"], counters["sync_rate_limited"]) == (2, 1, 1)
        assert counters["sync_cast_failed"] == 0
        assert len(db_api.task_list({"storage_id": storage["id"], "type": "alert_sync"}, None, None, None, None)) == 1
    finally:
        requests.stop()
        sink.close()
    assert sync_task["type"] == "sync"
