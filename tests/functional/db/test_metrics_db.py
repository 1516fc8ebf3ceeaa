"""The perf SQL on SQLite, PostgreSQL and MariaDB: latest-sample upserts, window compare-and-set, the outbox."""

import pytest

from delfin_like.common.constants import TaskStatus
from delfin_like.db import api as db_api
from tests.unit.task_manager import fakes, perf_helpers

pytestmark = pytest.mark.services


def _row(rid, metric, value, ts_us=1):
    return (rid, f"name-{rid}", metric, value, "ops/s", "gauge", ts_us)


def _latest(storage_id):
    return {(r[7], r[0]): (r[9], r[8]) for r in db_api.metric_latest_rows() if r[3] == storage_id}


def test_latest_upsert_never_goes_back_in_time_and_drops_stale_series(any_db):
    storage, _ = fakes.register_fake_storage()
    sid = storage["id"]
    db_api.metric_latest_put(sid, "volume", 2000, [_row("v1", "iops", 1.5), _row("v2", "iops", 2.5)])
    # an older window arriving late (a retried batch) changes nothing
    assert db_api.metric_latest_put(sid, "volume", 1000, [_row("v1", "iops", 99.0)]) == 0
    assert _latest(sid) == {("v1", "iops"): (1.5, "name-v1"), ("v2", "iops"): (2.5, "name-v2")}
    # a newer window updates what it reports and drops what it no longer reports
    assert db_api.metric_latest_put(sid, "volume", 3000, [_row("v1", "iops", 7.25)]) == 1
    assert _latest(sid) == {("v1", "iops"): (7.25, "name-v1")}
    # the second part of a window adds without dropping the first part's series
    db_api.metric_latest_put(sid, "volume", 3000, [_row("v3", "iops", 0.0)], replace=False)
    assert set(_latest(sid)) == {("v1", "iops"), ("v3", "iops")}
    # other resource types are untouched; 2**63-sized totals survive as doubles
    db_api.metric_latest_put(sid, "port", 3000, [_row("p1", "read_bytes_total", float(2**63 + 2**11))])
    assert _latest(sid)[("p1", "read_bytes_total")][0] == float(2**63 + 2**11)
    assert len(db_api.metric_latest_rows()) == 3


def test_5000_series_in_one_call(any_db):
    storage, _ = fakes.register_fake_storage()
    rows = [_row(f"v{i}", "iops", float(i)) for i in range(5000)]
    db_api.metric_latest_put(storage["id"], "volume", 10, rows)
    db_api.metric_latest_put(storage["id"], "volume", 20, [(*r[:3], r[3] * 2, *r[4:]) for r in rows])
    assert sum(v for v, _ in _latest(storage["id"]).values()) == 2 * sum(range(5000))


def test_window_commit_outbox_settle_and_expiry(any_db):
    storage, _ = fakes.register_fake_storage()
    sid = storage["id"]
    perf_helpers.enable(sid, "volume", interval=5)
    task = perf_helpers.fire(sid, "volume")
    assert db_api.task_claim(task["id"], "tm-1", 60)
    batches = [
        {
            "id": f"00000000-0000-0000-0000-00000000000{i}",
            "window_start_us": 100,
            "part": i,
            "sample_count": 1,
            "payload": "{}",
        }
        for i in range(2)
    ]
    assert (
        db_api.perf_window_commit(task["id"], "tm-1", sid, "volume", None, 200, '{"k": [1, {}]}', batches, ["a", "b"])
        == "committed"
    )
    assert db_api.perf_window_commit(task["id"], "tm-1", sid, "volume", None, 300, None, [], []) == "lost"
    state = db_api.perf_window_state(sid, "volume")
    assert (state["last_end_us"], state["counter_state"]) == (200, '{"k": [1, {}]}')
    pending = db_api.perf_batches_pending(sid, "volume")
    assert [(p["id"][-1], p["exporters"]) for p in pending] == [("0", ["a", "b"]), ("1", ["a", "b"])]
    assert db_api.perf_batch_settle(batches[0]["id"], ["a"], {"b": "refused"}) == 1
    assert db_api.perf_batch_settle(batches[0]["id"], ["b"], {}) == 0
    assert [p["id"][-1] for p in db_api.perf_batches_pending(sid, "volume")] == ["1"]
    # exporter "b" is no longer enabled, "a" keeps its batch until the retention passes
    gaps = db_api.perf_batches_expire(sid, "volume", 0, ["a"])
    assert [(g["exporter"], g["start_us"], g["end_us"]) for g in gaps] == [("b", 100, 200)]
    assert db_api.perf_batches_pending(sid, "volume")[0]["exporters"] == ["a"]
    gaps = db_api.perf_batches_expire(sid, "volume", 201, ["a"])
    assert [g["exporter"] for g in gaps] == ["a"] and db_api.perf_batches_pending(sid, "volume") == []
    assert {g["exporter"] for g in db_api.perf_gaps_list(sid)} == {"a", "b"}
    db_api.task_finish(task["id"], TaskStatus.COMPLETED, owner="tm-1")


def test_storage_removal_takes_every_perf_row_with_it(any_db):
    storage, _ = fakes.register_fake_storage()
    sid = storage["id"]
    perf_helpers.enable(sid, "volume", interval=5)
    db_api.metric_latest_put(sid, "volume", 1, [_row("v1", "iops", 1.0)])
    db_api.storage_remove(sid)
    assert db_api.metric_latest_rows() == [] and db_api.perf_collection_states() == []
