"""SQLAlchemy table definitions. Only ``delfin_like.db.sqlalchemy`` imports this.

Every resource table carries ``fingerprint``, a hash of the normalised fields
the driver returned, so a re-sync compares hashes instead of columns and
writes only what changed. ``(storage_id, native_<x>_id)`` is unique, and rows
go when their storage goes (foreign key, ON DELETE CASCADE).
"""

import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Capacities exceed 2**31; BigInteger everywhere bytes are counted.
Bytes = BigInteger

# MySQL/MariaDB DATETIME drops fractions unless asked; ordering needs them.
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

ID = String(36)
NAME = String(255)
FINGERPRINT = String(32)


# a sort key's tie-breakers before the unique key: ``name`` pages by (name, created_at, id), so one
# index on those serves both ``sort=name`` and ``name=<x>`` in the default created_at order (revision 0011)
SORT_TIES: dict[str, tuple[str, ...]] = {"name": ("created_at",)}


def list_index_columns(sort: str, key: str = "id") -> tuple[str, ...]:
    """The columns of the list index that delivers ``sort``'s order: the key, its tie-breakers, ``key``."""
    return (sort, *SORT_TIES.get(sort, ()), key)


def list_indexes(table: str, sorts=("created_at", "name"), by_storage: bool = True, key: str = "id") -> tuple:
    """The indexes that serve a list route's keyset pages (revisions 0010, 0011).

    One per documented sort key, ending in the unique tie-breaker ``key`` so
    ``ORDER BY sort, key`` and the marker's ``WHERE sort >= v AND (...)`` are an
    index range scan; with ``by_storage``, the same again led by ``storage_id``
    for the ``storage_id=`` filter. Descending orders scan them backwards.
    """
    out = []
    for sort in sorts:
        columns = list_index_columns(sort, key)
        out.append(Index(f"ix_{table}_{'_'.join(columns)}", *columns))
        if by_storage:
            out.append(Index(f"ix_{table}_storage_id_{'_'.join(columns)}", "storage_id", *columns))
    return tuple(out)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[datetime.datetime] = mapped_column(Timestamp, nullable=False)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(Timestamp, nullable=True)


class Storage(Base, TimestampMixin):
    __tablename__ = "storages"
    __table_args__ = list_indexes("storages", by_storage=False)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, nullable=False)
    vendor: Mapped[str] = mapped_column(NAME, nullable=False)
    model: Mapped[str] = mapped_column(NAME, nullable=False)
    serial_number: Mapped[str] = mapped_column(NAME, nullable=False, unique=True)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    firmware_version: Mapped[str | None] = mapped_column(NAME)
    location: Mapped[str | None] = mapped_column(NAME)
    description: Mapped[str | None] = mapped_column(String(1024))
    raw_capacity: Mapped[int] = mapped_column(Bytes, nullable=False, default=0)
    total_capacity: Mapped[int] = mapped_column(Bytes, nullable=False, default=0)
    used_capacity: Mapped[int] = mapped_column(Bytes, nullable=False, default=0)
    free_capacity: Mapped[int] = mapped_column(Bytes, nullable=False, default=0)
    subscribed_capacity: Mapped[int] = mapped_column(Bytes, nullable=False, default=0)
    fingerprint: Mapped[str] = mapped_column(FINGERPRINT, nullable=False)
    # set when a DELETE was accepted; the remove task deletes the row
    deleting: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    synced_at: Mapped[datetime.datetime | None] = mapped_column(Timestamp, nullable=True)
    # the newest sync task; its status is the storage's sync_status
    last_sync_task_id: Mapped[str | None] = mapped_column(ID)
    # what the driver said it can collect (JSON), refreshed by every sync
    capabilities: Mapped[str | None] = mapped_column(Text)


class AccessInfo(Base, TimestampMixin):
    """How to reach a storage. Secrets inside the JSON blocks are Fernet tokens."""

    __tablename__ = "access_infos"
    __table_args__ = list_indexes("access_infos", sorts=("created_at",), by_storage=False, key="storage_id")

    storage_id: Mapped[str] = mapped_column(
        ID, ForeignKey("storages.id", ondelete="CASCADE"), primary_key=True
    )
    vendor: Mapped[str] = mapped_column(NAME, nullable=False)
    model: Mapped[str] = mapped_column(NAME, nullable=False)
    rest: Mapped[str | None] = mapped_column(Text)
    ssh: Mapped[str | None] = mapped_column(Text)
    snmp: Mapped[str | None] = mapped_column(Text)
    extra_attributes: Mapped[str | None] = mapped_column(Text)


