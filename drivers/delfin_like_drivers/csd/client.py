"""A gRPC client of the CSD agent for the ``csd nvme`` driver: channel, credentials, deadlines, errors.

Every call carries the access info's timeout as its deadline; a gRPC failure
becomes a :mod:`delfin_like.sdk.exceptions` error whose message is safe to show
and whose detail (the agent's own words) is for the operator's log.
"""

import base64

import grpc

from delfin_like.sdk import exceptions
from delfin_like_drivers.csd.grpc_api import pb, pb_grpc

_CREDENTIAL_CODES = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)
_JOB_REFUSALS = (
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.OUT_OF_RANGE,
    grpc.StatusCode.UNIMPLEMENTED,
)


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


class AgentClient:
    """One channel to one agent; ``close()`` when done."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        tls: bool = False,
        ca_file: str | None = None,
        server_name: str | None = None,
        timeout: float = 60.0,
    ):
        self.target = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
        self.timeout = timeout
        self._metadata = ()
        if username and password:
            token = base64.b64encode(f"{username}:{password}".encode()).decode()
            self._metadata = (("authorization", f"Basic {token}"),)
        if tls:
            roots = None
            if ca_file:
                try:
                    with open(ca_file, "rb") as f:
                        roots = f.read()
                except OSError as e:
                    raise exceptions.InvalidAccessInfo(
                        "the CA file for the agent's TLS cannot be read", detail=f"{ca_file}: {e.strerror}"
                    )
            options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
            self._channel = grpc.secure_channel(self.target, grpc.ssl_channel_credentials(roots), options=options)
        else:
            self._channel = grpc.insecure_channel(self.target)
        self._stub = pb_grpc.InstorageManagerStub(self._channel)

    @classmethod
    def from_access_info(cls, access_info) -> "AgentClient":
        """Build from the ``rest`` block: host, port, username, password, and extra keys
        ``protocol`` (``grpc``, optional), ``tls`` (bool), ``ca_file``, ``server_name``."""
        rest = access_info.rest
        if rest is None:
            raise exceptions.InvalidAccessInfo("the csd nvme driver needs a rest block with the agent's host and port")
        extra = rest.extra or {}
        protocol = str(extra.get("protocol", "grpc")).lower()
        if protocol != "grpc":
            raise exceptions.InvalidAccessInfo(f"the CSD agent speaks grpc, not {protocol}")
        return cls(
            rest.host,
            rest.port,
            username=rest.username,
            password=rest.password,
            tls=_truthy(extra.get("tls", False)),
            ca_file=extra.get("ca_file") or access_info.ca_path,
            server_name=extra.get("server_name"),
            timeout=access_info.timeout,
        )

    def close(self) -> None:
        self._channel.close()

    def error(self, e: grpc.RpcError, what: str) -> exceptions.DriverError:
        """The sdk exception for a failed RPC (the job methods refine some codes)."""
        code = e.code() if hasattr(e, "code") else grpc.StatusCode.UNKNOWN
        detail = f"{what} on {self.target}: {code.name}: {e.details() if hasattr(e, 'details') else e}"
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return exceptions.DriverTimeout(f"the CSD agent did not answer within {self.timeout:g} s", detail=detail)
        if code == grpc.StatusCode.UNAVAILABLE:
            return exceptions.BackendUnreachable("the CSD agent is unreachable or unavailable", detail=detail)
        if code in _CREDENTIAL_CODES:
            return exceptions.InvalidCredentials("the CSD agent refused the credentials", detail=detail)
        return exceptions.BackendError(f"the CSD agent refused {what} ({code.name})", detail=detail)

    def job_error(self, e: grpc.RpcError, what: str) -> exceptions.DriverError:
        """The sdk exception for a failed job RPC: the agent's refusals keep its reason."""
        code = e.code() if hasattr(e, "code") else grpc.StatusCode.UNKNOWN
        reason = e.details() if hasattr(e, "details") else ""
        detail = f"{what} on {self.target}: {code.name}: {reason}"
        if code == grpc.StatusCode.NOT_FOUND:
            return exceptions.JobNotFound(reason or "no such job on the node", detail=detail)
        if code == grpc.StatusCode.ALREADY_EXISTS:
            return exceptions.JobAlreadyExists(reason or "the node knows that job id already", detail=detail)
        if code in _JOB_REFUSALS:
            # the agent's reason is about the submitted spec: safe and useful to show
            return exceptions.InvalidJob(reason or f"the node refused the job ({code.name})", detail=detail)
        if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
            return exceptions.BackendUnreachable(f"the node cannot take more jobs now: {reason}", detail=detail)
        return self.error(e, what)

    def call(self, method: str, request, what: str | None = None, job: bool = False):
        """Call RPC ``method`` with the deadline and credentials; sdk exceptions on failure
        (the job mapping of :meth:`job_error` when ``job``)."""
        try:
            return getattr(self._stub, method)(request, timeout=self.timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            raise (self.job_error(e, what or method) if job else self.error(e, what or method)) from None

    # ------------------------------------------------------------ the NVMe view

    def node(self):
        nodes = self.call("ListNodes", pb.ListNodesRequest()).nodes
        if not nodes:
            raise exceptions.BackendError("the CSD agent reported no node")
        return nodes[0]

    def subsystems(self):
        return list(self.call("ListSubsystems", pb.ListSubsystemsRequest()).subsystems)

    def controllers(self):
        return list(self.call("ListControllers", pb.ListControllersRequest()).controllers)

    def namespaces(self):
        return list(self.call("ListNamespaces", pb.ListNamespacesRequest()).namespaces)

    def smart_log(self, controller: str):
        return self.call("GetSmartLog", pb.GetSmartLogRequest(controller=controller))

    def io_counters(self, controller: str = ""):
        return list(self.call("GetIoCounters", pb.GetIoCountersRequest(controller=controller)).counters)

    # ------------------------------------------------------------ jobs

    def submit_job(self, spec):
        return self.call("SubmitJob", pb.SubmitJobRequest(spec=spec), job=True)

    def get_job(self, job_id: str):
        return self.call("GetJobStatus", pb.GetJobStatusRequest(job_id=job_id), job=True)

    def cancel_job(self, job_id: str):
        return self.call("CancelJob", pb.CancelJobRequest(job_id=job_id), job=True)
