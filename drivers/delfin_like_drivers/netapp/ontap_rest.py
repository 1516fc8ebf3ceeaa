"""NetApp ONTAP through its REST API: stevedore name ``netapp ontap_rest``.

The registration's ``rest`` block gives ``host``, ``port``, ``username`` and ``password``; its
other keys are options: ``verify`` (bool, default the service's ``[storage_driver] verify``),
``ca_cert`` (PEM text of the CA(s) to trust for this array, default ``[storage_driver] ca_path``
or the system's CAs), ``scheme`` (``https``, or ``http`` for a lab array) and ``page_size``
(``max_records`` per page, 1-10000, default 1000).

What maps onto what (capacities in bytes):

============================== ==============================================================
ONTAP                          delfin_like
============================== ==============================================================
``/api/cluster``               Storage: name, serial number = cluster UUID, firmware = version,
                               status from the nodes' states, capacities summed over the
                               aggregates (``space.block_storage.*``) and disks (raw)
``/api/storage/aggregates``    StoragePool (unified: aggregates hold NAS and SAN volumes)
``/api/storage/volumes``       Volume (thin when ``guarantee.type`` is ``none``)
``/api/cluster/nodes``         Controller
``/api/network/ethernet/ports`` and ``/api/network/fc/ports``  Port (FC ports are front end)
``/api/storage/disks``         Disk (keyed by ``uid``; its aggregate is its disk group)
``/api/support/ems/events``    Alert: sequence number = ``index``, code = ``message.name``,
                               severity from ``message.severity``, about the reporting node
                               (a controller); ``since`` is the query ``time=>=...``
============================== ==============================================================

EMS events are a log, not a list of open problems: ONTAP has no "fixed" state for them, so
alerts are never ``cleared`` and ``clear_alert`` is not supported.

Subscribed capacity is left at 0: ONTAP's REST API has no provisioned-size total per aggregate.

Performance: rates and totals from the ``statistics.*_raw`` counters of the cluster, nodes,
aggregates, volumes and ports, read with ``fields=name,statistics`` (see :mod:`.ontap_perf`).
"""

import datetime
import logging
import os
import ssl
import tempfile
from collections.abc import Iterator
from typing import Any

from delfin_like.sdk import driver, exceptions, models, perf
from delfin_like_drivers.netapp import ontap_perf
from delfin_like_drivers.netapp.rest_client import RestClient

LOG = logging.getLogger(__name__)
VENDOR = "NetApp"
DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 10000

_VOLUME_FIELDS = [
    "uuid",
    "name",
    "state",
    "aggregates.uuid",
    "space.size",
    "space.used",
    "space.available",
    "guarantee.type",
]
_AGGREGATE_FIELDS = [
    "uuid",
    "name",
    "state",
    "space.block_storage.size",
    "space.block_storage.used",
    "space.block_storage.available",
]
_NODE_FIELDS = [
    "uuid",
    "name",
    "state",
    "location",
    "model",
    "version",
    "controller.cpu.count",
    "controller.cpu.processor",
    "controller.memory_size",
    "management_interfaces.ip.address",
]
_ETH_FIELDS = ["uuid", "name", "node.uuid", "node.name", "mac_address", "speed", "state", "enabled"]
_FC_FIELDS = [
    "uuid",
    "name",
    "node.uuid",
    "node.name",
    "wwpn",
    "state",
    "enabled",
    "speed.maximum",
    "fabric.connected",
    "fabric.connected_speed",
]
_DISK_FIELDS = [
    "name",
    "uid",
    "serial_number",
    "model",
    "vendor",
    "firmware_version",
    "usable_size",
    "rpm",
    "type",
    "container_type",
    "state",
    "aggregates.uuid",
    "shelf.uid",
    "bay",
]

