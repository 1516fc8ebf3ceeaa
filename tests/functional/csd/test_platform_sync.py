"""Two CSD agents registered through the REST API with the csd nvme driver, synced by the real task
manager over RabbitMQ; PostgreSQL must hold exactly what the nvme-cli fixtures say."""

import json
import pathlib
import shutil

import pytest

from delfin_like.common import exception
from delfin_like.common.constants import TaskStatus
from delfin_like_drivers.csd import nvme_source
from tests.functional.csd.conftest import csd_body, wait_task

pytestmark = pytest.mark.services

FIXTURES = pathlib.Path(nvme_source.FIXTURES_DIR)
HOST_B = "nqn.2014-08.org.nvmexpress:uuid:0f3c2b1a-9d8e-4f70-a6b5-c4d3e2f1a0b9"


def _raw(directory: pathlib.Path, name: str) -> dict:
    return json.loads((directory / name).read_text())


def _one_device_node(tmp_path) -> pathlib.Path:
    """Fixtures of a second node: the shipped one's second device only, another host."""
    target = tmp_path / "node-b-fixtures"
    shutil.copytree(FIXTURES, target)
    listing = _raw(target, "nvme-list.json")
    host = listing["Devices"][0]
    host["HostNQN"] = HOST_B
    host["Subsystems"] = host["Subsystems"][1:]
    (target / "nvme-list.json").write_text(json.dumps(listing, indent=2))
    return target


def _expected(directory: pathlib.Path) -> dict:
    """What the database must hold for a node, computed from the raw nvme-cli JSON."""
    pools, volumes, controllers, disks = set(), set(), set(), set()
    for sub in _raw(directory, "nvme-list.json")["Devices"][0]["Subsystems"]:
        nqn = sub["SubsystemNQN"]
        ctrl = sub["Controllers"][0]["Controller"]
        ident = _raw(directory, f"{ctrl}-id-ctrl.json")
        smart = _raw(directory, f"{ctrl}-smart-log.json")
        total, free = ident["tnvmcap"], ident["unvmcap"]
        pools.add((nqn, sub["Subsystem"], total, total - free, free))
        for ns in sub["Namespaces"]:
            volumes.add(
                (
                    f"{nqn}/ns{ns['NSID']}",
                    ns["NameSpace"],
                    nqn,
                    ns["PhysicalSize"],
                    ns["UsedBytes"],
                    ns["PhysicalSize"] - ns["UsedBytes"],
                )
            )
        controllers.add(
            (
                f"{nqn}/ctrl{ident['cntlid']}",
                ctrl,
                "normal",
                ident["fr"].strip(),
                f"pcie {sub['Controllers'][0]['Address']}",
            )
        )
        healthy = smart["critical_warning"] == 0 and smart["avail_spare"] >= smart["spare_thresh"]
        disks.add(
            (
                ident["sn"].strip(),
                ctrl,
                "normal" if healthy else "abnormal",
                total,
                ident["mn"].strip(),
                100 - smart["percent_used"],
                nqn,
                "nvme",
            )
        )
    return {"storage_pools": pools, "volumes": volumes, "controllers": controllers, "disks": disks}


def _actual(api, storage_id: str) -> dict:
    def rows(path, key, fields):
        body = api.get(path, {"storage_id": storage_id}).json[key]
        return {tuple(item[f] for f in fields) for item in body}

    return {
        "storage_pools": rows(
            "/v1/storage-pools",
            "storage_pools",
            ("native_storage_pool_id", "name", "total_capacity", "used_capacity", "free_capacity"),
        ),
        "volumes": rows(
            "/v1/volumes",
            "volumes",
            ("native_volume_id", "name", "native_storage_pool_id", "total_capacity", "used_capacity", "free_capacity"),
        ),
        "controllers": rows(
            "/v1/controllers", "controllers", ("native_controller_id", "name", "status", "soft_version", "location")
        ),
        "disks": rows(
            "/v1/disks",
            "disks",
            (
                "native_disk_id",
                "name",
                "status",
                "capacity",
                "model",
                "health_score",
                "native_disk_group_id",
                "physical_type",
            ),
        ),
    }


def _register(api, port: int) -> dict:
    return api.post_json("/v1/storages", csd_body(port, protocol="grpc"), status=201).json


def test_two_agents_registered_synced_and_compared(api, start_agent, tmp_path):
    fixtures_b = _one_device_node(tmp_path)
    agent_a = start_agent(name="csd-node-a")
    agent_b = start_agent(name="csd-node-b", nvme_fixtures=str(fixtures_b))
    storage_a, storage_b = _register(api, agent_a.port), _register(api, agent_b.port)
    for storage in (storage_a, storage_b):
        task = wait_task(api, storage["last_sync_task_id"])
        assert task["status"] == TaskStatus.COMPLETED, task
    # the password is write-only
    assert "agent-pw" not in json.dumps(api.get(f"/v1/storages/{storage_a['id']}/access-info").json)

    a = api.get(f"/v1/storages/{storage_a['id']}").json
    assert (a["name"], a["vendor"], a["model"], a["serial_number"], a["status"]) == (
        "csd-node-a",
        "csd",
        "nvme",
        _raw(FIXTURES, "nvme-list.json")["Devices"][0]["HostNQN"],
        "degraded",
    )
    assert a["total_capacity"] == 3840755982336 + 7681501126656 and a["free_capacity"] == 1240229781504
    b = api.get(f"/v1/storages/{storage_b['id']}").json
    assert (b["name"], b["serial_number"], b["total_capacity"]) == ("csd-node-b", HOST_B, 7681501126656)

    assert _actual(api, storage_a["id"]) == _expected(FIXTURES)
    assert _actual(api, storage_b["id"]) == _expected(fixtures_b)
    assert len(_expected(FIXTURES)["volumes"]) == 3 and len(_expected(fixtures_b)["volumes"]) == 1

    caps = api.get(f"/v1/storages/{storage_a['id']}/capabilities").json["capabilities"]
    assert caps["resource_metrics"]["disk"]["read_iops"]["unit"] == "ops/s"

    # nothing changed on the node: a re-sync writes nothing
    resync = wait_task(api, api.post(f"/v1/storages/{storage_a['id']}/sync", status=202).json["task"]["id"])
    assert resync["status"] == TaskStatus.COMPLETED and resync["result"]["rows_written"] == 0


def test_registration_of_an_unreachable_agent_is_refused(api, start_agent):
    agent = start_agent()
    port = agent.port
    agent.stop()
    body = {
        "vendor": "csd",
        "model": "nvme",
        "rest": {"host": "127.0.0.1", "port": port, "username": "ops", "password": "pw"},
    }
    error = api.post_json("/v1/storages", body, status=exception.BackendUnreachable.code).json
    assert error["error_code"] == "BackendUnreachable"
    assert api.get("/v1/storages").json["storages"] == []
