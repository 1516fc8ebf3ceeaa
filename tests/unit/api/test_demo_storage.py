"""The all-in-one's demo storage: registered once on an empty database, never over an existing one."""

import os

from delfin_like.cmd import all_in_one
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from tests.unit.api.conftest import register_body


def _marker() -> str:
    return os.path.join(CONF.state_path, all_in_one.DEMO_MARKER)


def test_registered_once_with_its_schedules(api, rpcapi):
    os.makedirs(CONF.state_path, exist_ok=True)
    demo = all_in_one.register_demo_storage(rpcapi)
    assert demo is not None and os.path.exists(_marker())
    # its first sync, then its first alert sync (the fake driver lists alerts)
    assert [t["id"] for t in rpcapi.cast_tasks][:1] == [demo["last_sync_task_id"]]
    assert [(t["type"], t["storage_id"]) for t in rpcapi.cast_tasks[1:]] == [("alert_sync", demo["id"])]
    assert set(api.get(f"/v1/storages/{demo['id']}/metrics-config").json) == {
        "array_polling",
        "volume_polling",
        "port_polling",
        "disk_polling",
    }
    assert api.get(f"/v1/storages/{demo['id']}/sync-policy").json["sync_policy"]["interval"] == 600
    # its password is generated, stored encrypted and never shown
    assert "password" not in api.get(f"/v1/storages/{demo['id']}/access-info").json["access_info"]["rest"]

    # deleted by the operator: a restart does not bring it back
    db_api.storage_unregister(demo["id"])
    assert all_in_one.register_demo_storage(rpcapi) is None
    assert db_api.storage_list() == [] and len(rpcapi.cast_tasks) == 2


def test_not_over_an_existing_installation(api, rpcapi):
    os.makedirs(CONF.state_path, exist_ok=True)
    api.post_json("/v1/storages", register_body(), status=201)
    assert all_in_one.register_demo_storage(rpcapi) is None
    assert len(db_api.storage_list()) == 1 and os.path.exists(_marker())


def test_switched_off(api, rpcapi):
    CONF.set_override("demo_storage", False, group="all_in_one")
    assert all_in_one.register_demo_storage(rpcapi) is None
    assert db_api.storage_list() == [] and not os.path.exists(_marker())


def test_a_failed_registration_is_tried_again_at_the_next_start(api, rpcapi, monkeypatch):
    os.makedirs(CONF.state_path, exist_ok=True)
    monkeypatch.setitem(all_in_one.DEMO_BODY, "vendor", "no_such_vendor")
    assert all_in_one.register_demo_storage(rpcapi) is None
    assert db_api.storage_list() == [] and not os.path.exists(_marker())
    monkeypatch.undo()
    assert all_in_one.register_demo_storage(rpcapi) is not None