_POOL_STATUS = {
    "online": models.StoragePoolStatus.NORMAL,
    "offline": models.StoragePoolStatus.OFFLINE,
    "offlining": models.StoragePoolStatus.OFFLINE,
    "unmounted": models.StoragePoolStatus.OFFLINE,
    "onlining": models.StoragePoolStatus.DEGRADED,
    "relocating": models.StoragePoolStatus.DEGRADED,
    "restricted": models.StoragePoolStatus.DEGRADED,
    "inconsistent": models.StoragePoolStatus.ABNORMAL,
    "failed": models.StoragePoolStatus.ABNORMAL,
}
_VOLUME_STATUS = {
    "online": models.VolumeStatus.AVAILABLE,
    "offline": models.VolumeStatus.ERROR,
    "restricted": models.VolumeStatus.ERROR,
    "error": models.VolumeStatus.ERROR,
    "mixed": models.VolumeStatus.ERROR,
}
_NODE_STATUS = {
    "up": models.ControllerStatus.NORMAL,
    "down": models.ControllerStatus.OFFLINE,
    "taken_over": models.ControllerStatus.OFFLINE,
    "waiting_for_giveback": models.ControllerStatus.DEGRADED,
    "degraded": models.ControllerStatus.DEGRADED,
    "booting": models.ControllerStatus.UNKNOWN,
}
# port state -> (connection, health)
_C, _H = models.PortConnectionStatus, models.PortHealthStatus
_ETH_STATE = {
    "up": (_C.CONNECTED, _H.NORMAL),
    "down": (_C.DISCONNECTED, _H.NORMAL),
    "degraded": (_C.CONNECTED, _H.ABNORMAL),
}
_FC_STATE = {
    "online": (_C.CONNECTED, _H.NORMAL),
    "link_not_connected": (_C.DISCONNECTED, _H.NORMAL),
    "link_disconnected": (_C.DISCONNECTED, _H.NORMAL),
    "offlined_by_user": (_C.DISCONNECTED, _H.NORMAL),
    "offlined_by_system": (_C.DISCONNECTED, _H.ABNORMAL),
    "node_offline": (_C.DISCONNECTED, _H.ABNORMAL),
    "startup": (_C.UNKNOWN, _H.UNKNOWN),
}
_DISK_PHYSICAL = {
    "ssd": models.DiskPhysicalType.SSD,
    "ssd_cap": models.DiskPhysicalType.SSD,
    "ssd_zns": models.DiskPhysicalType.SSD,
    "ssd_nvm": models.DiskPhysicalType.NVME,
    "sas": models.DiskPhysicalType.SAS,
    "fsas": models.DiskPhysicalType.NL_SAS,
    "bsas": models.DiskPhysicalType.SATA,
    "ata": models.DiskPhysicalType.SATA,
    "msata": models.DiskPhysicalType.SATA,
}
_DISK_LOGICAL = {
    "aggregate": models.DiskLogicalType.MEMBER,
    "shared": models.DiskLogicalType.MEMBER,
    "spare": models.DiskLogicalType.HOTSPARE,
    "unassigned": models.DiskLogicalType.FREE,
}
_DISK_STATUS = {
    "present": models.DiskStatus.NORMAL,
    "spare": models.DiskStatus.NORMAL,
    "copy": models.DiskStatus.NORMAL,
    "reconstructing": models.DiskStatus.NORMAL,
    "zeroing": models.DiskStatus.NORMAL,
    "pending": models.DiskStatus.NORMAL,
    "partner": models.DiskStatus.NORMAL,
    "broken": models.DiskStatus.ABNORMAL,
    "removed": models.DiskStatus.OFFLINE,
    "maintenance": models.DiskStatus.OFFLINE,
}

_EMS_FIELDS = ["index", "time", "message.name", "message.severity", "log_message", "node.name", "node.uuid"]
# EMS severity -> (sdk severity, category)
_EMS_SEVERITY = {
    "emergency": (models.AlertSeverity.FATAL, models.AlertCategory.FAULT),
    "alert": (models.AlertSeverity.CRITICAL, models.AlertCategory.FAULT),
    "error": (models.AlertSeverity.MAJOR, models.AlertCategory.FAULT),
    "notice": (models.AlertSeverity.WARNING, models.AlertCategory.EVENT),
    "informational": (models.AlertSeverity.INFORMATIONAL, models.AlertCategory.EVENT),
    "debug": (models.AlertSeverity.INFORMATIONAL, models.AlertCategory.EVENT),
}
MIN_INTERVAL = 15  # seconds: ONTAP's own performance samples are 15 s apart


