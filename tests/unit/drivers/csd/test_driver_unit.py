"""The csd nvme driver without an agent: access info, error mapping, SMART conversion, capabilities."""

import grpc
import pytest

from delfin_like.sdk import exceptions, models
from delfin_like_drivers.csd import client as csd_client
from delfin_like_drivers.csd import driver as csd_driver
from delfin_like_drivers.csd import nvme
from delfin_like_drivers.csd.grpc_api import pb


def _info(**extra) -> models.AccessInfo:
    rest = models.AccessEndpoint(host="127.0.0.1", port=50051, username="ops", password="pw", extra=extra)
    return models.AccessInfo(vendor="csd", model="nvme", rest=rest, timeout=7.0)


class _Failure(grpc.RpcError):
    """What a failed unary call raises: an RpcError with code() and details()."""

    def __init__(self, code, details="agent says no"):
        self._code, self._details = code, details

    def code(self):
        return self._code

    def details(self):
        return self._details


def test_access_info_needs_rest_block_and_grpc():
    with pytest.raises(exceptions.InvalidAccessInfo):
        csd_driver.CsdNvmeDriver(
            models.AccessInfo(vendor="csd", model="nvme", snmp=models.AccessEndpoint(host="h", port=161))
        )
    with pytest.raises(exceptions.InvalidAccessInfo):
        csd_driver.CsdNvmeDriver(_info(protocol="https"))
    with pytest.raises(exceptions.InvalidAccessInfo):
        csd_driver.CsdNvmeDriver(_info(tls=True, ca_file="/nonexistent/ca.pem"))
    drv = csd_driver.CsdNvmeDriver(_info(protocol="GRPC", tls="false"))
    assert drv.client.target == "127.0.0.1:50051" and drv.client.timeout == 7.0
    assert dict(drv.client._metadata)["authorization"].startswith("Basic ")
    drv.close()


def test_ipv6_target():
    c = csd_client.AgentClient("::1", 1234)
    assert c.target == "[::1]:1234"
    c.close()


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (grpc.StatusCode.DEADLINE_EXCEEDED, exceptions.DriverTimeout),
        (grpc.StatusCode.UNAVAILABLE, exceptions.BackendUnreachable),
        (grpc.StatusCode.UNAUTHENTICATED, exceptions.InvalidCredentials),
        (grpc.StatusCode.PERMISSION_DENIED, exceptions.InvalidCredentials),
        (grpc.StatusCode.INTERNAL, exceptions.BackendError),
        (grpc.StatusCode.NOT_FOUND, exceptions.BackendError),
    ],
)
def test_rpc_errors_become_sdk_errors(code, cls):
    c = csd_client.AgentClient("127.0.0.1", 1, password="pw", username="u")
    error = c.error(_Failure(code), "ListNodes")
    assert type(error) is cls
    # the agent's words go to the operator detail, never a secret
    assert "agent says no" in error.detail and "pw" not in error.detail + error.message
    c.close()


def test_smart_from_message_keeps_big_counters():
    msg = pb.SmartLog(
        controller="nvme0",
        critical_warning=4,
        percentage_used=120,
        available_spare=50,
        available_spare_threshold=10,
        data_units_read=str(2**64 + 1),
        host_read_commands="",
        temperature_sensors_kelvin=[300, 301],
    )
    smart = csd_driver.smart_from_message(msg)
    assert smart.data_units_read == 2**64 + 1 and smart.host_read_commands == 0
    assert smart.temperature_sensors_kelvin == (300, 301)
    assert nvme.health_problems(smart) == [
        "reliability degraded by media or internal errors",
        "rated endurance used up (120%)",
    ]


def test_ids_and_capabilities():
    assert csd_driver.volume_id("nqn.x", 2) == "nqn.x/ns2"
    assert csd_driver.controller_id("nqn.x", 1) == "nqn.x/ctrl1"
    drv = csd_driver.CsdNvmeDriver(_info())
    caps = drv.get_capabilities()
    assert caps["is_historic"] is False
    for resource in ("storage", "disk"):
        metrics = caps["resource_metrics"][resource]
        assert metrics["read_throughput"] == {
            "unit": "bytes/s",
            "type": "gauge",
            "description": "Bytes read per second (SMART data units read)",
        }
        assert metrics["read_iops"]["unit"] == "ops/s" and metrics["write_bytes_total"]["type"] == "counter"
        assert caps["collection"][resource] == {"min_interval": 60, "is_historic": False}
    # the driver may not list ports: None leaves stored rows alone
    assert drv.list_ports() is None
    drv.close()


def test_job_messages_both_ways():
    spec = models.JobSpec(
        job_id="j1",
        command=("sh", "-c", "true"),
        data_path="/d",
        output_path="/o",
        name="n",
        namespace="ml",
        cpu=1.5,
        memory=2**30,
        csd_enabled=True,
        csd_device_path="/dev/nvme0n1",
        labels={"a": "b"},
        env={"K": "v"},
        timeout_seconds=9,
    )
    msg = csd_driver.job_spec_message(spec)
    assert (msg.job_id, msg.job_name, list(msg.command), msg.resources.memory, msg.csd.device_path) == (
        "j1",
        "n",
        ["sh", "-c", "true"],
        2**30,
        "/dev/nvme0n1",
    )
    assert dict(msg.labels) == {"a": "b"} and dict(msg.env) == {"K": "v"} and msg.timeout_seconds == 9
    reply = pb.Job(spec=msg, status=pb.Job.FAILED, node="n1", message="m", error="e", exit_code=3)
    reply.started_at.FromSeconds(1_700_000_000)
    job = csd_driver.job_from_message(reply)
    assert (job.job_id, job.status, job.node, job.exit_code, job.started_at, job.completed_at) == (
        "j1",
        models.JobStatus.FAILED,
        "n1",
        3,
        1_700_000_000.0,
        None,
    )
    # exit code unset stays None (not 0)
    assert csd_driver.job_from_message(pb.Job(spec=msg, status=pb.Job.RUNNING)).exit_code is None


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (grpc.StatusCode.NOT_FOUND, "JobNotFound"),
        (grpc.StatusCode.ALREADY_EXISTS, "JobAlreadyExists"),
        (grpc.StatusCode.INVALID_ARGUMENT, "InvalidJob"),
        (grpc.StatusCode.FAILED_PRECONDITION, "InvalidJob"),
        (grpc.StatusCode.UNIMPLEMENTED, "InvalidJob"),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, "BackendUnreachable"),
        (grpc.StatusCode.UNAVAILABLE, "BackendUnreachable"),
        (grpc.StatusCode.UNAUTHENTICATED, "InvalidCredentials"),
    ],
)
def test_job_rpc_errors_keep_the_agents_reason(code, cls):
    c = csd_client.AgentClient("127.0.0.1", 1)
    error = c.job_error(_Failure(code, "data_path /x does not exist on this node"), "SubmitJob")
    assert type(error) is getattr(exceptions, cls)
    if cls in ("JobNotFound", "JobAlreadyExists", "InvalidJob"):
        assert error.message == "data_path /x does not exist on this node"
    c.close()
