"""Normalised resource models returned by storage drivers.

Capacities are integers in bytes. Statuses use the string constants below so
that every driver maps its vendor's vocabulary onto one set of values. The
models are frozen, slotted dataclasses: cheap to build by the hundred thousand
and safe to hand between threads.
"""

import dataclasses
import datetime
from typing import Any


class StorageStatus:
    NORMAL = "normal"
    OFFLINE = "offline"
    ABNORMAL = "abnormal"
    DEGRADED = "degraded"
    UNKNOWN = "unknown"
    ALL = (NORMAL, OFFLINE, ABNORMAL, DEGRADED, UNKNOWN)


class StoragePoolStatus:
    NORMAL = "normal"
    OFFLINE = "offline"
    ABNORMAL = "abnormal"
    DEGRADED = "degraded"
    UNKNOWN = "unknown"
    ALL = (NORMAL, OFFLINE, ABNORMAL, DEGRADED, UNKNOWN)


class VolumeStatus:
    AVAILABLE = "available"
    ERROR = "error"
    UNKNOWN = "unknown"
    ALL = (AVAILABLE, ERROR, UNKNOWN)


class StorageType:
    BLOCK = "block"
    FILE = "file"
    UNIFIED = "unified"
    ALL = (BLOCK, FILE, UNIFIED)


class VolumeType:
    THICK = "thick"
    THIN = "thin"
    ALL = (THICK, THIN)


class ControllerStatus:
    NORMAL = "normal"
    OFFLINE = "offline"
    FAULT = "fault"
    DEGRADED = "degraded"
    UNKNOWN = "unknown"
    ALL = (NORMAL, OFFLINE, FAULT, DEGRADED, UNKNOWN)


class PortConnectionStatus:
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    UNKNOWN = "unknown"
    ALL = (CONNECTED, DISCONNECTED, UNKNOWN)


class PortHealthStatus:
    NORMAL = "normal"
    ABNORMAL = "abnormal"
    UNKNOWN = "unknown"
    ALL = (NORMAL, ABNORMAL, UNKNOWN)


class PortType:
    FC = "fc"
    ISCSI = "iscsi"
    FICON = "ficon"
    FCOE = "fcoe"
    ETH = "eth"
    SAS = "sas"
    IB = "ib"
    OTHER = "other"
    ALL = (FC, ISCSI, FICON, FCOE, ETH, SAS, IB, OTHER)


class PortLogicalType:
    FRONTEND = "frontend"
    BACKEND = "backend"
    SERVICE = "service"
    MANAGEMENT = "management"
    INTERNAL = "internal"
    OTHER = "other"
    ALL = (FRONTEND, BACKEND, SERVICE, MANAGEMENT, INTERNAL, OTHER)


class DiskStatus:
    NORMAL = "normal"
    ABNORMAL = "abnormal"
    OFFLINE = "offline"
    UNKNOWN = "unknown"
    ALL = (NORMAL, ABNORMAL, OFFLINE, UNKNOWN)


class DiskPhysicalType:
    SATA = "sata"
    SAS = "sas"
    SSD = "ssd"
    NL_SAS = "nl-sas"
    NVME = "nvme"
    UNKNOWN = "unknown"
    ALL = (SATA, SAS, SSD, NL_SAS, NVME, UNKNOWN)


class DiskLogicalType:
    FREE = "free"
    MEMBER = "member"
    HOTSPARE = "hotspare"
    CACHE = "cache"
    UNKNOWN = "unknown"
    ALL = (FREE, MEMBER, HOTSPARE, CACHE, UNKNOWN)


def _fast_frozen_init(cls):
    """Give a frozen, slotted dataclass an ``__init__`` that fills its slots through their descriptors.

    The ``__init__`` that ``dataclasses`` writes for a frozen class calls ``object.__setattr__`` once
    per field (to get past the class's own refusing ``__setattr__``), which makes a frozen instance
    about five times as dear to build as a plain one; a driver builds one per volume, a million on a
    large array. Each slot's member descriptor sets the value just as well, at about half the cost.
    The signature (order, defaults, default factories) is the one ``dataclasses`` gives; instances
    stay frozen, equal and hashable as before.
    """
    namespace: dict = {"_MISSING": dataclasses.MISSING}
    params, body = [], []
    for f in dataclasses.fields(cls):
        if not f.init:  # no model has one; refuse rather than mis-build
            raise TypeError(f"{cls.__name__}.{f.name}: init=False fields are not supported")
        if f.default is not dataclasses.MISSING:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_MISSING")
            body.append(f"    if {f.name} is _MISSING:\n        {f.name} = _factory_{f.name}()")
        else:
            params.append(f.name)
        namespace[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        body.append(f"    _set_{f.name}(self, {f.name})")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    exec(f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body or ["    pass"]), namespace)  # noqa: S102
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init
    return cls