# -- reading fields -------------------------------------------------------------------------


def _field(record: dict, path: str, kind: type, what: str, required: bool = False) -> Any:
    """The value at dotted ``path`` of ``record`` if it has type ``kind`` (None when absent and not required).

    :raises BackendError: a required field is absent, or a field has the wrong type or is negative.
    """
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, list):
            value = value[0] if value else None  # e.g. aggregates.uuid: the first reference
    if value is None:
        if required:
            raise exceptions.BackendError(
                f"the array's {what} record has no {path}",
                detail=f"{what} {record.get('uuid') or record.get('name')!r}: no {path}",
            )
        return None
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if not ok or (kind is int and value < 0):
        raise exceptions.BackendError(
            f"the array's {what} record has a malformed {path}",
            detail=f"{what} {record.get('uuid') or record.get('name')!r}: {path}={str(value)[:80]!r}",
        )
    return value


def _version_text(record: dict, what: str) -> str | None:
    version = record.get("version")
    if not isinstance(version, dict):
        return None
    parts = [_field(version, key, int, what) for key in ("generation", "major", "minor")]
    if None in parts:
        return _field(version, "full", str, what)
    return ".".join(str(p) for p in parts)


# -- mapping records onto the sdk models -----------------------------------------------------


def storage_from(cluster: dict, node_states: list[str], totals: dict[str, int], model: str | None) -> models.Storage:
    """The Storage of ``GET /api/cluster`` plus the nodes' states and the capacity sums."""
    up = sum(1 for s in node_states if s == "up")
    if not node_states:
        status = models.StorageStatus.UNKNOWN
    elif up == len(node_states):
        status = models.StorageStatus.NORMAL
    elif up:
        status = models.StorageStatus.DEGRADED
    else:
        status = models.StorageStatus.OFFLINE
    return models.Storage(
        name=_field(cluster, "name", str, "cluster", required=True),
        vendor=VENDOR,
        model=model or "ONTAP",
        serial_number=_field(cluster, "uuid", str, "cluster", required=True),
        status=status,
        firmware_version=_version_text(cluster, "cluster"),
        location=_field(cluster, "location", str, "cluster") or None,
        raw_capacity=totals["raw"],
        total_capacity=totals["total"],
        used_capacity=totals["used"],
        free_capacity=totals["free"],
    )


def pool_from(record: dict) -> models.StoragePool:
    what = "aggregate"
    total = _field(record, "space.block_storage.size", int, what) or 0
    used = _field(record, "space.block_storage.used", int, what) or 0
    free = _field(record, "space.block_storage.available", int, what)
    return models.StoragePool(
        native_storage_pool_id=_field(record, "uuid", str, what, required=True),
        name=_field(record, "name", str, what, required=True),
        status=_POOL_STATUS.get(_field(record, "state", str, what), models.StoragePoolStatus.UNKNOWN),
        storage_type=models.StorageType.UNIFIED,
        total_capacity=total,
        used_capacity=used,
        free_capacity=max(0, total - used) if free is None else free,
    )


def volume_from(record: dict) -> models.Volume:
    what = "volume"
    size = _field(record, "space.size", int, what) or 0
    used = _field(record, "space.used", int, what) or 0
    free = _field(record, "space.available", int, what)
    thin = _field(record, "guarantee.type", str, what) == "none"
    return models.Volume(
        native_volume_id=_field(record, "uuid", str, what, required=True),
        name=_field(record, "name", str, what, required=True),
        native_storage_pool_id=_field(record, "aggregates.uuid", str, what),
        status=_VOLUME_STATUS.get(_field(record, "state", str, what), models.VolumeStatus.UNKNOWN),
        type=models.VolumeType.THIN if thin else models.VolumeType.THICK,
        total_capacity=size,
        used_capacity=used,
        free_capacity=max(0, size - used) if free is None else free,
    )


