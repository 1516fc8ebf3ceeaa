"""The trap receiver's database side on SQLite: the sources provider and the sink (fake driver's parse_alert)."""

import datetime
import time

import pytest

from delfin_like.alert_manager import service
from delfin_like.alert_manager.trap_receiver import ReceivedTrap
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.sdk import cancel
from tests.db_helpers import register, registration_body

FAKE_TRAP_OID = "1.3.6.1.4.1.99999.1.1"
FIELD = "1.3.6.1.4.1.99999.1."


def _trap(sequence="7", trap_oid=FAKE_TRAP_OID, community="sink-community-1"):
    return ReceivedTrap(
        source_address="127.0.0.1",
        version="v2c",
        varbinds=(("1.3.6.1.2.1.1.3.0", "12"), ("1.3.6.1.6.3.1.1.4.1.0", trap_oid),
                  (FIELD + "1", sequence), (FIELD + "2", "FAN_FAILED"), (FIELD + "3", "major")),
        trap_oid=trap_oid,
        engine_id=None,
        community_or_user=community,
        received_at=datetime.datetime(2026, 5, 1, 12, 0, tzinfo=datetime.UTC),
    )


@pytest.fixture
def storage(sqlite_db):
    storage, _task = register(registration_body(volumes=2, pools=1))
    return storage


def test_sources_carry_secrets_and_the_serial(storage):
    sources = service.DbSources()
    assert sources.refresh() == []
    db_api.alert_source_put(storage["id"], {"host": "127.0.0.1", "version": "snmpv2c",
                                            "community_string": "src-community-1", "port": 161, "retry_num": 1,
                                            "expiration": 2000})
    [item] = sources.refresh()
    assert item["storage_id"] == storage["id"] and item["community_string"] == "src-community-1"
    assert item["serial_number"] == storage["serial_number"] and item["serial_number"]
    assert "created_at" not in item and "updated_at" not in item


def test_sink_records_repeats_and_counts_failures(storage, caplog):
    sink = service.AlertSink(log_interval=60, log_burst=1)
    sink(storage["id"], _trap())
    [alert] = db_api.alert_list(filters={"storage_id": storage["id"]})
    assert (alert["source"], alert["sequence_number"], alert["alert_id"], alert["severity"]) == (
        "trap", "7", "FAN_FAILED", "major")
    driver = sink._drivers[storage["id"]][1]
    sink(storage["id"], _trap())
    assert sink._drivers[storage["id"]][1] is driver  # cached per storage
    [alert] = db_api.alert_list(filters={"storage_id": storage["id"]})
    assert alert["repeat_count"] == 2
    # not the fake enterprise: the driver refuses it, twice; one line logged (burst 1), nothing stored
    sink(storage["id"], _trap("8", trap_oid="1.3.6.1.6.3.1.1.5.3"))
    sink(storage["id"], _trap("9", trap_oid="1.3.6.1.6.3.1.1.5.3"))
    assert len(db_api.alert_list(filters={"storage_id": storage["id"]})) == 1
    sink("no-such-storage", _trap())
    # being deleted: nothing recorded, its cached driver closed
    db_api.storage_mark_deleting(storage["id"])
    sink(storage["id"], _trap("10"))
    assert storage["id"] not in sink._drivers
    assert sink.counters() == {"recorded": 1, "repeated": 1, "parse_unsupported": 0, "parse_failed": 2,
                               "parse_incomplete": 0, "storage_gone": 2}
    assert [a["sequence_number"] for a in db_api.alert_list(filters={"storage_id": storage["id"]})] == ["7"]
    parse_lines = [r for r in caplog.records if "not parsed" in r.getMessage()]
    assert len(parse_lines) == 1
    assert "sink-community-1" not in caplog.text
    sink.close()


class _HangsOnOne:
    """The storage's fake driver, except that the trap of sequence number ``hang`` never answers
    (until its deadline cancels it)."""

    def __init__(self, driver):
        self.driver = driver

    def parse_alert(self, trap):
        if ("1.3.6.1.4.1.99999.1.1", "hang") in trap.varbinds:
            cancel.sleep(60)
        return self.driver.parse_alert(trap)

    def close(self):
        self.driver.close()


def test_a_hung_parse_in_a_batch_costs_only_its_own_trap(storage):
    CONF.set_override("timeout", 1, group="storage_driver")
    sink = service.AlertSink(log_interval=60, log_burst=1)
    try:
        sink(storage["id"], _trap("1"))  # loads and caches the driver
        key, driver, lists, _at = sink._drivers[storage["id"]]
        sink._drivers[storage["id"]] = (key, _HangsOnOne(driver), lists, time.monotonic() + 3600)
        sink.many([(storage["id"], _trap(s)) for s in ("2", "hang", "3", "4")])
        assert sorted(a["sequence_number"] for a in db_api.alert_list(filters={"storage_id": storage["id"]})) == [
            "1", "2", "3", "4"]
        counters = sink.counters()
        assert (counters["recorded"], counters["parse_failed"]) == (4, 1)
    finally:
        CONF.clear_override("timeout", group="storage_driver")
        sink.close()
