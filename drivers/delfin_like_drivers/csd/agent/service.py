"""The ``InstorageManager`` gRPC service: jobs and the node's NVMe view.

Thin: each RPC converts the request, calls the job manager or the NVMe reader,
and converts the answer. Refusals are gRPC status codes (``context.abort``),
never a success flag in a body.
"""

import logging
import os
import time

import grpc

from delfin_like_drivers.csd import nvme_source
from delfin_like_drivers.csd.agent import jobs
from delfin_like_drivers.csd.agent.jobspec import JobError
from delfin_like_drivers.csd.agent.store import JobRecord
from delfin_like_drivers.csd.grpc_api import JOB_STATUS_NAMES, pb, pb_grpc, set_time, smart_message

LOG = logging.getLogger(__name__)


def spec_fields(spec) -> dict:
    """A ``JobSpec`` message -> the plain fields :func:`~.jobspec.validate` takes."""
    return {
        "job_id": spec.job_id,
        "job_name": spec.job_name,
        "namespace": spec.namespace,
        "image": spec.image,
        "command": list(spec.command),
        "data_path": spec.data_path,
        "output_path": spec.output_path,
        "target_node": spec.target_node,
        "resources": {"cpu": spec.resources.cpu, "memory": spec.resources.memory},
        "csd": {"enabled": spec.csd.enabled, "device_path": spec.csd.device_path},
        "labels": dict(spec.labels),
        "env": dict(spec.env),
        "timeout_seconds": spec.timeout_seconds,
    }


def job_message(record: JobRecord, node: str):
    """A :class:`JobRecord` -> ``Job`` message."""
    s = record.spec
    spec = pb.JobSpec(
        job_id=s.job_id,
        job_name=s.job_name,
        namespace=s.namespace,
        image=s.image,
        command=list(s.command),
        data_path=s.data_path,
        output_path=s.output_path,
        target_node=s.target_node,
        resources=pb.Resources(cpu=s.cpu, memory=s.memory),
        csd=pb.CsdOptions(enabled=s.csd_enabled, device_path=s.csd_device_path),
        labels=s.labels,
        env=s.env,
        timeout_seconds=s.timeout_seconds,
    )
    job = pb.Job(
        spec=spec,
        status=pb.Job.Status.Value(record.status),
        message=record.message,
        error=record.error,
        pid=record.pid,
        node=node,
    )
    if record.exit_code is not None:
        job.exit_code = record.exit_code
    set_time(job.submitted_at, record.submitted_at)
    set_time(job.started_at, record.started_at)
    set_time(job.completed_at, record.completed_at)
    return job


class NodeInfo:
    """Facts about this node that do not change while the agent runs."""

    def __init__(self, node_id: str, name: str, agent_version: str, host_nqn: str):
        self.id = node_id
        self.name = name
        self.agent_version = agent_version
        self.host_nqn = host_nqn
        self.started_at = time.time()
        self.cpu_count = os.cpu_count() or 1
        try:
            self.memory_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError):
            self.memory_bytes = 0


