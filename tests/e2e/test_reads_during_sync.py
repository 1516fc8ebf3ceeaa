"""The all-in-one (SQLite) answers reads while a sync writes: never 503, 500 or ``database is locked``.

A storage of 30,000 fake volumes is registered; once its task reports the ``writing`` phase, list and
detail GETs go on until the task ends. A read counts as inside the write transaction when a probe of
the database file found the write lock taken both before and after it, and the task was still
RUNNING after it (the commit ends the task, so nothing of the sync was visible yet). Every read
must answer 200, with the data as it was before the sync.
"""

import sqlite3
import time

from tests.e2e.conftest import Client, Proc, free_port

VOLUMES = 30_000
# reads that must land inside the write transaction (it lasts a second or more here)
INSIDE = 3


def _write_locked(path) -> bool:
    """True if another connection holds the database's write lock (tried without waiting)."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as e:
        if "locked" in str(e) or "busy" in str(e):
            return True
        raise
    else:
        conn.execute("ROLLBACK")
        return False
    finally:
        conn.close()


def _register(api: Client, host: str, **extra) -> dict:
    body = {
        "vendor": "fake_storage",
        "model": "fake_driver",
        "rest": {"host": host, "port": 8443, "username": "admin", "password": "pw"},
        "extra_attributes": extra,
    }
    r = api.post("/v1/storages", body)
    assert r.status_code == 201, r.text
    return r.json()


def _reads(api: Client, old: dict, big: dict) -> dict:
    return {
        "volumes": api.get("/v1/volumes", storage_id=old["id"], limit=100, sort="native_volume_id:asc"),
        "volume": api.get(f"/v1/volumes/{old['volume_id']}"),
        "storage": api.get(f"/v1/storages/{old['id']}"),
        "storages": api.get("/v1/storages"),
        "big_volumes": api.get("/v1/volumes", storage_id=big["id"], limit=10),
        "big_storage": api.get(f"/v1/storages/{big['id']}"),
    }


def test_reads_answer_200_with_the_old_data_while_a_sync_writes(tmp_path, procs):
    port = free_port()
    conf = tmp_path / "aio.conf"
    conf.write_text(
        f"[DEFAULT]\nstate_path = {tmp_path / 'state'}\n[api]\nhost = 127.0.0.1\nport = {port}\n"
        "[all_in_one]\ndemo_storage = false\n"
    )
    database = tmp_path / "state" / "delfin_like.sqlite"
    aio = Proc("delfin-like-all-in-one", ["--config-file", str(conf)], tmp_path / "aio.log")
    procs.append(aio)
    api = Client(f"http://127.0.0.1:{port}")
    api.wait_ready(60)

    old = _register(api, "192.0.2.31", pools=2, volumes=30)
    assert api.wait_task(old["last_sync_task_id"], timeout=60)["status"] == "COMPLETED"
    old["volume_id"] = api.get("/v1/volumes", storage_id=old["id"], limit=1).json()["volumes"][0]["id"]
    before = {k: r.json() for k, r in _reads(api, old, {"id": old["id"]}).items() if not k.startswith("big")}

    big = _register(api, "192.0.2.32", pools=10, volumes=VOLUMES)
    task_path = f"/v1/tasks/{big['last_sync_task_id']}"
    deadline = time.monotonic() + 120
    while True:  # the event: the task says it is writing
        task = api.get(task_path).json()
        assert task["status"] in ("PENDING", "RUNNING"), task
        if (task.get("progress") or {}).get("phase") == "writing":
            break
        assert time.monotonic() < deadline, f"the sync never reported its writing phase: {task}"
        time.sleep(0.02)

    inside, answered, statuses = 0, 0, {}
    while time.monotonic() < deadline:
        locked_before = _write_locked(database)
        reads = _reads(api, old, big)
        locked_after = _write_locked(database)
        task = api.get(task_path).json()
        for name, r in reads.items():
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            assert r.status_code == 200, f"{name} answered {r.status_code} during the sync: {r.text}"
            assert "locked" not in r.text
        answered += 1
        if task["status"] != "RUNNING":
            break
        if locked_before and locked_after:
            inside += 1
            # nothing of the open transaction is visible: the old storage as it was, the new one empty
            got = {k: r.json() for k, r in reads.items()}
            assert got["volumes"] == before["volumes"]
            assert got["volume"] == before["volume"]
            assert got["storage"] == before["storage"]
            assert got["big_volumes"]["volumes"] == []
            assert got["big_storage"]["sync_status"] == "SYNCING"
            assert {s["id"] for s in got["storages"]["storages"]} == {old["id"], big["id"]}
    assert task["status"] == "COMPLETED", task
    assert inside >= INSIDE, (
        f"only {inside} of {answered} rounds of reads were answered while the write transaction was open "
        f"(statuses {statuses}): they waited for it, or it was too short to tell"
    )
    assert api.get(f"/v1/storages/{big['id']}").json()["sync_status"] == "SYNCED"
    assert len(api.get("/v1/volumes", storage_id=big["id"], limit=1000).json()["volumes"]) == 1000
    assert aio.terminate() == 0
