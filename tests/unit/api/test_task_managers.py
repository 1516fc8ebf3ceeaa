"""GET /v1/task-managers: records, counters and up/down from the age of the last report."""

import datetime

from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.db.sqlalchemy import engine, models
from delfin_like.db.sqlalchemy.utils import utcnow

KEYS = {
    "id",
    "host",
    "pid",
    "lanes",
    "status",
    "started_at",
    "last_heartbeat",
    "stopped_at",
    "tasks_running",
    "tasks_done",
    "tasks_failed",
}


def _age(member_id, seconds):
    table = models.TaskManagerRecord.__table__
    with engine.write() as conn:
        conn.execute(
            table.update()
            .where(table.c.id == member_id)
            .values(last_heartbeat=utcnow() - datetime.timedelta(seconds=seconds))
        )


def test_list_shows_counters_and_status(api):
    CONF.set_override("service_down_time", 30, group="task_manager")
    assert api.get("/v1/task-managers").json == {"task_managers": []}
    db_api.task_manager_register("a:1:x", "host-a", 1, ("urgent", "normal", "background"))
    db_api.task_manager_register("b:2:y", "host-b", 2, ("background",))
    db_api.task_manager_register("c:3:z", "host-c", 3, ("normal",))
    db_api.task_manager_report("a:1:x", 2, 40, 3)
    _age("b:2:y", 31)  # silent for longer than service_down_time
    db_api.task_manager_report("c:3:z", 0, 5, 0, stopped=True)

    rows = {r["id"]: r for r in api.get("/v1/task-managers").json["task_managers"]}
    assert set(rows) == {"a:1:x", "b:2:y", "c:3:z"} and all(set(r) == KEYS for r in rows.values())
    a = rows["a:1:x"]
    assert (a["status"], a["host"], a["pid"], a["lanes"]) == ("up", "host-a", 1, ["urgent", "normal", "background"])
    assert (a["tasks_running"], a["tasks_done"], a["tasks_failed"]) == (2, 40, 3)
    assert a["last_heartbeat"].endswith("Z") and a["stopped_at"] is None
    assert rows["b:2:y"]["status"] == "down"
    assert rows["c:3:z"]["status"] == "down" and rows["c:3:z"]["stopped_at"].endswith("Z")

    assert [r["id"] for r in api.get("/v1/task-managers", {"host": "host-b"}).json["task_managers"]] == ["b:2:y"]
    page = api.get("/v1/task-managers", {"sort": "host:asc", "limit": 2}).json["task_managers"]
    assert [r["host"] for r in page] == ["host-a", "host-b"]


def test_bad_query_is_400(api):
    for query in ({"status": "up"}, {"sort": "pid:asc"}, {"limit": "-1"}):
        err = api.get("/v1/task-managers", query, status=400).json
        assert err["error_code"] == "InvalidInput", query
