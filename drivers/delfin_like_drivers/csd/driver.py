"""Driver ``csd nvme``: a computational-storage node, through its ``delfin-like-csd-agent``.

Registration: ``{"vendor": "csd", "model": "nvme", "rest": {"host", "port",
"username", "password", "tls": false, "ca_file": ..., "server_name": ...}}``.
The ``rest`` block addresses the agent's gRPC port (``protocol: grpc`` may be
said explicitly); username and password are sent as basic credentials, which
the agent checks when it runs with ``--auth-file``. ``tls: true`` uses TLS,
verified against ``ca_file`` (default: the platform's ``ca_path``, else the
system roots).

What the node looks like to the platform:

- storage: the node (name, identity = the agent's node id); capacity summed over
  its NVM subsystems; DEGRADED when a device reports a SMART problem.
- storage pools: one per NVM subsystem (id = subsystem NQN): its total NVM
  capacity, ``used`` = allocated to namespaces, ``free`` = unallocated.
- volumes: the namespaces (id = ``<subsystem NQN>/ns<NSID>``).
- controllers: the NVMe controllers (id = ``<subsystem NQN>/ctrl<CNTLID>``).
- disks: the NVMe devices, one per subsystem (id = serial number), with their
  SMART health: ABNORMAL on any critical warning, spare below threshold or
  endurance used up; health score = 100 - percentage used.
- ports: not applicable (None: stored rows are left alone).
- alerts (``list_alerts``): every SMART problem a device reports now, one alert per
  critical-warning bit (and for endurance used up, and spare below threshold without the
  bit), about its disk. SMART holds conditions, not events: the sequence number is
  ``<disk id>/<condition>`` (stable while the condition lasts, so a repeat is recognised),
  ``occur_time`` is when the agent was read, and ``since`` is not used (a condition still
  present is reported again). Nothing can be cleared on the device: ``clear_alert`` is not
  supported.

Performance (``collect_perf_metrics``): the agent's ``GetIoCounters`` gives every
controller's SMART I/O counters and when they were read. A disk's counters are its
subsystem's first controller's (as its health); the storage's are the sum over the
disks. Host read/write commands -> ``read_ops``/``write_ops``, data units read/written
x 512,000 -> ``read_bytes``/``write_bytes``, busy minutes -> ``busy_us`` (disks'
utilization). The 128-bit counters are exact ints that never wrap: a decrease is a
reset (no rate). Rates are over the agent's own read times; samples carry that time.
No latency in SMART: no response time. Namespaces have no counters of their own.

Jobs: ``submit_job`` / ``get_job`` / ``cancel_job`` map to the agent's SubmitJob,
GetJobStatus and CancelJob; the agent's refusals keep their reason
(INVALID_ARGUMENT, FAILED_PRECONDITION, UNIMPLEMENTED -> InvalidJob; ALREADY_EXISTS
-> JobAlreadyExists; NOT_FOUND -> JobNotFound). ``get_capabilities()`` says so
with ``"jobs": {"command": true, "image": false}``.
"""

import datetime
import time

from delfin_like.sdk import driver, exceptions, models, perf, rates
from delfin_like_drivers.csd import nvme
from delfin_like_drivers.csd.client import AgentClient
from delfin_like_drivers.csd.grpc_api import JOB_STATUS_NAMES, big, get_time, pb, smart_from_message

VENDOR = "csd"
MODEL = "nvme"
# one sync reads the node once: every listing of one driver instance within this age shares it
SNAPSHOT_MAX_AGE = 10.0

_CONTROLLER_STATES = {
    "live": models.ControllerStatus.NORMAL,
    "connecting": models.ControllerStatus.DEGRADED,
    "resetting": models.ControllerStatus.DEGRADED,
    "new": models.ControllerStatus.DEGRADED,
    "dead": models.ControllerStatus.OFFLINE,
    "deleting": models.ControllerStatus.OFFLINE,
}