class StorageEndpoint(Base):
    """One (host, port) a registered storage answers on; unique across storages."""

    __tablename__ = "storage_endpoints"
    __table_args__ = (UniqueConstraint("host", "port"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    storage_id: Mapped[str] = mapped_column(
        ID, ForeignKey("storages.id", ondelete="CASCADE"), nullable=False, index=True
    )
    protocol: Mapped[str] = mapped_column(String(16), nullable=False)
    host: Mapped[str] = mapped_column(NAME, nullable=False)
    port: Mapped[int] = mapped_column(Integer, nullable=False)


# Resource tables have no separate index on storage_id: the unique index on
# (storage_id, native_*_id) leads with it and serves every by-storage query;
# a second index would cost a B-tree insert per row for nothing.


class StoragePool(Base, TimestampMixin):
    __tablename__ = "storage_pools"
    __table_args__ = (UniqueConstraint("storage_id", "native_storage_pool_id"), *list_indexes("storage_pools"))

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    storage_id: Mapped[str] = mapped_column(ID, ForeignKey("storages.id", ondelete="CASCADE"), nullable=False)
    native_storage_pool_id: Mapped[str] = mapped_column(NAME, nullable=False)
    name: Mapped[str] = mapped_column(NAME, nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    storage_type: Mapped[str] = mapped_column(String(32), nullable=False)
    total_capacity: Mapped[int] = mapped_column(Bytes, nullable=False, default=0)
    used_capacity: Mapped[int] = mapped_column(Bytes, nullable=False, default=0)
    free_capacity: Mapped[int] = mapped_column(Bytes, nullable=False, default=0)
    subscribed_capacity: Mapped[int] = mapped_column(Bytes, nullable=False, default=0)
    description: Mapped[str | None] = mapped_column(String(1024))
    fingerprint: Mapped[str] = mapped_column(FINGERPRINT, nullable=False)


class Volume(Base, TimestampMixin):
    __tablename__ = "volumes"
    __table_args__ = (UniqueConstraint("storage_id", "native_volume_id"), *list_indexes("volumes"))

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    storage_id: Mapped[str] = mapped_column(ID, ForeignKey("storages.id", ondelete="CASCADE"), nullable=False)
    native_volume_id: Mapped[str] = mapped_column(NAME, nullable=False)
    native_storage_pool_id: Mapped[str | None] = mapped_column(NAME)
    name: Mapped[str] = mapped_column(NAME, nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    wwn: Mapped[str | None] = mapped_column(NAME)
    total_capacity: Mapped[int] = mapped_column(Bytes, nullable=False, default=0)
    used_capacity: Mapped[int] = mapped_column(Bytes, nullable=False, default=0)
    free_capacity: Mapped[int] = mapped_column(Bytes, nullable=False, default=0)
    compressed: Mapped[bool | None] = mapped_column(Boolean)
    deduplicated: Mapped[bool | None] = mapped_column(Boolean)
    description: Mapped[str | None] = mapped_column(String(1024))
    fingerprint: Mapped[str] = mapped_column(FINGERPRINT, nullable=False)


class Controller(Base, TimestampMixin):
    __tablename__ = "controllers"
    __table_args__ = (UniqueConstraint("storage_id", "native_controller_id"), *list_indexes("controllers"))

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    storage_id: Mapped[str] = mapped_column(ID, ForeignKey("storages.id", ondelete="CASCADE"), nullable=False)
    native_controller_id: Mapped[str] = mapped_column(NAME, nullable=False)
    name: Mapped[str] = mapped_column(NAME, nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    location: Mapped[str | None] = mapped_column(NAME)
    soft_version: Mapped[str | None] = mapped_column(NAME)
    cpu_info: Mapped[str | None] = mapped_column(NAME)
    cpu_count: Mapped[int | None] = mapped_column(Integer)
    memory_size: Mapped[int | None] = mapped_column(Bytes)
    mgmt_ip: Mapped[str | None] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(FINGERPRINT, nullable=False)


class Port(Base, TimestampMixin):
    __tablename__ = "ports"
    __table_args__ = (UniqueConstraint("storage_id", "native_port_id"), *list_indexes("ports"))

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    storage_id: Mapped[str] = mapped_column(ID, ForeignKey("storages.id", ondelete="CASCADE"), nullable=False)
    native_port_id: Mapped[str] = mapped_column(NAME, nullable=False)
    name: Mapped[str] = mapped_column(NAME, nullable=False)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    logical_type: Mapped[str | None] = mapped_column(String(16))
    connection_status: Mapped[str] = mapped_column(String(32), nullable=False)
    health_status: Mapped[str] = mapped_column(String(32), nullable=False)
    location: Mapped[str | None] = mapped_column(NAME)
    speed: Mapped[int | None] = mapped_column(Bytes)
    max_speed: Mapped[int | None] = mapped_column(Bytes)
    native_parent_id: Mapped[str | None] = mapped_column(NAME)
    wwn: Mapped[str | None] = mapped_column(NAME)
    mac_address: Mapped[str | None] = mapped_column(String(64))
    ipv4: Mapped[str | None] = mapped_column(String(64))
    ipv4_mask: Mapped[str | None] = mapped_column(String(64))
    ipv6: Mapped[str | None] = mapped_column(String(64))
    ipv6_mask: Mapped[str | None] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(FINGERPRINT, nullable=False)


class Disk(Base, TimestampMixin):
    __tablename__ = "disks"
    __table_args__ = (UniqueConstraint("storage_id", "native_disk_id"), *list_indexes("disks"))

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    storage_id: Mapped[str] = mapped_column(ID, ForeignKey("storages.id", ondelete="CASCADE"), nullable=False)
    native_disk_id: Mapped[str] = mapped_column(NAME, nullable=False)
    name: Mapped[str] = mapped_column(NAME, nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    physical_type: Mapped[str] = mapped_column(String(16), nullable=False)
    logical_type: Mapped[str] = mapped_column(String(16), nullable=False)
    capacity: Mapped[int] = mapped_column(Bytes, nullable=False, default=0)
    location: Mapped[str | None] = mapped_column(NAME)
    firmware: Mapped[str | None] = mapped_column(NAME)
    manufacturer: Mapped[str | None] = mapped_column(NAME)
    model: Mapped[str | None] = mapped_column(NAME)
    serial_number: Mapped[str | None] = mapped_column(NAME)
    speed: Mapped[int | None] = mapped_column(Integer)
    health_score: Mapped[int | None] = mapped_column(Integer)
    native_disk_group_id: Mapped[str | None] = mapped_column(NAME)
    fingerprint: Mapped[str] = mapped_column(FINGERPRINT, nullable=False)


class Task(Base, TimestampMixin):
    """One unit of work. The table is the source of truth; the bus only wakes workers.

    ``storage_id`` is deliberately not a foreign key: a remove task outlives its storage.
    """

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_status_priority", "status", "priority"),
        # GET /v1/tasks?status=<x> in the default created_at order (revision 0011)
        Index("ix_tasks_status_created_at_id", "status", "created_at", "id"),
        Index("ix_tasks_storage_id_type", "storage_id", "type"),
        # retention: finished tasks by age, and the newest of each (storage, type)
        Index("ix_tasks_status_finished_at", "status", "finished_at"),
        Index("ix_tasks_storage_id_type_finished_at", "storage_id", "type", "finished_at"),
        *list_indexes("tasks", sorts=("created_at",)),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    storage_id: Mapped[str | None] = mapped_column(ID)
    priority: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    lease_owner: Mapped[str | None] = mapped_column(NAME)
    lease_expires_at: Mapped[datetime.datetime | None] = mapped_column(Timestamp)
    started_at: Mapped[datetime.datetime | None] = mapped_column(Timestamp)
    # when the attempt took the storage lock (started_at is the claim, before the lock wait)
    lock_acquired_at: Mapped[datetime.datetime | None] = mapped_column(Timestamp)
    finished_at: Mapped[datetime.datetime | None] = mapped_column(Timestamp)
    result: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    # JSON: how far the current attempt got (a sync: resource types listed, rows to change so far)
    progress: Mapped[str | None] = mapped_column(Text)
    # retry back-off: the scheduler casts a handed-back task again no earlier than this
    not_before: Mapped[datetime.datetime | None] = mapped_column(Timestamp)


class Schedule(Base, TimestampMixin):
    """When the scheduler next creates a task for a storage.

    ``kind`` says which task (``periodic_sync``, ``oneshot_sync``; perf collection
    adds its own kinds) and ``resource_type`` what it covers (``storage`` for a
    whole-storage sync), so one storage has at most one schedule of each pair.
    A periodic schedule has an ``interval_seconds``; a one-shot has none and its
    ``next_run_at`` goes NULL once it fired. The scheduler fires a due row with a
    compare-and-set on ``next_run_at``, so each due time fires exactly once.
    """

    __tablename__ = "schedules"
    __table_args__ = (
        UniqueConstraint("storage_id", "kind", "resource_type"),
        Index("ix_schedules_enabled_next_run_at", "enabled", "next_run_at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    storage_id: Mapped[str] = mapped_column(ID, ForeignKey("storages.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    resource_type: Mapped[str] = mapped_column(String(64), nullable=False)
    interval_seconds: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    next_run_at: Mapped[datetime.datetime | None] = mapped_column(Timestamp)
    last_fired_at: Mapped[datetime.datetime | None] = mapped_column(Timestamp)
    last_task_id: Mapped[str | None] = mapped_column(ID)


class TaskManagerRecord(Base):
    """One task manager process: written at start, at every report and at stop."""

    __tablename__ = "task_managers"
    __table_args__ = list_indexes("task_managers", sorts=("started_at",), by_storage=False)

    # the process's lease owner id (<host>:<pid>:<random>), as in tasks.lease_owner
    id: Mapped[str] = mapped_column(NAME, primary_key=True)
    host: Mapped[str] = mapped_column(NAME, nullable=False)
    pid: Mapped[int] = mapped_column(Integer, nullable=False)
    # comma-separated lanes it consumes
    lanes: Mapped[str] = mapped_column(NAME, nullable=False)
    started_at: Mapped[datetime.datetime] = mapped_column(Timestamp, nullable=False)
    last_heartbeat: Mapped[datetime.datetime] = mapped_column(Timestamp, nullable=False)
    tasks_running: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    tasks_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    tasks_failed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    stopped_at: Mapped[datetime.datetime | None] = mapped_column(Timestamp)


class DeploymentIdentity(Base):
    """The one row naming the deployment this database belongs to; written by its first process."""

    __tablename__ = "deployment_identity"

    # always 1: a second row cannot exist
    singleton: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    database_id: Mapped[str] = mapped_column(ID, nullable=False)
    name: Mapped[str] = mapped_column(NAME, nullable=False)
    created_at: Mapped[datetime.datetime] = mapped_column(Timestamp, nullable=False)


class Alert(Base, TimestampMixin):
    """One alert of a storage: a repeat of the same (origin, sequence number) bumps ``repeat_count``
    and ``last_seen`` on this row, never a new row. ``origin`` is whose numbering the sequence
    number is in: ``array`` (one array event, whether a trap or an alert sync brought it: both
    paths share the row) or ``platform`` (revision 0014). ``resource_row_id`` is the inventory
    row's id when the resource it concerns was known when the alert was recorded (revision 0012)."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("storage_id", "origin", "sequence_number"),
        # retention: cleared alerts by age (only cleared ones have cleared_at)
        Index("ix_alerts_cleared_at", "cleared_at"),
        *list_indexes("alerts", sorts=("created_at", "last_seen")),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    storage_id: Mapped[str] = mapped_column(ID, ForeignKey("storages.id", ondelete="CASCADE"), nullable=False)
    sequence_number: Mapped[str] = mapped_column(NAME, nullable=False)
    alert_id: Mapped[str] = mapped_column(NAME, nullable=False)
    alert_name: Mapped[str] = mapped_column(NAME, nullable=False)
    severity: Mapped[str] = mapped_column(String(32), nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    resource_type: Mapped[str] = mapped_column(String(32), nullable=False)
    native_resource_id: Mapped[str | None] = mapped_column(NAME)
    resource_row_id: Mapped[str | None] = mapped_column(ID)
    location: Mapped[str | None] = mapped_column(NAME)
    recovery_advice: Mapped[str | None] = mapped_column(Text)
    # trap | sync | platform: the path that saw the alert first
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    # array (source trap or sync) | platform
    origin: Mapped[str] = mapped_column(String(16), nullable=False)
    # open | cleared
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    cleared_at: Mapped[datetime.datetime | None] = mapped_column(Timestamp)
    cleared_by: Mapped[str | None] = mapped_column(NAME)
    first_seen: Mapped[datetime.datetime] = mapped_column(Timestamp, nullable=False)
    last_seen: Mapped[datetime.datetime] = mapped_column(Timestamp, nullable=False)
    occur_time: Mapped[datetime.datetime | None] = mapped_column(Timestamp)
    repeat_count: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    fingerprint: Mapped[str] = mapped_column(FINGERPRINT, nullable=False)


class AlertSource(Base, TimestampMixin):
    """A storage's snmp-config (Delfin's alert source): how its traps are authenticated.
    ``community_string``, ``auth_key`` and ``privacy_key`` are Fernet tokens (revision 0012)."""

    __tablename__ = "alert_sources"

    storage_id: Mapped[str] = mapped_column(
        ID, ForeignKey("storages.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[str] = mapped_column(String(16), nullable=False)
    community_string: Mapped[str | None] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(NAME)
    security_level: Mapped[str | None] = mapped_column(String(16))
    auth_protocol: Mapped[str | None] = mapped_column(String(16))
    auth_key: Mapped[str | None] = mapped_column(Text)
    privacy_protocol: Mapped[str | None] = mapped_column(String(16))
    privacy_key: Mapped[str | None] = mapped_column(Text)
    engine_id: Mapped[str | None] = mapped_column(String(64))
    context_name: Mapped[str | None] = mapped_column(String(32))
    host: Mapped[str] = mapped_column(NAME, nullable=False)
    port: Mapped[int] = mapped_column(Integer, nullable=False)
    retry_num: Mapped[int] = mapped_column(Integer, nullable=False)
    expiration: Mapped[int] = mapped_column(Integer, nullable=False)
