"""Only the scheduler leader (or the all-in-one) delivers the alert outbox; a follower that takes over does."""

import json
import os

from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from tests import retention_helpers as rh
from tests.functional.db.test_alerts_db import _Alert
from tests.unit.scheduler.test_retention_leader import schedulers  # noqa: F401 - the fixture
from tests.waits import wait_until


def _delivered(path) -> list[tuple[str, str]]:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [(x["alert"]["sequence_number"], x["status"]) for x in map(json.loads, f)]


def test_only_the_leader_delivers_and_a_new_leader_takes_over(schedulers, tmp_path):  # noqa: F811
    path = str(tmp_path / "alerts.jsonl")
    CONF.set_override("enabled", ["jsonl"], group="alert_exporters")
    CONF.set_override("interval", 0.05, group="alert_exporters")
    CONF.set_override("path", path, group="jsonl_alert_exporter")
    sid = rh.storage()
    db_api.alert_record(sid, "trap", _Alert("1"))
    leader, follower = schedulers(), schedulers()
    leader.tick()
    follower.tick()
    assert (leader.is_leader, follower.is_leader) == (True, False)
    wait_until(lambda: _delivered(path) == [("1", "firing")], 10, "the leader's delivery")
    assert follower.alert_dispatch.lanes == {}  # a follower never started its lanes
    leader.close()
    db_api.alert_record(sid, "trap", _Alert("2"))
    follower.tick()
    assert follower.is_leader
    wait_until(lambda: _delivered(path) == [("1", "firing"), ("2", "firing")], 10, "the new leader's delivery")
    wait_until(lambda: db_api.alert_deliveries_backlog() == {}, 10, "the delivered rows deleted")


def test_the_all_in_one_scheduler_delivers_without_an_election(schedulers, tmp_path):  # noqa: F811
    path = str(tmp_path / "alerts.jsonl")
    CONF.set_override("enabled", ["jsonl", "log"], group="alert_exporters")
    CONF.set_override("interval", 0.05, group="alert_exporters")
    CONF.set_override("path", path, group="jsonl_alert_exporter")
    row, _ = db_api.alert_record(rh.storage(), "trap", _Alert("1"))
    db_api.alert_clear(row["id"], "admin")
    scheduler = schedulers(elect=False)
    scheduler.tick()
    wait_until(lambda: _delivered(path) == [("1", "firing"), ("1", "resolved")], 10, "both events in order")
    wait_until(lambda: db_api.alert_deliveries_backlog() == {}, 10, "the delivered rows deleted")
