"""Jobs through the platform: REST -> task over the bus -> task manager -> CSD agent, status mirrored back."""

import time

import psutil
import pytest

from delfin_like.common.constants import TaskStatus
from delfin_like_drivers.csd.grpc_api import pb
from tests.functional.csd.conftest import csd_body, wait_task
from tests.unit.api.conftest import register_body
from tests.waits import process_gone

pytestmark = pytest.mark.services
FINISHED = ("COMPLETED", "FAILED", "CANCELLED")


def _register(api, port: int) -> str:
    storage = api.post_json("/v1/storages", csd_body(port), status=201).json
    wait_task(api, storage["last_sync_task_id"])
    return storage["id"]


def _wait_job(api, job_id, statuses=FINISHED, timeout=30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = api.get(f"/v1/jobs/{job_id}").json
        if job["status"] in statuses:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}: {job}"
        time.sleep(0.1)


def _spec(job_id, tmp_path, command, **extra) -> dict:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "rows.csv").write_text("a,1\nb,2\n")
    return {
        "job_id": job_id,
        "command": command,
        "data_path": str(data),
        "output_path": str(tmp_path / job_id),
        **extra,
    }


def test_job_runs_on_the_node_and_its_status_is_mirrored(api, start_agent, tmp_path):
    agent = start_agent()
    storage_id = _register(api, agent.port)
    body = _spec(
        "count-rows",
        tmp_path,
        ["sh", "-c", 'wc -l < "$CSD_DATA_PATH/rows.csv" > count.txt'],
        name="count rows",
        labels={"team": "ml"},
        env={"TOKEN": "not-shown"},
        csd={"enabled": True, "device_path": "/dev/nvme0n1"},
    )
    response = api.post_json(f"/v1/storages/{storage_id}/jobs", body, status=202)
    job = response.json["job"]
    assert response.location.endswith(f"/v1/jobs/{job['id']}")
    assert (job["status"], job["job_id"], job["name"], job["storage_id"]) == (
        "PENDING",
        "count-rows",
        "count rows",
        storage_id,
    )
    # env values are write-only, like secrets
    assert job["spec"]["env"] == ["TOKEN"] and "not-shown" not in response.text
    # a task manager runs here: the job is queued, not waiting for one to exist
    assert job["message"] == "queued: its submit task has not started"

    done = _wait_job(api, job["id"])
    assert done["status"] == "COMPLETED", done
    assert (done["exit_code"], done["error"], done["node"]) == (0, None, "node-a")
    assert done["submitted_at"] and done["started_at"] and done["completed_at"]
    assert (tmp_path / "count-rows" / "count.txt").read_text().strip() == "2"
    # the platform mirrors what the node records
    on_node = agent.job("count-rows")
    assert on_node.status == pb.Job.COMPLETED and on_node.spec.csd.device_path == "/dev/nvme0n1"
    task = wait_task(api, done["submit_task_id"])
    assert task["type"] == "job_submit" and task["status"] == TaskStatus.COMPLETED
    assert task["result"]["status"] == "COMPLETED"

    assert [j["id"] for j in api.get(f"/v1/storages/{storage_id}/jobs").json["jobs"]] == [job["id"]]
    assert [j["id"] for j in api.get("/v1/jobs", {"status": "COMPLETED"}).json["jobs"]] == [job["id"]]
    assert api.get("/v1/jobs", {"status": "RUNNING"}).json["jobs"] == []
    # cancelling a finished job changes nothing
    assert api.delete(f"/v1/jobs/{job['id']}", status=200).json["job"]["status"] == "COMPLETED"