def _model(cls):
    return _fast_frozen_init(dataclasses.dataclass(frozen=True, slots=True)(cls))


@_model
class AccessEndpoint:
    """How to reach one protocol endpoint of a back end (secrets in clear).

    Only drivers ever see the password in clear; the service keeps it
    encrypted everywhere else.
    """

    host: str
    port: int
    username: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)


@_model
class AccessInfo:
    """Everything a driver is constructed from."""

    vendor: str
    model: str
    storage_id: str | None = None
    rest: AccessEndpoint | None = None
    ssh: AccessEndpoint | None = None
    snmp: AccessEndpoint | None = None
    extra_attributes: dict[str, Any] = dataclasses.field(default_factory=dict)
    timeout: float = 60.0
    # TLS of REST back ends: verify the certificate, against ca_path (file or directory) when set
    verify: bool = True
    ca_path: str | None = None


@_model
class Storage:
    name: str
    vendor: str
    model: str
    serial_number: str
    status: str = StorageStatus.NORMAL
    firmware_version: str | None = None
    location: str | None = None
    description: str | None = None
    raw_capacity: int = 0
    total_capacity: int = 0
    used_capacity: int = 0
    free_capacity: int = 0
    subscribed_capacity: int = 0


@_model
class StoragePool:
    NATIVE_ID = "native_storage_pool_id"

    native_storage_pool_id: str
    name: str
    status: str = StoragePoolStatus.NORMAL
    storage_type: str = StorageType.BLOCK
    total_capacity: int = 0
    used_capacity: int = 0
    free_capacity: int = 0
    subscribed_capacity: int = 0
    description: str | None = None


@_model
class Volume:
    NATIVE_ID = "native_volume_id"

    native_volume_id: str
    name: str
    native_storage_pool_id: str | None = None
    status: str = VolumeStatus.AVAILABLE
    type: str = VolumeType.THICK
    wwn: str | None = None
    total_capacity: int = 0
    used_capacity: int = 0
    free_capacity: int = 0
    compressed: bool | None = None
    deduplicated: bool | None = None
    description: str | None = None


@_model
class Controller:
    NATIVE_ID = "native_controller_id"

    native_controller_id: str
    name: str
    status: str = ControllerStatus.NORMAL
    location: str | None = None
    soft_version: str | None = None
    cpu_info: str | None = None
    cpu_count: int | None = None
    memory_size: int | None = None  # bytes
    mgmt_ip: str | None = None


@_model
class Port:
    NATIVE_ID = "native_port_id"

    native_port_id: str
    name: str
    type: str = PortType.OTHER
    logical_type: str | None = None
    connection_status: str = PortConnectionStatus.UNKNOWN
    health_status: str = PortHealthStatus.UNKNOWN
    location: str | None = None
    speed: int | None = None  # bits per second
    max_speed: int | None = None
    native_parent_id: str | None = None  # the controller or node that owns the port
    wwn: str | None = None
    mac_address: str | None = None
    ipv4: str | None = None
    ipv4_mask: str | None = None
    ipv6: str | None = None
    ipv6_mask: str | None = None


@_model
class Disk:
    NATIVE_ID = "native_disk_id"

    native_disk_id: str
    name: str
    status: str = DiskStatus.NORMAL
    physical_type: str = DiskPhysicalType.UNKNOWN
    logical_type: str = DiskLogicalType.UNKNOWN
    capacity: int = 0  # bytes
    location: str | None = None
    firmware: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    serial_number: str | None = None
    speed: int | None = None  # rpm; None for solid state
    health_score: int | None = None
    native_disk_group_id: str | None = None


# resource type name (as used in tables, task results and the API) -> model
RESOURCE_MODELS = {
    "storage_pools": StoragePool,
    "volumes": Volume,
    "controllers": Controller,
    "ports": Port,
    "disks": Disk,
}


def field_names(model_cls) -> tuple[str, ...]:
    """The data fields of a model class, in declaration order."""
    return tuple(f.name for f in dataclasses.fields(model_cls))


class ResourceType:
    """Kinds of resource performance metrics are collected for (singular, as in Delfin's capabilities)."""

    STORAGE = "storage"
    STORAGE_POOL = "storage_pool"
    VOLUME = "volume"
    CONTROLLER = "controller"
    PORT = "port"
    DISK = "disk"
    ALL = (STORAGE, STORAGE_POOL, VOLUME, CONTROLLER, PORT, DISK)