def _ems_time(record: dict) -> datetime.datetime:
    text = _field(record, "time", str, "EMS event", required=True)
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise exceptions.BackendError(
            "the array's EMS event record has a malformed time", detail=f"time={text[:40]!r}"
        )
    return moment.astimezone(datetime.UTC)


def alert_from(record: dict) -> models.Alert:
    """One EMS event as an alert (see the module docstring)."""
    what = "EMS event"
    index = _field(record, "index", int, what, required=True)
    name = _field(record, "message.name", str, what, required=True)
    severity, category = _EMS_SEVERITY.get(
        _field(record, "message.severity", str, what) or "",
        (models.AlertSeverity.NOT_SPECIFIED, models.AlertCategory.NOT_SPECIFIED),
    )
    node_uuid, node_name = _field(record, "node.uuid", str, what), _field(record, "node.name", str, what)
    return models.Alert(
        sequence_number=str(index),
        alert_id=name,
        alert_name=name,
        severity=severity,
        category=category,
        type=models.AlertType.NOT_SPECIFIED,
        description=_field(record, "log_message", str, what) or "",
        occur_time=_ems_time(record),
        resource_type=models.ResourceType.CONTROLLER if node_uuid else models.ResourceType.STORAGE,
        native_resource_id=node_uuid,
        location=f"node {node_name}" if node_name else None,
    )


def controller_from(record: dict) -> models.Controller:
    what = "node"
    return models.Controller(
        native_controller_id=_field(record, "uuid", str, what, required=True),
        name=_field(record, "name", str, what, required=True),
        status=_NODE_STATUS.get(_field(record, "state", str, what), models.ControllerStatus.UNKNOWN),
        location=_field(record, "location", str, what) or None,
        soft_version=_version_text(record, what),
        cpu_info=_field(record, "controller.cpu.processor", str, what),
        cpu_count=_field(record, "controller.cpu.count", int, what),
        memory_size=_field(record, "controller.memory_size", int, what),
        mgmt_ip=_field(record, "management_interfaces.ip.address", str, what),
    )


def _port_common(record: dict, what: str) -> dict:
    node_name = _field(record, "node.name", str, what)
    name = _field(record, "name", str, what, required=True)
    return {
        "native_port_id": _field(record, "uuid", str, what, required=True),
        "name": name,
        "native_parent_id": _field(record, "node.uuid", str, what),
        "location": f"{node_name}:{name}" if node_name else name,
    }


def eth_port_from(record: dict) -> models.Port:
    what = "ethernet port"
    connection, health = _ETH_STATE.get(_field(record, "state", str, what), (_C.UNKNOWN, _H.UNKNOWN))
    mbps = _field(record, "speed", int, what)
    return models.Port(
        **_port_common(record, what),
        type=models.PortType.ETH,
        connection_status=connection,
        health_status=health,
        speed=mbps * 10**6 if mbps is not None else None,
        mac_address=_field(record, "mac_address", str, what),
    )


def fc_port_from(record: dict) -> models.Port:
    what = "FC port"
    connection, health = _FC_STATE.get(_field(record, "state", str, what), (_C.UNKNOWN, _H.UNKNOWN))
    gbps = (
        _field(record, "fabric.connected_speed", int, what) if _field(record, "fabric.connected", bool, what) else None
    )
    maximum = _field(record, "speed.maximum", str, what)
    return models.Port(
        **_port_common(record, what),
        type=models.PortType.FC,
        logical_type=models.PortLogicalType.FRONTEND,
        connection_status=connection,
        health_status=health,
        speed=gbps * 10**9 if gbps is not None else None,
        max_speed=int(maximum) * 10**9 if maximum and maximum.isdigit() else None,
        wwn=_field(record, "wwpn", str, what),
    )


