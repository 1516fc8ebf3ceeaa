"""The notification alert exporter on the real RabbitMQ: a fire and its clear arrive as two notifications
(delfin_like.alert.firing, then delfin_like.alert.resolved) at a real oslo.messaging listener."""

import uuid

import pytest

from delfin_like.alert_manager import dispatch
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.rpc import transport as rpc_transport
from tests.db_helpers import register, registration_body
from tests.functional.db.test_alerts_db import _Alert
from tests.perf_outputs import NotificationConsumer
from tests.waits import wait_until

pytestmark = pytest.mark.services


@pytest.fixture
def consumer(sqlite_db, rabbit_bus):
    CONF.set_override("transport_url", rabbit_bus, group="oslo_messaging_notifications")
    topic = f"delfin_test_alert_notifications.{uuid.uuid4().hex[:10]}"
    CONF.set_override("topics", [topic], group="oslo_messaging_notifications")
    CONF.set_override("enabled", ["notification"], group="alert_exporters")
    consumer = NotificationConsumer(topic)
    consumer.listener.start()
    yield consumer
    consumer.listener.stop()
    consumer.listener.wait()
    rpc_transport.cleanup()


def test_fire_and_clear_are_two_notifications_in_order(consumer):
    storage, _ = register(registration_body(volumes=1, pools=1))
    row, _ = db_api.alert_record(storage["id"], "trap", _Alert("n1"))
    db_api.alert_clear(row["id"], "admin")  # both before the dispatcher runs: both still go out
    dispatcher = dispatch.AlertDispatcher()
    dispatcher.start()
    try:
        received = consumer.wait_for(2)
        wait_until(lambda: db_api.alert_deliveries_backlog() == {}, 10, "the delivered rows deleted")
    finally:
        dispatcher.stop()
    assert [(event_type, payload["status"], payload["alert"]["id"]) for _id, event_type, payload in received] == [
        ("delfin_like.alert.firing", "firing", row["id"]), ("delfin_like.alert.resolved", "resolved", row["id"])]
    assert received[0][0] == received[0][2]["delivery_id"] and received[0][0] != received[1][0]
    assert received[1][2]["alert"]["storage_name"] == storage["name"]