@_model
class MetricSample:
    """One value of one metric of one resource at one instant.

    ``resource_id`` is the native id the driver knows the resource by (for the
    storage itself, its serial number); ``timestamp`` is when the value was
    measured, in seconds since the epoch (UTC), i.e. the end of the ``interval``
    seconds a rate or an average covers (None for a raw counter total).
    Units are those the driver declared for the metric (see :mod:`delfin_like.sdk.perf`).
    """

    resource_type: str
    resource_id: str
    metric: str
    value: float
    timestamp: float
    resource_name: str | None = None
    interval: float | None = None


class JobStatus:
    """States of a preprocessing job run by a back end (computational storage)."""

    UNKNOWN = "UNKNOWN"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    ACTIVE = (PENDING, RUNNING)
    FINISHED = (COMPLETED, FAILED, CANCELLED)
    ALL = (UNKNOWN, PENDING, RUNNING, COMPLETED, FAILED, CANCELLED)


@_model
class JobSpec:
    """What a job runs: ``command`` (argv, no shell) over ``data_path``, results under ``output_path``.

    Paths are absolute on the back end's node; ``cpu`` is in cores and ``memory`` in
    bytes (0: no limit); ``csd_device_path`` names the namespace to run next to.
    """

    job_id: str
    command: tuple[str, ...]
    data_path: str
    output_path: str
    name: str = ""
    namespace: str = "default"
    image: str = ""
    target_node: str = ""
    cpu: float = 0.0
    memory: int = 0
    csd_enabled: bool = False
    csd_device_path: str = ""
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    timeout_seconds: int = 0


@_model
class Job:
    """A job as the back end reports it; times are seconds since the epoch (UTC) or None."""

    job_id: str
    status: str
    node: str | None = None
    message: str = ""
    error: str = ""
    exit_code: int | None = None
    submitted_at: float | None = None
    started_at: float | None = None
    completed_at: float | None = None


class AlertSeverity:
    FATAL = "fatal"
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"
    INFORMATIONAL = "informational"
    NOT_SPECIFIED = "not_specified"
    ALL = (FATAL, CRITICAL, MAJOR, MINOR, WARNING, INFORMATIONAL, NOT_SPECIFIED)


class AlertCategory:
    FAULT = "fault"
    EVENT = "event"
    RECOVERY = "recovery"
    NOT_SPECIFIED = "not_specified"
    ALL = (FAULT, EVENT, RECOVERY, NOT_SPECIFIED)


class AlertType:
    EQUIPMENT = "equipment"
    COMMUNICATIONS = "communications"
    PROCESSING_ERROR = "processing_error"
    QUALITY_OF_SERVICE = "quality_of_service"
    ENVIRONMENTAL = "environmental"
    SECURITY = "security"
    NOT_SPECIFIED = "not_specified"
    ALL = (EQUIPMENT, COMMUNICATIONS, PROCESSING_ERROR, QUALITY_OF_SERVICE, ENVIRONMENTAL, SECURITY, NOT_SPECIFIED)


# resource an alert is about (a subset of ResourceType)
ALERT_RESOURCE_TYPES = ResourceType.ALL


@_model
class Alert:
    """One event or fault as the array (or a trap) reports it.

    ``sequence_number`` is the array's own id of the event (unique per storage);
    ``alert_id`` is the vendor's event code or message name. ``occur_time`` is a
    timezone-aware UTC datetime (None when the array does not say). ``cleared`` is
    True when the array says the condition is fixed or cleared.
    """

    NATIVE_ID = "sequence_number"

    sequence_number: str
    alert_id: str
    alert_name: str
    severity: str
    category: str
    type: str
    description: str = ""
    occur_time: datetime.datetime | None = None
    resource_type: str = ResourceType.STORAGE
    native_resource_id: str | None = None
    location: str | None = None
    recovery_advice: str | None = None
    cleared: bool = False


@_model
class TrapInfo:
    """An SNMP notification as received, handed to a driver's ``parse_alert``.

    ``varbinds`` are (dotted OID, value as text) in PDU order; ``trap_oid`` is the
    snmpTrapOID value (for v1, enterprise.0.specific, or the standard snmpTraps OID
    of a generic trap). ``community_or_user`` is a secret: never logged, not in repr.
    """

    source_address: str
    version: str  # "v1" | "v2c" | "v3"
    varbinds: tuple[tuple[str, str], ...]
    trap_oid: str
    engine_id: str | None = None  # hex, v3
    community_or_user: str | None = dataclasses.field(default=None, repr=False)
    received_at: datetime.datetime = dataclasses.field(
        default_factory=lambda: datetime.datetime.now(datetime.UTC)
    )

    def value(self, oid: str) -> str | None:
        """The value of the first varbind whose OID is ``oid`` (or starts with ``oid.``), else None."""
        for name, val in self.varbinds:
            if name == oid or name.startswith(oid + "."):
                return val
        return None
