"""Access info, capabilities and the hardware inventory (controllers, ports, disks) over the API."""

import pytest

from delfin_like.common import crypto
from delfin_like.db import api as db_api
from tests.unit.api.conftest import PASSWORD, register_body, sync_now


@pytest.fixture
def storage(api):
    return api.post_json("/v1/storages", register_body(), status=201).json


def test_access_info_shows_everything_but_secrets(api, storage):
    info = api.get(f"/v1/storages/{storage['id']}/access-info").json["access_info"]
    assert info["rest"] == {"host": "10.0.0.1", "port": 8443, "username": "admin"}
    assert info["vendor"] == "fake_storage" and info["ssh"] is None
    assert PASSWORD not in api.get("/v1/access-infos").text
    listed = api.get("/v1/access-infos", {"storage_id": storage["id"]}).json["access_infos"]
    assert [i["storage_id"] for i in listed] == [storage["id"]]
    assert api.get("/v1/access-infos", {"nope": "1"}, status=400).json["error_code"] == "InvalidInput"


def test_put_changes_username_and_keeps_the_stored_password(api, storage):
    resp = api.put_json(f"/v1/storages/{storage['id']}/access-info",
                        {"rest": {"host": "10.0.0.1", "port": 8443, "username": "operator"}})
    assert resp.json["access_info"]["rest"]["username"] == "operator"
    after = db_api.access_info_get(storage["id"])["rest"]
    assert after["username"] == "operator" and crypto.decrypt(after["password"]) == PASSWORD


def test_put_keeps_every_stored_field_the_block_does_not_name(api):
    body = register_body()
    body["rest"]["ca_cert"] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    storage = api.post_json("/v1/storages", body, status=201).json
    resp = api.put_json(f"/v1/storages/{storage['id']}/access-info",
                        {"rest": {"host": "10.0.0.1", "port": 8443, "verify": True}})
    assert resp.json["access_info"]["rest"] == {"host": "10.0.0.1", "port": 8443, "username": "admin",
                                                "ca_cert": body["rest"]["ca_cert"], "verify": True}
    after = db_api.access_info_get(storage["id"])["rest"]
    assert after["ca_cert"] == body["rest"]["ca_cert"] and crypto.decrypt(after["password"]) == PASSWORD


def test_a_block_given_as_null_is_removed_and_the_last_one_cannot_be(api):
    body = {**register_body(), "ssh": {"host": "10.0.0.1", "port": 22, "username": "admin", "password": "ssh-pw"}}
    storage = api.post_json("/v1/storages", body, status=201).json
    path = f"/v1/storages/{storage['id']}/access-info"
    assert api.get(path).json["access_info"]["ssh"]["port"] == 22
    assert api.put_json(path, {"ssh": None}).json["access_info"]["ssh"] is None
    assert db_api.access_info_get(storage["id"])["ssh"] is None
    # the ssh endpoint is free again
    other = {**register_body(port=9443, serial_number="SN-2"), "ssh": body["ssh"]}
    api.post_json("/v1/storages", other, status=201)
    before = db_api.access_info_get(storage["id"])
    assert api.put_json(path, {"rest": None}, status=400).json["error_code"] == "InvalidInput"
    assert db_api.access_info_get(storage["id"]) == before


def test_a_block_the_driver_does_not_read_is_refused_before_any_probe(api):
    body = {"vendor": "netapp", "model": "ontap_rest",
            "rest": {"host": "10.0.0.7", "port": 443, "username": "admin", "password": "pw"},
            "ssh": {"host": "10.0.0.7", "port": 22, "username": "admin", "password": "pw"}}
    resp = api.post_json("/v1/storages", body, status=400).json
    assert resp["error_code"] == "AccessProtocolNotUsed"
    assert resp["error_msg"] == "The netapp ontap_rest driver is reached over rest only; it does not use ssh."
    assert api.get("/v1/storages").json["storages"] == []


def test_put_with_a_new_password_stores_it_encrypted(api, storage):
    api.put_json(f"/v1/storages/{storage['id']}/access-info",
                 {"rest": {"host": "10.0.0.1", "port": 8443, "username": "admin", "password": "n3w-pw"}})
    stored = db_api.access_info_get(storage["id"])["rest"]["password"]
    assert "n3w-pw" not in stored
    assert crypto.decrypt(stored) == "n3w-pw"


def test_put_that_reaches_another_array_is_409_and_changes_nothing(api, storage):
    before = db_api.access_info_get(storage["id"])
    resp = api.put_json(f"/v1/storages/{storage['id']}/access-info",
                        {"rest": {"host": "10.0.0.2", "port": 8443, "username": "admin"}}, status=409)
    assert resp.json["error_code"] == "StorageSerialMismatch"
    assert db_api.access_info_get(storage["id"]) == before