# What the SMART counters give, in the platform's capability format: the standard metrics with
# descriptions that say where each comes from (base units; gauges are rates over the interval)
_SMART_SOURCE = {
    "read_throughput": "Bytes read per second (SMART data units read)",
    "write_throughput": "Bytes written per second (SMART data units written)",
    "throughput": "Bytes read and written per second",
    "read_iops": "Read commands per second (SMART host read commands)",
    "write_iops": "Write commands per second (SMART host write commands)",
    "iops": "Read and write commands per second",
    "utilization": "Share of the interval the controller was busy (SMART, minute resolution)",
    "read_ops_total": "Read commands since the device was made",
    "write_ops_total": "Write commands since the device was made",
    "read_bytes_total": "Bytes read since the device was made (512,000 per data unit)",
    "write_bytes_total": "Bytes written since the device was made (512,000 per data unit)",
}
_SPECS = tuple(
    perf.MetricSpec(name, perf.STANDARD_METRICS[name].unit, perf.STANDARD_METRICS[name].type, text)
    for name, text in _SMART_SOURCE.items()
)
# per resource type: what collect_perf_metrics yields (a node's busy time has no meaning as one ratio)
PERF_METRICS = {
    models.ResourceType.DISK: tuple(_SMART_SOURCE),
    models.ResourceType.STORAGE: tuple(m for m in _SMART_SOURCE if m != "utilization"),
}
BUSY_MINUTE_US = 60_000_000
# SMART data units count 1,000 sectors and busy time whole minutes: finer windows would mostly read zero
MIN_INTERVAL = 60


def job_spec_message(spec: models.JobSpec):
    """An sdk :class:`~delfin_like.sdk.models.JobSpec` -> the agent's ``JobSpec`` message."""
    return pb.JobSpec(
        job_id=spec.job_id,
        job_name=spec.name,
        namespace=spec.namespace,
        image=spec.image,
        command=list(spec.command),
        data_path=spec.data_path,
        output_path=spec.output_path,
        target_node=spec.target_node,
        resources=pb.Resources(cpu=spec.cpu, memory=spec.memory),
        csd=pb.CsdOptions(enabled=spec.csd_enabled, device_path=spec.csd_device_path),
        labels=dict(spec.labels),
        env=dict(spec.env),
        timeout_seconds=spec.timeout_seconds,
    )


def job_from_message(msg) -> models.Job:
    """The agent's ``Job`` message -> an sdk :class:`~delfin_like.sdk.models.Job`."""
    return models.Job(
        job_id=msg.spec.job_id,
        status=JOB_STATUS_NAMES.get(msg.status, models.JobStatus.UNKNOWN),
        node=msg.node or None,
        message=msg.message,
        error=msg.error,
        exit_code=msg.exit_code if msg.HasField("exit_code") else None,
        submitted_at=get_time(msg, "submitted_at"),
        started_at=get_time(msg, "started_at"),
        completed_at=get_time(msg, "completed_at"),
    )


def volume_id(subsystem_nqn: str, nsid: int) -> str:
    return f"{subsystem_nqn}/ns{nsid}"


def controller_id(subsystem_nqn: str, cntlid: int) -> str:
    return f"{subsystem_nqn}/ctrl{cntlid}"


class IoReading:
    """One resource's standard counters (see :func:`io_counters`) read at ``at`` (the agent's clock)."""

    __slots__ = ("at", "counters", "name", "resource_id")

    def __init__(self, resource_id: str, name: str, at: float, counters: dict[str, int]):
        self.resource_id, self.name, self.at, self.counters = resource_id, name, at, counters


def io_counters(msg) -> dict[str, int]:
    """An ``IoCounters`` message (128-bit decimal strings) -> the standard counter names of
    :func:`delfin_like.sdk.rates.io_metric_value`, as exact ints."""
    return {
        "read_ops": big(msg.host_read_commands),
        "write_ops": big(msg.host_write_commands),
        "read_bytes": big(msg.data_units_read) * nvme.DATA_UNIT_BYTES,
        "write_bytes": big(msg.data_units_written) * nvme.DATA_UNIT_BYTES,
        "busy_us": big(msg.controller_busy_time) * BUSY_MINUTE_US,
    }


