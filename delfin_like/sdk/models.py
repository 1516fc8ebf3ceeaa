"""Normalised resource models returned by storage drivers.

Capacities are integers in bytes. Statuses use the string constants below so
that every driver maps its vendor's vocabulary onto one set of values. The
models are frozen, slotted dataclasses: cheap to build by the hundred thousand
and safe to hand between threads.
"""

import dataclasses
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


_model = dataclasses.dataclass(frozen=True, slots=True)


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


# resource type name (as used in tables, task results and the API) -> model
RESOURCE_MODELS = {
    "storage_pools": StoragePool,
    "volumes": Volume,
}


def field_names(model_cls) -> tuple[str, ...]:
    """The data fields of a model class, in declaration order."""
    return tuple(f.name for f in dataclasses.fields(model_cls))
