"""delfin-like-all-in-one on a "fresh machine": no config file, empty data dir, no external service."""

import os
import socket
import stat

import pytest

from tests import services
from tests.e2e.conftest import Client, Proc

DEFAULT_PORT = 8190


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_all_in_one_without_config(tmp_path, procs):
    if not _port_free(DEFAULT_PORT):
        message = f"port {DEFAULT_PORT} (the default) is in use here: stop what listens on it"
        if services.IN_CI:
            pytest.fail(message + " (CI=true: this test must run)")
        pytest.skip(message)
    home = tmp_path / "home"
    home.mkdir()
    # a fresh user: nothing under HOME, data dir under XDG_DATA_HOME
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "DELFIN"))}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"))
    aio = Proc("delfin-like-all-in-one", [], tmp_path / "aio.log", env=env, cwd=str(home))
    procs.append(aio)
    api = Client(f"http://127.0.0.1:{DEFAULT_PORT}")
    api.wait_ready(60)

    state = home / "data" / "delfin-like"
    assert (state / "delfin_like.sqlite").exists()
    assert stat.S_IMODE(os.stat(state / "fernet.keys").st_mode) == 0o600
    demo = _demo_storage(api)

    body = {
        "vendor": "fake_storage",
        "model": "fake_driver",
        "rest": {"host": "192.0.2.1", "port": 8443, "username": "admin", "password": "aio-pw-4242"},
        "extra_attributes": {"pools": 2, "volumes": 12},
    }
    r = api.post("/v1/storages", body)
    assert r.status_code == 201, r.text
    storage_id = r.json()["id"]
    task = api.wait_task(r.json()["last_sync_task_id"], timeout=30)
    assert task["status"] == "COMPLETED", task
    volumes = api.get("/v1/volumes", storage_id=storage_id).json()["volumes"]
    assert sorted(v["native_volume_id"] for v in volumes) == sorted(f"vol-{i}" for i in range(12))
    assert [s["id"] for s in api.get("/v1/storages", sort="created_at:asc").json()["storages"]] == [demo, storage_id]
    assert len(api.get("/v1/storage-pools", storage_id=storage_id).json()["storage_pools"]) == 2

    r = api.post(f"/v1/storages/{storage_id}/sync")
    assert r.status_code == 202, r.text
    again = api.wait_task(r.json()["task"]["id"], timeout=30)
    assert again["status"] == "COMPLETED" and again["result"]["rows_written"] == 0

    r = api.delete(f"/v1/storages/{storage_id}")
    assert r.status_code == 202, r.text
    assert api.wait_task(r.json()["task"]["id"], timeout=30)["status"] == "COMPLETED"
    assert api.get("/v1/volumes", storage_id=storage_id).json()["volumes"] == []

    assert aio.terminate() == 0, aio.log[-3000:]
    log = aio.log
    assert "aio-pw-4242" not in log
    assert "Traceback" not in log, log[-3000:]
    assert "delfin-like-all-in-one stopped" in log


def _demo_storage(api) -> str:
    """The demo storage a first start registers: synced (100 volumes), collecting metrics. Returns its id."""
    [demo] = api.get("/v1/storages").json()["storages"]
    assert (demo["vendor"], demo["model"]) == ("fake_storage", "fake_driver")
    assert api.wait_task(demo["last_sync_task_id"], timeout=30)["status"] == "COMPLETED"
    assert len(api.get("/v1/volumes", storage_id=demo["id"], limit=1000).json()["volumes"]) == 100
    metrics = api.get(f"/v1/storages/{demo['id']}/metrics-config").json()
    assert metrics["volume_polling"]["perf_collection"] and metrics["volume_polling"]["interval"] == 60
    assert api.get(f"/v1/storages/{demo['id']}/sync-policy").json()["sync_policy"]["interval"] == 600
    return demo["id"]


def test_all_in_one_restart_keeps_data(tmp_path, procs):
    from tests.e2e.conftest import free_port

    port = free_port()
    conf = tmp_path / "aio.conf"
    conf.write_text(f"[DEFAULT]\nstate_path = {tmp_path / 'state'}\n[api]\nport = {port}\n")
    api = Client(f"http://127.0.0.1:{port}")
    first = Proc("delfin-like-all-in-one", ["--config-file", str(conf)], tmp_path / "aio1.log")
    procs.append(first)
    api.wait_ready(60)
    # the demo storage of a first start, deleted: it must not come back after the restart
    r = api.delete(f"/v1/storages/{_demo_storage(api)}")
    assert r.status_code == 202, r.text
    assert api.wait_task(r.json()["task"]["id"], timeout=30)["status"] == "COMPLETED"
    body = {
        "vendor": "fake_storage",
        "model": "fake_driver",
        "rest": {"host": "192.0.2.2", "port": 8443, "username": "admin", "password": "pw"},
        "extra_attributes": {"pools": 1, "volumes": 3},
    }
    r = api.post("/v1/storages", body)
    assert r.status_code == 201, r.text
    assert api.wait_task(r.json()["last_sync_task_id"], timeout=30)["status"] == "COMPLETED"
    assert first.terminate() == 0

    second = Proc("delfin-like-all-in-one", ["--config-file", str(conf)], tmp_path / "aio2.log")
    procs.append(second)
    api.wait_ready(60)
    storages = api.get("/v1/storages").json()["storages"]
    assert [s["sync_status"] for s in storages] == ["SYNCED"]
    assert len(api.get("/v1/volumes").json()["volumes"]) == 3
    assert "demo storage" not in second.log
    assert second.terminate() == 0