def disk_from(record: dict) -> models.Disk:
    what = "disk"
    name = _field(record, "name", str, what, required=True)
    shelf, bay = _field(record, "shelf.uid", str, what), _field(record, "bay", int, what)
    container = _field(record, "container_type", str, what)
    state = _field(record, "state", str, what)
    status = models.DiskStatus.ABNORMAL if container == "broken" else _DISK_STATUS.get(state, models.DiskStatus.UNKNOWN)
    return models.Disk(
        native_disk_id=_field(record, "uid", str, what) or name,
        name=name,
        status=status,
        physical_type=_DISK_PHYSICAL.get(_field(record, "type", str, what), models.DiskPhysicalType.UNKNOWN),
        logical_type=_DISK_LOGICAL.get(container, models.DiskLogicalType.UNKNOWN),
        capacity=_field(record, "usable_size", int, what) or 0,
        location=f"shelf {shelf} bay {bay}" if shelf is not None and bay is not None else None,
        firmware=_field(record, "firmware_version", str, what),
        manufacturer=_field(record, "vendor", str, what),
        model=_field(record, "model", str, what),
        serial_number=_field(record, "serial_number", str, what),
        speed=_field(record, "rpm", int, what),
        native_disk_group_id=_field(record, "aggregates.uuid", str, what),
    )


# -- the driver ----------------------------------------------------------------------------


