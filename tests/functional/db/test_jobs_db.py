"""The jobs table on SQLite, PostgreSQL and MariaDB: one job id per storage, mirroring, cancel tasks, cascade."""

import datetime

import pytest

from delfin_like.common import exception
from delfin_like.common.constants import Lane, TaskStatus, TaskType
from delfin_like.db import api as db_api
from tests import db_helpers
from tests.unit.api.conftest import register_body

SPEC = {
    "job_id": "prep-1",
    "name": "prep",
    "namespace": "ml",
    "command": ["true"],
    "data_path": "/data",
    "output_path": "/out/prep-1",
    "env": {"TOKEN": "x"},
}


@pytest.fixture
def storage_id(any_db):
    storage, _ = db_helpers.register(register_body())
    return storage["id"]


def test_create_get_list_and_unique_job_id(storage_id):
    job, task = db_api.job_create(storage_id, SPEC, priority=Lane.NORMAL)
    assert (job["status"], job["job_id"], job["name"], job["namespace"], job["spec"]) == (
        "PENDING",
        "prep-1",
        "prep",
        "ml",
        SPEC,
    )
    assert (task["type"], task["status"], task["storage_id"]) == (TaskType.JOB_SUBMIT, TaskStatus.PENDING, storage_id)
    assert job["submit_task_id"] == task["id"]
    assert db_api.job_for_task(task["id"])["id"] == job["id"]
    with pytest.raises(exception.JobAlreadyExists):
        db_api.job_create(storage_id, SPEC, priority=Lane.NORMAL)
    other, _ = db_api.job_create(storage_id, {**SPEC, "job_id": "prep-2"}, priority=Lane.NORMAL)
    assert [j["id"] for j in db_api.job_list(filters={"storage_id": storage_id})] == [job["id"], other["id"]]
    assert [j["id"] for j in db_api.job_list(filters={"job_id": "prep-2"})] == [other["id"]]
    assert [j["id"] for j in db_api.job_list(limit=1, marker=job["id"])] == [other["id"]]
    with pytest.raises(exception.InvalidInput):
        db_api.job_list(filters={"spec": "x"})
    with pytest.raises(exception.JobNotFound):
        db_api.job_get("nope")
    with pytest.raises(exception.StorageNotFound):
        db_api.job_create("no-such-storage", SPEC, priority=Lane.NORMAL)


def test_mirror_and_cancel_requests(storage_id):
    job, _ = db_api.job_create(storage_id, SPEC, priority=Lane.NORMAL)
    started = datetime.datetime(2026, 1, 2, 3, 4, 5, 123456)
    running = db_api.job_mirror(
        job["id"], {"status": "RUNNING", "node": "node-a", "started_at": started, "message": "running as pid 7"}
    )
    assert (running["status"], running["node"], running["started_at"]) == ("RUNNING", "node-a", started)
    with pytest.raises(ValueError):
        db_api.job_mirror(job["id"], {"spec": "{}"})

    first, task, created = db_api.job_cancel_request(job["id"], priority=Lane.URGENT)
    assert created and task["type"] == TaskType.JOB_CANCEL and task["priority"] == Lane.URGENT
    assert first["cancel_task_id"] == task["id"] and db_api.job_for_task(task["id"])["id"] == job["id"]
    # asking again while that task is pending reuses it
    _, again, created_again = db_api.job_cancel_request(job["id"], priority=Lane.URGENT)
    assert again["id"] == task["id"] and not created_again

    cancelled = db_api.job_mirror(job["id"], {"status": "CANCELLED", "error": "cancelled by request"})
    assert cancelled["status"] == "CANCELLED"
    # a late report of the run does not bring a cancelled job back
    late = db_api.job_mirror(job["id"], {"status": "RUNNING", "message": "late"})
    assert (late["status"], late["message"], late["error"]) == ("CANCELLED", "late", "cancelled by request")
    finished, none, created = db_api.job_cancel_request(job["id"], priority=Lane.URGENT)
    assert none is None and not created and finished["status"] == "CANCELLED"


def test_jobs_go_with_their_storage(storage_id):
    job, _ = db_api.job_create(storage_id, SPEC, priority=Lane.NORMAL)
    db_api.storage_mark_deleting(storage_id)
    with pytest.raises(exception.StorageBeingDeleted):
        db_api.job_create(storage_id, {**SPEC, "job_id": "late"}, priority=Lane.NORMAL)
    db_api.storage_remove(storage_id)
    with pytest.raises(exception.JobNotFound):
        db_api.job_get(job["id"])
    assert db_api.job_list() == []