def test_put_onto_another_storages_endpoint_is_409(api, storage):
    other = api.post_json("/v1/storages", register_body(port=9443, serial_number="SN-OTHER"), status=201).json
    # same serial as `storage` so the probe passes; the endpoint belongs to `other`
    body = {"rest": {"host": "10.0.0.1", "port": 9443, "username": "admin"},
            "extra_attributes": {"pools": 2, "volumes": 6, "serial_number": storage["serial_number"]}}
    resp = api.put_json(f"/v1/storages/{storage['id']}/access-info", body, status=409)
    assert resp.json["error_code"] == "StorageAlreadyExists"
    assert db_api.access_info_get(other["id"])["rest"]["port"] == 9443
    assert db_api.access_info_get(storage["id"])["rest"]["port"] == 8443


@pytest.mark.parametrize("body, code", [
    ({}, "InvalidInput"),
    ({"vendor": "other"}, "InvalidInput"),
    ({"rest": {"host": "10.0.0.1"}}, "InvalidInput"),
    ({"rest": {"host": "10.0.0.1", "port": 8443, "username": "a"},
      "extra_attributes": {"error": "invalid_credentials"}}, "InvalidCredentials"),
    ({"rest": {"host": "10.0.0.1", "port": 8443, "username": "a"},
      "extra_attributes": {"error": "unreachable"}}, "BackendUnreachable"),
])
def test_bad_put_is_400_and_changes_nothing(api, storage, body, code):
    before = db_api.access_info_get(storage["id"])
    resp = api.put_json(f"/v1/storages/{storage['id']}/access-info", body, status=400)
    assert resp.json["error_code"] == code
    assert db_api.access_info_get(storage["id"]) == before


def test_unknown_storage_is_404_everywhere(api):
    missing = "0b5d6a4e-0000-0000-0000-000000000000"
    for path in (f"/v1/storages/{missing}/access-info", f"/v1/storages/{missing}/capabilities"):
        assert api.get(path, status=404).json["error_code"] == "StorageNotFound"
    resp = api.put_json(f"/v1/storages/{missing}/access-info",
                        {"rest": {"host": "h", "port": 1, "username": "u"}}, status=404)
    assert resp.json["error_code"] == "StorageNotFound"


def test_capabilities_come_from_the_registration_probe(api, storage):
    caps = api.get(f"/v1/storages/{storage['id']}/capabilities").json["capabilities"]
    assert caps["storage_id"] == storage["id"]
    assert caps["is_historic"] is False
    # the fake driver declares every resource type's counters (delfin_like.sdk.perf)
    assert caps["resource_metrics"]["volume"]["iops"]["unit"] == "ops/s"
    assert caps["collection"]["volume"] == {"min_interval": 5, "is_historic": False}


def test_controllers_ports_and_disks_after_a_sync(api, storage):
    result = sync_now(storage["id"])
    assert (result["controllers"]["added"], result["ports"]["added"], result["disks"]["added"]) == (2, 8, 8)
    controllers = api.get("/v1/controllers", {"storage_id": storage["id"]}).json["controllers"]
    assert sorted(c["native_controller_id"] for c in controllers) == ["ctrl-0", "ctrl-1"]
    fc = api.get("/v1/ports", {"storage_id": storage["id"], "type": "fc"}).json["ports"]
    assert len(fc) == 4 and all(p["wwn"] for p in fc)
    ssd = api.get("/v1/disks", {"physical_type": "ssd"}).json["disks"]
    assert [d["native_disk_id"] for d in sorted(ssd, key=lambda d: d["native_disk_id"])] == ["disk-0", "disk-4"]
    one = api.get(f"/v1/disks/{ssd[0]['id']}").json
    assert one["capacity"] == 4 * 1024**4 and "fingerprint" not in one
    for path, code in (("/v1/controllers/x", "ControllerNotFound"), ("/v1/ports/x", "PortNotFound")):
        assert api.get(path, status=404).json["error_code"] == code


def test_cancel_a_pending_sync_then_409_then_404(api, storage):
    task_id = storage["last_sync_task_id"]
    cancelled = api.delete(f"/v1/tasks/{task_id}").json
    assert cancelled["status"] == "CANCELLED" and cancelled["error"] == "cancelled by request"
    assert api.delete(f"/v1/tasks/{task_id}", status=409).json["error_code"] == "TaskNotCancellable"
    assert api.delete("/v1/tasks/missing", status=404).json["error_code"] == "TaskNotFound"