class OntapRestDriver(driver.StorageDriver):
    """Inventory of an ONTAP cluster over HTTPS; see the module docstring for options and mapping."""

    access_protocols = ("rest",)

    def __init__(self, access_info: models.AccessInfo):
        super().__init__(access_info)
        rest = access_info.rest
        if rest is None or not rest.host or not rest.username or rest.password is None:
            raise exceptions.InvalidAccessInfo(
                "the netapp ontap_rest driver needs a rest block with host, port, username and password"
            )
        extra = rest.extra or {}
        scheme = extra.get("scheme", "https")
        if scheme not in ("https", "http"):
            raise exceptions.InvalidAccessInfo("rest.scheme must be https or http")
        page_size = extra.get("page_size", DEFAULT_PAGE_SIZE)
        if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise exceptions.InvalidAccessInfo(f"rest.page_size must be an integer from 1 to {MAX_PAGE_SIZE}")
        self._ca_file: str | None = None
        verify = self._tls_verify(extra) if scheme == "https" else False
        host = f"[{rest.host}]" if ":" in rest.host else rest.host
        self._client = RestClient(
            f"{scheme}://{host}:{rest.port}",
            rest.username,
            rest.password,
            timeout=access_info.timeout,
            verify=verify,
            page_size=page_size,
        )

    def _tls_verify(self, extra: dict) -> bool | str:
        """False, True (system CAs) or the path of a CA bundle, from the block's options and the defaults."""
        verify = extra.get("verify", self.access_info.verify)
        if not isinstance(verify, bool):
            raise exceptions.InvalidAccessInfo("rest.verify must be true or false")
        if not verify:
            LOG.warning("TLS certificate verification is off for the array at %s", self.access_info.rest.host)
            return False
        ca_cert = extra.get("ca_cert")
        if ca_cert is None:
            return self.access_info.ca_path or True
        try:
            if not isinstance(ca_cert, str) or "-----BEGIN CERTIFICATE-----" not in ca_cert:
                raise ValueError("no PEM certificate")
            ssl.create_default_context(cadata=ca_cert)  # refuses text that holds no usable certificate
        except (ValueError, ssl.SSLError) as e:
            raise exceptions.InvalidAccessInfo(
                "rest.ca_cert must be the PEM text of the CA certificate(s) to trust", detail=str(e)[:200]
            )
        # requests reads CAs only from a file: a private one (mode 0600), removed by close()
        with tempfile.NamedTemporaryFile("w", prefix="delfin-like-ca-", suffix=".pem", delete=False) as f:
            f.write(ca_cert)
            self._ca_file = f.name
        return self._ca_file

    def close(self) -> None:
        self._client.close()
        if self._ca_file:
            try:
                os.unlink(self._ca_file)
            except FileNotFoundError:
                pass
            self._ca_file = None

    def get_storage(self) -> models.Storage:
        cluster = self._client.get("/api/cluster", {"fields": "name,uuid,version,location"})
        states, model = [], None
        for node in self._client.records("/api/cluster/nodes", ["state", "model"]):
            states.append(_field(node, "state", str, "node"))
            model = model or _field(node, "model", str, "node")
        totals = {"raw": 0, "total": 0, "used": 0, "free": 0}
        for pool in map(pool_from, self._client.records("/api/storage/aggregates", _AGGREGATE_FIELDS)):
            totals["total"] += pool.total_capacity
            totals["used"] += pool.used_capacity
            totals["free"] += pool.free_capacity
        for disk in self._client.records("/api/storage/disks", ["name", "usable_size"]):
            totals["raw"] += _field(disk, "usable_size", int, "disk") or 0
        return storage_from(cluster, states, totals, model)

    def list_storage_pools(self) -> Iterator[models.StoragePool]:
        return map(pool_from, self._client.records("/api/storage/aggregates", _AGGREGATE_FIELDS))

    def list_volumes(self) -> Iterator[models.Volume]:
        return map(volume_from, self._client.records("/api/storage/volumes", _VOLUME_FIELDS))

    def list_controllers(self) -> Iterator[models.Controller]:
        return map(controller_from, self._client.records("/api/cluster/nodes", _NODE_FIELDS))

    def list_ports(self) -> Iterator[models.Port]:
        yield from map(eth_port_from, self._client.records("/api/network/ethernet/ports", _ETH_FIELDS))
        yield from map(fc_port_from, self._client.records("/api/network/fc/ports", _FC_FIELDS))

    def list_disks(self) -> Iterator[models.Disk]:
        return map(disk_from, self._client.records("/api/storage/disks", _DISK_FIELDS))

    def list_alerts(self, since: datetime.datetime | None = None) -> Iterator[models.Alert]:
        """The EMS events, those at or after ``since`` asked for with ONTAP's query syntax."""
        query = None
        if since is not None:
            if since.tzinfo is None:
                raise exceptions.InvalidAccessInfo("since must be timezone-aware")
            query = {"time": ">=" + since.astimezone(datetime.UTC).isoformat(timespec="seconds")}
        return map(alert_from, self._client.records("/api/support/ems/events", _EMS_FIELDS, query))

    def get_capabilities(self) -> dict[str, Any]:
        """What the ONTAP raw counters (``statistics.*_raw``) allow: rates from two polls, no history.

        Storage (cluster), pools (aggregates), volumes and controllers (nodes) carry operation,
        byte and latency counters, and so do FC ports; Ethernet ports count bytes only (their
        samples have no IOPS or response time); disks have no raw counters.
        """
        every = perf.ResourceCapability(metrics=ontap_perf.IO_METRICS, min_interval=MIN_INTERVAL)
        return perf.capabilities({resource_type: every for resource_type in ontap_perf.COLLECTIONS})

    def collect_perf_metrics(self, resource_metrics, start, end) -> Iterator[models.MetricSample]:
        """Samples of the counters read now (see :mod:`.ontap_perf`); ``start``/``end`` are not
        used: the counters are read once per window, stamped with the array's own time.

        :param resource_metrics: resource type -> metric names (of ``get_capabilities()``).
        :raises NotSupported: a resource type without counters.
        """
        for resource_type, wanted in resource_metrics.items():
            paths = ontap_perf.COLLECTIONS.get(resource_type)
            if paths is None:
                raise exceptions.NotSupported(f"ONTAP has no raw counters for {resource_type} resources")
            for path in paths:
                yield from ontap_perf.samples(resource_type, self._statistics(path), tuple(wanted), self.counters)

    def _statistics(self, path: str) -> Iterator[dict]:
        """The records of ``path`` with their key, name (the samples' label) and ``statistics`` only."""
        if path == "/api/cluster":
            return iter([self._client.get(path, {"fields": "name,statistics"})])
        return self._client.records(path, ["name", "statistics"])