def disk_readings(subsystems, counters) -> list[IoReading]:
    """One reading per disk (a subsystem, id as :meth:`CsdNvmeDriver.list_disks` gives it) from its
    first controller's ``IoCounters``; subsystems without counters are left out."""
    by_controller = {c.controller: c for c in counters}
    out = []
    for s in subsystems:
        msg = by_controller.get(s.controllers[0]) if s.controllers else None
        if msg is not None:
            at = get_time(msg, "read_at")
            out.append(IoReading(s.serial_number or s.nqn, s.controllers[0], at or time.time(), io_counters(msg)))
    return out


def node_reading(node_id: str, name: str, disks: list[IoReading]) -> IoReading:
    """The node's reading: every counter summed over ``disks``, at the latest of their times."""
    total = {key: sum(d.counters[key] for d in disks) for key in disks[0].counters}
    return IoReading(node_id, name, max(d.at for d in disks), total)


def reading_samples(tracker: rates.CounterTracker, resource_type: str, reading: IoReading, metrics):
    """The samples of one reading: observed in ``tracker`` (never-wrapping counters, so a decrease
    is a reset), then each of ``metrics`` that has a value."""
    return rates.io_samples(
        tracker, resource_type, reading.resource_id, reading.name, reading.at, reading.counters, metrics, width=None
    )


# critical-warning bit -> (code, severity, type); texts as nvme.health_problems words them
_WARNINGS = (
    (nvme.CW_SPARE, "available_spare", models.AlertSeverity.MAJOR, models.AlertType.EQUIPMENT),
    (nvme.CW_TEMPERATURE, "temperature", models.AlertSeverity.MAJOR, models.AlertType.ENVIRONMENTAL),
    (nvme.CW_RELIABILITY, "reliability_degraded", models.AlertSeverity.CRITICAL, models.AlertType.EQUIPMENT),
    (nvme.CW_READ_ONLY, "read_only", models.AlertSeverity.CRITICAL, models.AlertType.EQUIPMENT),
    (nvme.CW_VOLATILE_BACKUP, "volatile_backup_failed", models.AlertSeverity.CRITICAL, models.AlertType.EQUIPMENT),
    (nvme.CW_PMR_READ_ONLY, "pmr_read_only", models.AlertSeverity.MAJOR, models.AlertType.EQUIPMENT),
)
_WARNING_TEXT = {
    "available_spare": "available spare below threshold",
    "temperature": "temperature outside its thresholds",
    "reliability_degraded": "reliability degraded by media or internal errors",
    "read_only": "media placed in read-only mode",
    "volatile_backup_failed": "volatile memory backup failed",
    "pmr_read_only": "persistent memory region read-only",
}


def smart_conditions(smart: nvme.SmartLog) -> list[tuple[str, str, str, str]]:
    """``(code, severity, type, text)`` of each problem of a SMART log (empty when healthy)."""
    out = [(code, sev, kind, _WARNING_TEXT[code]) for bit, code, sev, kind in _WARNINGS if smart.critical_warning & bit]
    if smart.percentage_used >= 100:
        out.append(("endurance_used_up", models.AlertSeverity.WARNING, models.AlertType.EQUIPMENT,
                    f"rated endurance used up ({smart.percentage_used}%)"))  # fmt: skip
    if smart.available_spare < smart.available_spare_threshold and not smart.critical_warning & nvme.CW_SPARE:
        out.append(("available_spare", models.AlertSeverity.MAJOR, models.AlertType.EQUIPMENT,
                    _WARNING_TEXT["available_spare"]))  # fmt: skip
    return out


class _Snapshot:
    """The node as one read of the agent: node, subsystems, controllers, namespaces, SMART per device."""

    def __init__(self, client: AgentClient):
        self.node = client.node()
        self.subsystems = client.subsystems()
        self.controllers = client.controllers()
        self.namespaces = client.namespaces()
        # a device's health is its first controller's SMART log
        self.smart = {
            s.nqn: smart_from_message(client.smart_log(s.controllers[0])) for s in self.subsystems if s.controllers
        }
        self.read_at = time.monotonic()


