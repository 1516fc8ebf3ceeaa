"""CSD agents served in-process on loopback ports, with real gRPC clients; ``api``: the platform's API
(WebTest) with a task manager in-process, casting over the real RabbitMQ, on PostgreSQL."""

import time

import grpc
import pytest

from delfin_like.common.constants import TaskStatus
from delfin_like_drivers.csd.agent import server
from delfin_like_drivers.csd.grpc_api import pb, pb_grpc
from tests.functional.drivers.conftest import platform  # noqa: F401 - fixture

FINISHED = (pb.Job.COMPLETED, pb.Job.FAILED, pb.Job.CANCELLED)


@pytest.fixture
def api(platform):  # noqa: F811 - the fixture imported above
    """The WebTest client of the platform's API (tasks go over RabbitMQ to its task manager)."""
    return platform.api


class RunningAgent:
    """An agent started in this process, a channel to it and its stub."""

    def __init__(self, agent: server.Agent, channel: grpc.Channel):
        self.agent = agent
        self.port = agent.port
        self.channel = channel
        self.stub = pb_grpc.InstorageManagerStub(channel)
        self.stopped = False

    def stop(self):
        if not self.stopped:
            self.stopped = True
            self.channel.close()
            self.agent.stop()

    def submit(self, **spec):
        return self.stub.SubmitJob(pb.SubmitJobRequest(spec=pb.JobSpec(**spec)), timeout=10)

    def job(self, job_id):
        return self.stub.GetJobStatus(pb.GetJobStatusRequest(job_id=job_id), timeout=10)

    def wait_job(self, job_id, statuses=FINISHED, timeout=30.0):
        """Poll until the job is in one of ``statuses``; returns it (fails after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if job.status in statuses:
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} still {pb.Job.Status.Name(job.status)} after {timeout} s")
            time.sleep(0.05)


@pytest.fixture
def start_agent(tmp_path):
    """Factory: start an agent (builtin fixtures, port 0, its own state dir); all are stopped afterwards."""
    started: list[RunningAgent] = []

    def start(name="node-a", state=None, **options) -> RunningAgent:
        opts = server.AgentOptions(
            port=0,
            node_name=name,
            state_dir=str(state or tmp_path / f"state-{name}"),
            nvme_fixtures=options.pop("nvme_fixtures", "builtin"),
            kill_grace=2.0,
            shutdown_grace=options.pop("shutdown_grace", 5.0),
            rpc_grace=1.0,
            **options,
        )
        agent = server.Agent(opts)
        agent.start()
        channel = grpc.insecure_channel(f"127.0.0.1:{agent.port}")
        running = RunningAgent(agent, channel)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def csd_body(port: int, **rest) -> dict:
    """A registration body for the ``csd nvme`` driver reaching the agent on loopback ``port``;
    ``rest`` adds keys to the rest block."""
    rest = {"host": "127.0.0.1", "port": port, "username": "ops", "password": "agent-pw", **rest}
    return {"vendor": "csd", "model": "nvme", "rest": rest}


def wait_task(client, task_id, timeout=30.0) -> dict:
    """The task once it is no longer active, read through the WebTest ``client`` (fails after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while True:
        task = client.get(f"/v1/tasks/{task_id}").json
        if task["status"] not in TaskStatus.ACTIVE:
            return task
        assert time.monotonic() < deadline, f"task {task_id} still {task['status']}"
        time.sleep(0.05)