class InstorageManagerService(pb_grpc.InstorageManagerServicer):
    def __init__(self, manager: jobs.JobManager, reader: nvme_source.NvmeReader, node: NodeInfo):
        self.manager = manager
        self.reader = reader
        self.node = node

    # ------------------------------------------------------------ helpers

    @staticmethod
    def _abort(context, code: grpc.StatusCode, message: str):
        LOG.info("Refused %s: %s", code.name, message)
        context.abort(code, message)

    def _jobs_call(self, context, fn, *args):
        try:
            return fn(*args)
        except JobError as e:
            self._abort(context, e.code, e.message)

    def _nvme_call(self, context, fn, *args):
        try:
            return fn(*args)
        except nvme_source.UnknownController as e:
            self._abort(context, grpc.StatusCode.NOT_FOUND, str(e))
        except nvme_source.NvmeUnavailable as e:
            LOG.warning("NVMe data unavailable: %s", e)
            self._abort(context, grpc.StatusCode.UNAVAILABLE, f"NVMe data unavailable: {e}")

    # ------------------------------------------------------------ jobs

    def SubmitJob(self, request, context):
        record = self._jobs_call(context, self.manager.submit, spec_fields(request.spec))
        return job_message(record, self.node.name)

    def GetJobStatus(self, request, context):
        return job_message(self._jobs_call(context, self.manager.get, request.job_id), self.node.name)

    def CancelJob(self, request, context):
        return job_message(self._jobs_call(context, self.manager.cancel, request.job_id), self.node.name)

    def ListJobs(self, request, context):
        statuses = []
        for value in request.statuses:
            name = JOB_STATUS_NAMES.get(value)
            if name in (None, "UNKNOWN"):
                self._abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"unknown job status {value}")
            statuses.append(name)
        records = self.manager.list_jobs(request.namespace, tuple(statuses))
        return pb.ListJobsResponse(jobs=[job_message(r, self.node.name) for r in records])

    # ------------------------------------------------------------ node

    def ListNodes(self, request, context):
        running, pending = self.manager.counts()
        node = pb.Node(
            id=self.node.id,
            name=self.node.name,
            agent_version=self.node.agent_version,
            nvme_source=self.reader.kind,
            host_nqn=self.node.host_nqn,
            cpu_count=self.node.cpu_count,
            memory_bytes=self.node.memory_bytes,
            max_concurrent_jobs=self.manager.max_concurrent,
            running_jobs=running,
            pending_jobs=pending,
            status="NOT_SERVING" if self.manager.draining else "SERVING",
        )
        set_time(node.started_at, self.node.started_at)
        return pb.ListNodesResponse(nodes=[node])

    # ------------------------------------------------------------ NVMe

    def ListSubsystems(self, request, context):
        inventory = self._nvme_call(context, self.reader.inventory)
        return pb.ListSubsystemsResponse(
            subsystems=[
                pb.Subsystem(
                    name=s.name,
                    nqn=s.nqn,
                    model=s.model,
                    serial_number=s.serial_number,
                    firmware=s.firmware,
                    total_capacity=s.total_capacity,
                    unallocated_capacity=s.unallocated_capacity,
                    controllers=s.controllers,
                    namespaces=s.namespaces,
                    vendor_id=s.vendor_id,
                )
                for s in inventory.subsystems
            ]
        )

    def ListControllers(self, request, context):
        inventory = self._nvme_call(context, self.reader.inventory)
        return pb.ListControllersResponse(
            controllers=[
                pb.Controller(
                    name=c.name,
                    subsystem_nqn=c.subsystem_nqn,
                    cntlid=c.cntlid,
                    model=c.model,
                    serial_number=c.serial_number,
                    firmware=c.firmware,
                    transport=c.transport,
                    address=c.address,
                    state=c.state,
                    namespaces=c.namespaces,
                )
                for c in inventory.controllers
            ]
        )

    def ListNamespaces(self, request, context):
        inventory = self._nvme_call(context, self.reader.inventory)
        return pb.ListNamespacesResponse(
            namespaces=[
                pb.Namespace(
                    name=n.name,
                    subsystem_nqn=n.subsystem_nqn,
                    nsid=n.nsid,
                    device_path=n.device_path,
                    size_bytes=n.size_bytes,
                    used_bytes=n.used_bytes,
                    sector_size=n.sector_size,
                    max_lba=n.max_lba,
                )
                for n in inventory.namespaces
            ]
        )

    def GetSmartLog(self, request, context):
        return smart_message(self._nvme_call(context, self.reader.smart_log, request.controller))

    def GetIoCounters(self, request, context):
        inventory = self._nvme_call(context, self.reader.inventory)
        names = [c.name for c in inventory.controllers]
        wanted = [request.controller] if request.controller else names
        # one instant for every controller: a node total sums readings of the same moment
        read_at, elapsed = self.reader.reading_time()
        counters = []
        for name in wanted:
            smart = self._nvme_call(context, self.reader.smart_log, name, names, elapsed)
            ctrl = next(c for c in inventory.controllers if c.name == name)
            item = pb.IoCounters(
                controller=name,
                subsystem_nqn=ctrl.subsystem_nqn,
                data_units_read=str(smart.data_units_read),
                data_units_written=str(smart.data_units_written),
                host_read_commands=str(smart.host_read_commands),
                host_write_commands=str(smart.host_write_commands),
                controller_busy_time=str(smart.controller_busy_time),
            )
            set_time(item.read_at, read_at)
            counters.append(item)
        return pb.GetIoCountersResponse(counters=counters)