class CsdNvmeDriver(driver.StorageDriver):
    # the rest block addresses the agent's gRPC port
    access_protocols = ("rest",)

    def __init__(self, access_info: models.AccessInfo):
        super().__init__(access_info)
        self.client = AgentClient.from_access_info(access_info)
        self._snapshot: _Snapshot | None = None

    def close(self) -> None:
        self.client.close()

    def snapshot(self) -> _Snapshot:
        """The node's state, read again when the last read is older than SNAPSHOT_MAX_AGE."""
        if self._snapshot is None or time.monotonic() - self._snapshot.read_at > SNAPSHOT_MAX_AGE:
            self._snapshot = _Snapshot(self.client)
        return self._snapshot

    # ------------------------------------------------------------ inventory

    def get_storage(self) -> models.Storage:
        self._snapshot = None  # a sync starts here: read the node afresh
        snap = self.snapshot()
        total = sum(s.total_capacity for s in snap.subsystems)
        free = sum(s.unallocated_capacity for s in snap.subsystems)
        unhealthy = [nqn for nqn, smart in snap.smart.items() if nvme.health_problems(smart)]
        node = snap.node
        return models.Storage(
            name=node.name,
            vendor=VENDOR,
            model=MODEL,
            serial_number=node.id,
            status=models.StorageStatus.DEGRADED if unhealthy else models.StorageStatus.NORMAL,
            firmware_version=f"agent {node.agent_version}",
            location=self.client.target,
            description=f"CSD node {node.name}: {len(snap.subsystems)} NVM subsystem(s), "
            f"NVMe data from {node.nvme_source}",
            raw_capacity=total,
            total_capacity=total,
            used_capacity=total - free,
            free_capacity=free,
            subscribed_capacity=sum(ns.size_bytes for ns in snap.namespaces),
        )

    def list_storage_pools(self):
        for s in self.snapshot().subsystems:
            used = s.total_capacity - s.unallocated_capacity
            yield models.StoragePool(
                native_storage_pool_id=s.nqn,
                name=s.name,
                status=models.StoragePoolStatus.NORMAL,
                storage_type=models.StorageType.BLOCK,
                total_capacity=s.total_capacity,
                used_capacity=used,
                free_capacity=s.unallocated_capacity,
                subscribed_capacity=used,
                description=f"NVM capacity of {s.model} {s.serial_number}; free = not allocated to a namespace",
            )

    def list_volumes(self):
        for ns in self.snapshot().namespaces:
            yield models.Volume(
                native_volume_id=volume_id(ns.subsystem_nqn, ns.nsid),
                name=ns.name,
                native_storage_pool_id=ns.subsystem_nqn,
                status=models.VolumeStatus.AVAILABLE,
                type=models.VolumeType.THICK,
                total_capacity=ns.size_bytes,
                used_capacity=ns.used_bytes,
                free_capacity=max(0, ns.size_bytes - ns.used_bytes),
                description=f"{ns.device_path}, NSID {ns.nsid}, {ns.sector_size}-byte sectors",
            )

    def list_controllers(self):
        for c in self.snapshot().controllers:
            yield models.Controller(
                native_controller_id=controller_id(c.subsystem_nqn, c.cntlid),
                name=c.name,
                status=_CONTROLLER_STATES.get(c.state, models.ControllerStatus.UNKNOWN),
                location=f"{c.transport} {c.address}".strip() or None,
                soft_version=c.firmware or None,
            )

    def list_disks(self):
        snap = self.snapshot()
        for s in snap.subsystems:
            smart = snap.smart.get(s.nqn)
            if smart is None:
                status, score = models.DiskStatus.UNKNOWN, None
            else:
                bad = nvme.health_problems(smart)
                status = models.DiskStatus.ABNORMAL if bad else models.DiskStatus.NORMAL
                score = max(0, 100 - smart.percentage_used)
            first = next((c for c in snap.controllers if s.controllers and c.name == s.controllers[0]), None)
            yield models.Disk(
                native_disk_id=s.serial_number or s.nqn,
                name=s.controllers[0] if s.controllers else s.name,
                status=status,
                physical_type=models.DiskPhysicalType.NVME,
                logical_type=models.DiskLogicalType.MEMBER,
                capacity=s.total_capacity,
                location=f"{first.transport} {first.address}".strip() if first else None,
                firmware=s.firmware or None,
                model=s.model or None,
                serial_number=s.serial_number or None,
                health_score=score,
                native_disk_group_id=s.nqn,
            )

    def list_alerts(self, since=None):
        """The SMART problems of every device now (see the module docstring)."""
        self._snapshot = None  # conditions are read afresh
        snap = self.snapshot()
        now = datetime.datetime.now(datetime.UTC)
        alerts = []
        for s in snap.subsystems:
            smart = snap.smart.get(s.nqn)
            if smart is None:
                continue
            disk_id = s.serial_number or s.nqn
            name = s.controllers[0] if s.controllers else s.name
            for code, severity, kind, text in smart_conditions(smart):
                alerts.append(models.Alert(
                    sequence_number=f"{disk_id}/{code}", alert_id=code, alert_name=text, severity=severity,
                    category=models.AlertCategory.FAULT, type=kind,
                    description=f"NVMe device {name} ({s.model or 'unknown model'} {disk_id}): {text}",
                    occur_time=now, resource_type=models.ResourceType.DISK, native_resource_id=disk_id,
                    location=f"node {snap.node.name}, {name}",
                    recovery_advice="Replace the device" if severity == models.AlertSeverity.CRITICAL else None,
                ))  # fmt: skip
        return alerts

    def get_capabilities(self) -> dict:
        """What :meth:`collect_perf_metrics` collects (:data:`PERF_METRICS`: per disk and for the
        whole node, from the SMART I/O counters), and the jobs the node runs."""
        caps = perf.capabilities(
            {rt: perf.ResourceCapability(metrics, MIN_INTERVAL) for rt, metrics in PERF_METRICS.items()}, _SPECS
        )
        # preprocessing jobs: commands run next to the data; no container images
        caps["jobs"] = {"command": True, "image": False}
        return caps

    # ------------------------------------------------------------ performance

    def collect_perf_metrics(self, resource_metrics, start, end):
        """Read the I/O counters now and turn them into samples (see the module docstring).

        :param resource_metrics: ``disk`` and/or ``storage`` -> metric names; undeclared names are ignored.
        :returns: totals always; rates once :attr:`counters` holds a previous reading of the resource
            (none on the first window or after a reset). Timestamps are the agent's read time.
        :raises NotSupported: another resource type. Errors of the agent as the inventory calls.
        """
        unknown = sorted(set(resource_metrics) - set(PERF_METRICS))
        if unknown:
            raise exceptions.NotSupported(f"the CSD agent has no I/O counters of {', '.join(unknown)}")
        readings = disk_readings(self.client.subsystems(), self.client.io_counters())
        samples = []
        for resource_type, wanted in resource_metrics.items():
            metrics = [m for m in wanted if m in PERF_METRICS[resource_type]]
            if resource_type == models.ResourceType.STORAGE:
                # the node's id and name are wanted only for its own samples: no ListNodes call otherwise
                node = self.client.node() if readings else None
                items = [node_reading(node.id, node.name, readings)] if node else []
            else:
                items = readings
            for reading in items:
                samples.extend(reading_samples(self.counters, resource_type, reading, metrics))
        return samples

    # ------------------------------------------------------------ jobs

    def submit_job(self, spec: models.JobSpec) -> models.Job:
        return job_from_message(self.client.submit_job(job_spec_message(spec)))

    def get_job(self, job_id: str) -> models.Job:
        return job_from_message(self.client.get_job(job_id))

    def cancel_job(self, job_id: str) -> models.Job:
        """Stop the job; a job that had already finished is returned as it is."""
        try:
            return job_from_message(self.client.cancel_job(job_id))
        except exceptions.InvalidJob:
            # FAILED_PRECONDITION: it finished first; its record says how
            return self.get_job(job_id)

    def disk_health(self) -> dict[str, list[str]]:
        """Device serial number -> what needs attention (empty list when healthy)."""
        snap = self.snapshot()
        return {
            s.serial_number or s.nqn: nvme.health_problems(snap.smart[s.nqn])
            for s in snap.subsystems
            if s.nqn in snap.smart
        }
