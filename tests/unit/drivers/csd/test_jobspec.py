"""Job validation: each rule gives its gRPC code; a valid spec comes back normalised."""

import grpc
import pytest

from delfin_like_drivers.csd.agent import jobspec, store

NODE = "node-a"
DEVICES = ("/dev/nvme0n1", "/dev/nvme1n1")


@pytest.fixture
def paths(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    return {"data_path": str(data), "output_path": str(tmp_path / "out")}


def _fields(paths, **overrides) -> dict:
    fields = {"job_id": "job-1", "command": ["sh", "-c", "true"], **paths}
    fields.update(overrides)
    return fields


def _refused(fields, **kwargs) -> jobspec.JobError:
    kwargs.setdefault("node_name", NODE)
    kwargs.setdefault("device_paths", DEVICES)
    with pytest.raises(jobspec.JobError) as caught:
        jobspec.validate(fields, **kwargs)
    return caught.value


def test_valid_spec_is_normalised(paths):
    spec = jobspec.validate(
        _fields(
            paths,
            output_path=paths["output_path"] + "/./x/",
            labels={"team": "ml", "app.io/tier": "1"},
            resources={"cpu": 1.5, "memory": 64 * 1024 * 1024},
            csd={"enabled": True, "device_path": "/dev/nvme1n1"},
            env={"MODE": "fast"},
            timeout_seconds=30,
        ),
        node_name=NODE,
        device_paths=DEVICES,
        cpu_count=2,
    )
    assert spec.job_name == "job-1" and spec.namespace == "default" and spec.target_node == NODE
    assert spec.output_path == paths["output_path"] + "/x"
    assert spec.command == ("sh", "-c", "true")
    assert (spec.cpu, spec.memory, spec.csd_enabled, spec.csd_device_path) == (
        1.5,
        64 * 1024 * 1024,
        True,
        "/dev/nvme1n1",
    )
    assert spec.labels == {"team": "ml", "app.io/tier": "1"} and spec.env == {"MODE": "fast"}
    assert jobspec.JobSpec.from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"job_id": ""}, "job_id"),
        ({"job_id": "-x"}, "job_id"),
        ({"job_id": "a" * 129}, "job_id"),
        ({"job_id": "a b"}, "job_id"),
        ({"namespace": "bad ns"}, "namespace"),
        ({"job_name": "x\ny"}, "job_name"),
        ({"command": []}, "command is required"),
        ({"command": [""]}, "command is required"),
        ({"command": ["a\x00b"]}, "NUL"),
        ({"image": "alpine:3", "command": ["true"]}, "not both"),
        ({"data_path": "relative/dir"}, "data_path must be an absolute path"),
        ({"output_path": "out"}, "output_path must be an absolute path"),
        ({"output_path": "/tmp/../etc"}, "'..'"),
        ({"output_path": ""}, "output_path is required"),
        ({"output_path": "/"}, "must not be /"),
        ({"target_node": "node-b"}, "not this node"),
        ({"resources": {"cpu": -1}}, "resources.cpu"),
        ({"resources": {"cpu": float("nan")}}, "resources.cpu"),
        ({"resources": {"cpu": 3}}, "exceeds the node's 2 CPUs"),
        ({"resources": {"memory": 1000}}, "resources.memory"),
        ({"csd": {"enabled": True, "device_path": "/dev/sda"}}, "not an NVMe namespace of this node"),
        ({"csd": {"enabled": True}}, "not an NVMe namespace"),
        ({"csd": {"enabled": False, "device_path": "/dev/nvme0n1"}}, "csd.enabled is false"),
        ({"labels": {"bad key!": "v"}}, "labels"),
        ({"labels": {f"k{i}": "v" for i in range(65)}}, "at most 64"),
        ({"env": {"1X": "v"}}, "env"),
        ({"env": {"CSD_DATA_PATH": "/x"}}, "set by the agent"),
        ({"timeout_seconds": -1}, "timeout_seconds"),
    ],
)
def test_invalid_argument(paths, overrides, needle):
    error = _refused(_fields(paths, **overrides), cpu_count=2)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert needle in error.message


def test_image_jobs_are_unimplemented(paths):
    error = _refused(_fields(paths, command=[], image="registry/prep:1"))
    assert error.code == grpc.StatusCode.UNIMPLEMENTED


def test_node_state_failed_precondition(paths, tmp_path):
    error = _refused(_fields(paths, data_path=str(tmp_path / "missing")))
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION and "does not exist" in error.message
    afile = tmp_path / "file"
    afile.write_text("x")
    error = _refused(_fields(paths, output_path=str(afile)))
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION and "not a directory" in error.message


def test_allowed_path_prefixes(paths, tmp_path):
    prefixes = (str(tmp_path / "data"),)
    error = _refused(_fields(paths), path_prefixes=prefixes)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT and "outside the paths" in error.message
    # a sibling sharing the prefix's spelling is outside it too
    error = _refused(_fields(paths, output_path=str(tmp_path / "data-evil")), path_prefixes=prefixes)
    assert "outside the paths" in error.message
    spec = jobspec.validate(
        _fields(paths, output_path=str(tmp_path / "data" / "out")), node_name=NODE, path_prefixes=prefixes
    )
    assert spec.output_path.startswith(prefixes[0] + "/")


def test_store_round_trip_and_duplicates(tmp_path, paths):
    db = store.JobStore(str(tmp_path / "state" / "jobs.sqlite"))
    spec = jobspec.validate(_fields(paths, labels={"a": "b"}), node_name=NODE)
    db.insert(store.JobRecord(spec=spec, status=store.PENDING, submitted_at=1.5, message="queued"))
    with pytest.raises(store.DuplicateJob):
        db.insert(store.JobRecord(spec=spec, status=store.PENDING, submitted_at=2.0))
    updated = db.update("job-1", status=store.RUNNING, started_at=2.5, pid=42, pid_start=7)
    assert (updated.status, updated.pid, updated.pid_start, updated.spec) == (store.RUNNING, 42, 7, spec)
    other = jobspec.validate(_fields(paths, job_id="job-2", namespace="ml"), node_name=NODE)
    db.insert(store.JobRecord(spec=other, status=store.PENDING, submitted_at=3.0))
    assert [r.job_id for r in db.list()] == ["job-1", "job-2"]
    assert [r.job_id for r in db.list(namespace="ml")] == ["job-2"]
    assert [r.job_id for r in db.list(statuses=(store.RUNNING,))] == ["job-1"]
    assert db.count(store.PENDING) == 1
    with pytest.raises(ValueError):
        db.update("job-1", spec="x")
    db.close()
    # reopened: the records are still there
    again = store.JobStore(str(tmp_path / "state" / "jobs.sqlite"))
    assert again.get("job-1").started_at == 2.5 and again.get("nope") is None
    again.close()
