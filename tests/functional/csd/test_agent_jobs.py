"""Jobs on a real agent over gRPC: real subprocesses, output files, cancel, limits, codes, recovery."""

import os
import signal
import subprocess
import sys
import time

import grpc
import psutil
import pytest

from delfin_like_drivers.csd.agent import jobs, jobspec, store
from delfin_like_drivers.csd.grpc_api import pb
from tests.waits import process_gone, wait_until


@pytest.fixture
def data_dir(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "input.txt").write_text("alpha\nbeta\ngamma\n")
    return data


def _code(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value.code()


def test_job_writes_output_and_completes(start_agent, data_dir, tmp_path):
    agent = start_agent()
    out = tmp_path / "results" / "run-1"
    script = 'tr a-z A-Z < "$CSD_DATA_PATH/input.txt" > upper.txt; echo "node=$CSD_NODE job=$CSD_JOB_ID $MODE"'
    job = agent.submit(
        job_id="prep-1",
        job_name="uppercase",
        command=["sh", "-c", script],
        data_path=str(data_dir),
        output_path=str(out),
        labels={"team": "ml"},
        env={"MODE": "fast"},
    )
    assert job.status == pb.Job.PENDING and job.HasField("submitted_at") and not job.HasField("completed_at")
    done = agent.wait_job("prep-1")
    assert done.status == pb.Job.COMPLETED, done
    assert done.exit_code == 0 and done.error == "" and done.pid == 0 and done.node == "node-a"
    assert done.started_at.ToNanoseconds() <= done.completed_at.ToNanoseconds()
    assert dict(done.spec.labels) == {"team": "ml"}
    # the output landed under output_path, the working directory of the job
    assert (out / "upper.txt").read_text() == "ALPHA\nBETA\nGAMMA\n"
    log = (tmp_path / "state-node-a" / "logs" / "prep-1.log").read_text()
    assert log.strip() == "node=node-a job=prep-1 fast"
    listed = agent.stub.ListJobs(pb.ListJobsRequest(statuses=[pb.Job.COMPLETED]), timeout=5).jobs
    assert [j.spec.job_id for j in listed] == ["prep-1"]


def test_failing_and_missing_commands(start_agent, data_dir, tmp_path):
    agent = start_agent()
    agent.submit(
        job_id="bad-exit",
        command=["sh", "-c", "echo 'cannot parse row 7' >&2; exit 3"],
        data_path=str(data_dir),
        output_path=str(tmp_path / "o1"),
    )
    agent.submit(
        job_id="no-such-program",
        command=["/nonexistent/prep-tool"],
        data_path=str(data_dir),
        output_path=str(tmp_path / "o2"),
    )
    failed = agent.wait_job("bad-exit")
    assert failed.status == pb.Job.FAILED and failed.exit_code == 3
    assert failed.error == "exited with code 3: cannot parse row 7"
    missing = agent.wait_job("no-such-program")
    assert missing.status == pb.Job.FAILED and "cannot start /nonexistent/prep-tool" in missing.error
    assert not missing.HasField("exit_code")


def test_cancel_running_job_stops_its_whole_process_group(start_agent, data_dir, tmp_path):
    agent = start_agent()
    # the shell starts a child that ignores SIGTERM: only the group kill reaches it
    script = "trap '' TERM; sleep 300 & echo $! > child.pid; wait"
    agent.submit(
        job_id="long-1", command=["sh", "-c", script], data_path=str(data_dir), output_path=str(tmp_path / "long")
    )
    running = agent.wait_job("long-1", statuses=(pb.Job.RUNNING,))
    pid = running.pid
    assert pid > 0 and psutil.pid_exists(pid)
    child_file = tmp_path / "long" / "child.pid"
    deadline = time.monotonic() + 10
    while not child_file.exists() or not child_file.read_text().strip():
        assert time.monotonic() < deadline, "the job never wrote its child's pid"
        time.sleep(0.05)
    child = int(child_file.read_text())
    started = time.monotonic()
    cancelled = agent.stub.CancelJob(pb.CancelJobRequest(job_id="long-1"), timeout=30)
    assert cancelled.status == pb.Job.CANCELLED and cancelled.error == "cancelled by request"
    assert cancelled.HasField("completed_at") and cancelled.pid == 0
    assert process_gone(pid) and process_gone(child), "a process of the cancelled job survived"
    assert time.monotonic() - started < 20
    # cancelling again is harmless; a finished job cannot be cancelled
    assert agent.stub.CancelJob(pb.CancelJobRequest(job_id="long-1"), timeout=5).status == pb.Job.CANCELLED
    agent.submit(job_id="quick", command=["true"], data_path=str(data_dir), output_path=str(tmp_path / "q"))
    assert agent.wait_job("quick").status == pb.Job.COMPLETED
    assert (
        _code(lambda: agent.stub.CancelJob(pb.CancelJobRequest(job_id="quick"), timeout=5))
        == grpc.StatusCode.FAILED_PRECONDITION
    )


def test_concurrency_bound_and_pending_cancel(start_agent, data_dir, tmp_path):
    agent = start_agent(max_concurrent_jobs=1)
    for i in range(3):
        agent.submit(
            job_id=f"seq-{i}",
            command=["sh", "-c", "sleep 0.4"],
            data_path=str(data_dir),
            output_path=str(tmp_path / f"s{i}"),
        )
    agent.submit(
        job_id="never", command=["sh", "-c", "touch ran"], data_path=str(data_dir), output_path=str(tmp_path / "never")
    )
    # while the first runs, the rest wait; the last is cancelled before it ever starts
    cancelled = agent.stub.CancelJob(pb.CancelJobRequest(job_id="never"), timeout=5)
    assert cancelled.status == pb.Job.CANCELLED and not cancelled.HasField("started_at")
    peak = 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        # one ListJobs is one consistent snapshot (reading jobs one by one could see a hand-over twice)
        listed = agent.stub.ListJobs(pb.ListJobsRequest(), timeout=5).jobs
        states = [j.status for j in listed if j.spec.job_id.startswith("seq-")]
        peak = max(peak, states.count(pb.Job.RUNNING))
        if all(s == pb.Job.COMPLETED for s in states):
            break
        time.sleep(0.02)
    assert peak == 1
    jobs_done = [agent.job(f"seq-{i}") for i in range(3)]
    for before, after in zip(jobs_done, jobs_done[1:], strict=False):
        assert after.started_at.ToNanoseconds() >= before.completed_at.ToNanoseconds()
    assert not (tmp_path / "never" / "ran").exists()
    node = agent.stub.ListNodes(pb.ListNodesRequest(), timeout=5).nodes[0]
    assert (node.max_concurrent_jobs, node.running_jobs, node.pending_jobs) == (1, 0, 0)


def test_timeout_and_resource_limits(start_agent, data_dir, tmp_path):
    agent = start_agent()
    agent.submit(
        job_id="slow",
        command=["sleep", "60"],
        data_path=str(data_dir),
        output_path=str(tmp_path / "t"),
        timeout_seconds=1,
    )
    slow = agent.wait_job("slow")
    assert slow.status == pb.Job.FAILED and slow.error == "timed out after 1 s"
    probe = "import os; print(sorted(os.sched_getaffinity(0)), flush=True); b = bytearray(400 * 1024 * 1024)"
    agent.submit(
        job_id="limited",
        command=[sys.executable, "-c", probe],
        data_path=str(data_dir),
        output_path=str(tmp_path / "lim"),
        resources=pb.Resources(cpu=1, memory=200 * 1024 * 1024),
    )
    limited = agent.wait_job("limited")
    assert limited.status == pb.Job.FAILED and "MemoryError" in limited.error
    log = (tmp_path / "state-node-a" / "logs" / "limited.log").read_text()
    assert log.splitlines()[0] == f"[{sorted(os.sched_getaffinity(0))[0]}]"


def test_refusals_are_grpc_codes(start_agent, data_dir, tmp_path):
    agent = start_agent()
    ok = {"command": ["true"], "data_path": str(data_dir), "output_path": str(tmp_path / "o")}
    cases = [
        ({**ok, "job_id": "rel", "data_path": "data"}, grpc.StatusCode.INVALID_ARGUMENT),
        ({**ok, "job_id": "rel2", "output_path": "out/dir"}, grpc.StatusCode.INVALID_ARGUMENT),
        ({**ok, "job_id": "bad id"}, grpc.StatusCode.INVALID_ARGUMENT),
        ({**ok, "job_id": "elsewhere", "target_node": "node-z"}, grpc.StatusCode.INVALID_ARGUMENT),
        (
            {**ok, "job_id": "dev", "csd": pb.CsdOptions(enabled=True, device_path="/dev/nvme9n1")},
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        ({**ok, "job_id": "nodata", "data_path": str(tmp_path / "missing")}, grpc.StatusCode.FAILED_PRECONDITION),
        (
            {"job_id": "img", "image": "prep:1", "data_path": str(data_dir), "output_path": str(tmp_path / "i")},
            grpc.StatusCode.UNIMPLEMENTED,
        ),
    ]
    for spec, code in cases:
        assert _code(lambda spec=spec: agent.submit(**spec)) == code, spec["job_id"]
    agent.submit(job_id="dup", **ok)
    assert _code(lambda: agent.submit(job_id="dup", **ok)) == grpc.StatusCode.ALREADY_EXISTS
    assert _code(lambda: agent.job("nope")) == grpc.StatusCode.NOT_FOUND
    assert (
        _code(lambda: agent.stub.CancelJob(pb.CancelJobRequest(job_id="nope"), timeout=5)) == grpc.StatusCode.NOT_FOUND
    )
    # a csd job on one of the node's namespaces is accepted and sees its device
    agent.submit(
        job_id="on-device",
        command=["sh", "-c", 'echo "$CSD_DEVICE_PATH" > dev.txt'],
        data_path=str(data_dir),
        output_path=str(tmp_path / "dev"),
        csd=pb.CsdOptions(enabled=True, device_path="/dev/nvme1n1"),
    )
    assert agent.wait_job("on-device").status == pb.Job.COMPLETED
    assert (tmp_path / "dev" / "dev.txt").read_text().strip() == "/dev/nvme1n1"
    # none of the refused jobs was recorded
    assert {j.spec.job_id for j in agent.stub.ListJobs(pb.ListJobsRequest(), timeout=5).jobs} == {"dup", "on-device"}


def test_graceful_stop_refuses_new_jobs_and_finishes_running_ones(start_agent, data_dir, tmp_path):
    import threading

    from grpc_health.v1 import health_pb2, health_pb2_grpc

    agent = start_agent(shutdown_grace=20.0)
    health = health_pb2_grpc.HealthStub(agent.channel)
    assert health.Check(health_pb2.HealthCheckRequest(), timeout=5).status == health_pb2.HealthCheckResponse.SERVING
    agent.submit(
        job_id="finishing",
        command=["sh", "-c", "sleep 1.5; echo done > done.txt"],
        data_path=str(data_dir),
        output_path=str(tmp_path / "f"),
    )
    agent.wait_job("finishing", statuses=(pb.Job.RUNNING,))
    stopper = threading.Thread(target=agent.agent.stop)
    stopper.start()
    try:
        wait_until(
            lambda: (
                health.Check(health_pb2.HealthCheckRequest(), timeout=5).status
                == health_pb2.HealthCheckResponse.NOT_SERVING
            ),
            10,
            "the health service saying NOT_SERVING",
            interval=0.02,
        )
        assert (
            _code(
                lambda: agent.submit(
                    job_id="late", command=["true"], data_path=str(data_dir), output_path=str(tmp_path / "late")
                )
            )
            == grpc.StatusCode.UNAVAILABLE
        )
        # status RPCs still answer while the job finishes
        assert agent.job("finishing").status in (pb.Job.RUNNING, pb.Job.COMPLETED)
    finally:
        stopper.join(30)
    agent.stopped = True
    agent.channel.close()
    assert not stopper.is_alive()
    assert (tmp_path / "f" / "done.txt").read_text().strip() == "done"
    # a new agent on the same state reports it truthfully
    again = start_agent(state=tmp_path / "state-node-a")
    assert again.job("finishing").status == pb.Job.COMPLETED
    assert _code(lambda: again.job("late")) == grpc.StatusCode.NOT_FOUND


def test_shutdown_grace_over_stops_jobs_and_records_them(start_agent, data_dir, tmp_path):
    agent = start_agent(shutdown_grace=0.5, max_concurrent_jobs=1)
    agent.submit(job_id="cut", command=["sleep", "120"], data_path=str(data_dir), output_path=str(tmp_path / "c"))
    agent.submit(job_id="queued", command=["true"], data_path=str(data_dir), output_path=str(tmp_path / "q"))
    pid = agent.wait_job("cut", statuses=(pb.Job.RUNNING,)).pid
    agent.stop()
    assert process_gone(pid)
    again = start_agent(state=tmp_path / "state-node-a")
    cut = again.job("cut")
    assert cut.status == pb.Job.FAILED and cut.error == "the agent shut down while the job was running"
    # the queued job was kept and runs once the agent is back
    assert again.wait_job("queued").status == pb.Job.COMPLETED


def test_recovery_marks_running_jobs_failed_and_stops_leftovers(tmp_path, data_dir):
    """What a restarted agent finds after a crash: RUNNING rows whose process may still run."""
    state = tmp_path / "state"
    db = store.JobStore(str(state / "jobs.sqlite"))
    leftover = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        for job_id, pid, ticks in (
            ("orphan", leftover.pid, jobs.process_start_ticks(leftover.pid)),
            ("ended", 999999, 12345),
            ("starting", 0, None),
        ):
            spec = jobspec.validate(
                {
                    "job_id": job_id,
                    "command": ["sleep", "300"],
                    "data_path": str(data_dir),
                    "output_path": str(tmp_path / job_id),
                },
                node_name="n",
            )
            db.insert(store.JobRecord(spec=spec, status=store.PENDING, submitted_at=time.time()))
            db.update(job_id, status=store.RUNNING, started_at=time.time(), pid=pid, pid_start=ticks)
        manager = jobs.JobManager(db, node_name="n", log_dir=str(state / "logs"))
        assert manager.recover() == (3, 0)
        leftover.wait(timeout=10)
        assert leftover.returncode == -signal.SIGKILL
        orphan, ended, starting = db.get("orphan"), db.get("ended"), db.get("starting")
        assert orphan.status == ended.status == starting.status == store.FAILED
        assert orphan.error.startswith("the agent stopped while the job was running; its leftover processes")
        assert ended.error.endswith("its process 999999 had already ended")
        assert starting.error.endswith("(before its process started)")
    finally:
        if leftover.poll() is None:
            os.killpg(leftover.pid, signal.SIGKILL)
            leftover.wait()
        db.close()


def test_reflection_lists_the_services(start_agent):
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    agent = start_agent()
    stub = reflection_pb2_grpc.ServerReflectionStub(agent.channel)
    responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
    names = {s.name for r in responses for s in r.list_services_response.service}
    assert {
        "delfin_like.csd.v1.InstorageManager",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    } <= names
    # the service's methods are discoverable too (what grpcurl describe shows)
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

    db = ProtoReflectionDescriptorDatabase(agent.channel)
    service = db.FindFileContainingSymbol("delfin_like.csd.v1.InstorageManager")
    methods = {m.name for s in service.service for m in s.method}
    assert {"SubmitJob", "GetJobStatus", "CancelJob", "ListNodes", "GetSmartLog", "GetIoCounters"} <= methods