def test_cancel_stops_the_process_on_the_node(api, start_agent, tmp_path):
    agent = start_agent()
    storage_id = _register(api, agent.port)
    job = api.post_json(
        f"/v1/storages/{storage_id}/jobs", _spec("long-scan", tmp_path, ["sleep", "300"]), status=202
    ).json["job"]
    _wait_job(api, job["id"], statuses=("RUNNING",))
    pid = agent.wait_job("long-scan", statuses=(pb.Job.RUNNING,)).pid
    assert psutil.pid_exists(pid)

    response = api.delete(f"/v1/jobs/{job['id']}", status=202).json
    assert response["task"]["type"] == "job_cancel" and response["task"]["priority"] == "urgent"
    cancelled = _wait_job(api, job["id"])
    assert cancelled["status"] == "CANCELLED" and cancelled["error"] == "cancelled by request"
    assert agent.job("long-scan").status == pb.Job.CANCELLED
    assert process_gone(pid), "the job's process survived the cancel"
    assert wait_task(api, cancelled["cancel_task_id"])["status"] == TaskStatus.COMPLETED
    assert wait_task(api, cancelled["submit_task_id"])["status"] == TaskStatus.COMPLETED


def test_the_node_refusing_a_job_fails_it_with_the_reason(api, start_agent, tmp_path):
    agent = start_agent()
    storage_id = _register(api, agent.port)
    body = _spec("lost-data", tmp_path, ["true"])
    body["data_path"] = str(tmp_path / "not-there")
    job = api.post_json(f"/v1/storages/{storage_id}/jobs", body, status=202).json["job"]
    failed = _wait_job(api, job["id"])
    assert (failed["status"], failed["message"]) == ("FAILED", "refused by the node")
    assert failed["error"] == f"data_path {tmp_path / 'not-there'} does not exist on this node"
    task = wait_task(api, failed["submit_task_id"])
    assert task["status"] == TaskStatus.FAILED and "does not exist on this node" in task["error"]


def test_bad_requests_are_4xx_and_change_nothing(api, start_agent, tmp_path):
    agent = start_agent()
    storage_id = _register(api, agent.port)
    url = f"/v1/storages/{storage_id}/jobs"
    ok = _spec("prep-1", tmp_path, ["true"])
    cases = [
        ({**ok, "data_path": "relative/data"}, 400, "InvalidInput"),
        ({**ok, "output_path": "out"}, 400, "InvalidInput"),
        ({**ok, "output_path": "/tmp/../etc"}, 400, "InvalidInput"),
        ({**ok, "command": []}, 400, "InvalidInput"),
        ({**ok, "job_id": "bad id"}, 400, "InvalidInput"),
        ({**ok, "unknown": 1}, 400, "InvalidInput"),
        ({key: value for key, value in ok.items() if key != "command"}, 400, "InvalidInput"),
    ]
    for body, status, code in cases:
        assert api.post_json(url, body, status=status).json["error_code"] == code, body
    assert api.get("/v1/jobs").json["jobs"] == []

    first = api.post_json(url, ok, status=202).json["job"]
    assert api.post_json(url, ok, status=409).json["error_code"] == "JobAlreadyExists"
    assert api.post_json("/v1/storages/no-such-storage/jobs", ok, status=404).json["error_code"] == "StorageNotFound"
    assert api.get("/v1/jobs/no-such-job", status=404).json["error_code"] == "JobNotFound"
    assert api.delete("/v1/jobs/no-such-job", status=404).json["error_code"] == "JobNotFound"
    assert api.get(url, {"status": "nonsense-filter", "colour": "x"}, status=400).json["error_code"] == "InvalidInput"

    # a storage whose driver runs no jobs
    fake = api.post_json("/v1/storages", register_body(port=9443), status=201).json
    wait_task(api, fake["last_sync_task_id"])
    refused = api.post_json(f"/v1/storages/{fake['id']}/jobs", {**ok, "job_id": "prep-2"}, status=400).json
    assert refused["error_code"] == "JobsNotSupported"
    assert [j["id"] for j in api.get("/v1/jobs").json["jobs"]] == [first["id"]]
    assert _wait_job(api, first["id"])["status"] == "COMPLETED"
