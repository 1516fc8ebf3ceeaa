"""delfin-like-csd-agent as a real process: kill -9 during a job and restart, graceful SIGTERM, bad options."""

import os
import signal
import subprocess
import time

import grpc
import psutil
from grpc_health.v1 import health_pb2, health_pb2_grpc

from delfin_like_drivers.csd.grpc_api import pb, pb_grpc
from tests.e2e.conftest import Proc, free_port, script
from tests.waits import process_gone, wait_until

FINISHED = (pb.Job.COMPLETED, pb.Job.FAILED, pb.Job.CANCELLED)


def _agent(procs, tmp_path, port, name="log", *extra) -> Proc:
    args = [
        "--port",
        str(port),
        "--nvme-fixtures",
        "builtin",
        "--state-dir",
        str(tmp_path / "state"),
        "--node-name",
        "e2e-node",
        "--kill-grace",
        "2",
        *extra,
    ]
    proc = Proc("delfin-like-csd-agent", args, tmp_path / f"{name}.log")
    procs.append(proc)
    proc.wait_for_log(f"on 127.0.0.1:{port}")
    return proc


def _stub(port):
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    return channel, pb_grpc.InstorageManagerStub(channel)


def _wait(stub, job_id, statuses=FINISHED, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        job = stub.GetJobStatus(pb.GetJobStatusRequest(job_id=job_id), timeout=10)
        if job.status in statuses:
            return job
        assert time.monotonic() < deadline, f"{job_id} still {pb.Job.Status.Name(job.status)}"
        time.sleep(0.05)


def test_kill_9_during_a_job_then_restart(procs, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    port = free_port()
    agent = _agent(procs, tmp_path, port, "first", "--max-concurrent-jobs", "1")
    channel, stub = _stub(port)
    try:
        spec = {"data_path": str(data)}
        stub.SubmitJob(
            pb.SubmitJobRequest(
                spec=pb.JobSpec(
                    job_id="crunch", command=["sh", "-c", "sleep 300"], output_path=str(tmp_path / "crunch"), **spec
                )
            ),
            timeout=10,
        )
        stub.SubmitJob(
            pb.SubmitJobRequest(
                spec=pb.JobSpec(
                    job_id="after",
                    command=["sh", "-c", "echo ok > ok.txt"],
                    output_path=str(tmp_path / "after"),
                    **spec,
                )
            ),
            timeout=10,
        )
        job_pid = _wait(stub, "crunch", statuses=(pb.Job.RUNNING,)).pid
        assert job_pid > 0
    finally:
        channel.close()
    # the agent dies without a chance to clean up; the job's process (its own session) survives it
    os.kill(agent.popen.pid, signal.SIGKILL)
    agent.popen.wait(10)
    assert psutil.pid_exists(job_pid) and not process_gone(job_pid, timeout=0.5)

    _agent(procs, tmp_path, port, "second", "--max-concurrent-jobs", "1")
    channel, stub = _stub(port)
    try:
        crunch = stub.GetJobStatus(pb.GetJobStatusRequest(job_id="crunch"), timeout=10)
        assert crunch.status == pb.Job.FAILED
        assert crunch.error.startswith("the agent stopped while the job was running")
        assert crunch.HasField("completed_at") and crunch.pid == 0
        # the leftover process was stopped at restart, and the queued job ran
        assert process_gone(job_pid)
        after = _wait(stub, "after")
        assert after.status == pb.Job.COMPLETED
        assert (tmp_path / "after" / "ok.txt").read_text().strip() == "ok"
    finally:
        channel.close()


def test_sigterm_is_graceful(procs, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    port = free_port()
    agent = _agent(procs, tmp_path, port, "agent", "--shutdown-grace", "20")
    channel, stub = _stub(port)
    health = health_pb2_grpc.HealthStub(channel)
    try:
        assert health.Check(health_pb2.HealthCheckRequest(), timeout=5).status == health_pb2.HealthCheckResponse.SERVING
        stub.SubmitJob(
            pb.SubmitJobRequest(
                spec=pb.JobSpec(
                    job_id="finish-me",
                    command=["sh", "-c", "sleep 2; echo done > done.txt"],
                    data_path=str(data),
                    output_path=str(tmp_path / "out"),
                )
            ),
            timeout=10,
        )
        _wait(stub, "finish-me", statuses=(pb.Job.RUNNING,))
        agent.popen.send_signal(signal.SIGTERM)
        wait_until(
            lambda: (
                health.Check(health_pb2.HealthCheckRequest(), timeout=5).status
                == health_pb2.HealthCheckResponse.NOT_SERVING
            ),
            10,
            "the health service saying NOT_SERVING",
            interval=0.05,
        )
    finally:
        channel.close()
    assert agent.terminate(timeout=60) == 0
    assert (tmp_path / "out" / "done.txt").read_text().strip() == "done"
    assert "Shutting down: NOT_SERVING" in agent.log and "delfin-like-csd-agent stopped" in agent.log

    _agent(procs, tmp_path, port, "again")
    channel, stub = _stub(port)
    try:
        job = stub.GetJobStatus(pb.GetJobStatusRequest(job_id="finish-me"), timeout=10)
        assert job.status == pb.Job.COMPLETED and job.exit_code == 0
    finally:
        channel.close()


def test_bad_options_exit_2(tmp_path):
    done = subprocess.run(
        [
            script("delfin-like-csd-agent"),
            "--host",
            "0.0.0.0",
            "--port",
            str(free_port()),
            "--nvme-fixtures",
            "builtin",
            "--state-dir",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "refusing to serve on 0.0.0.0 without --auth-file" in done.stderr
