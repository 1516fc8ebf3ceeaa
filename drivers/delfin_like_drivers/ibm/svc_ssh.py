"""IBM Storwize / SAN Volume Controller over its SSH CLI: stevedore name ``ibm svc_ssh``.

Registration body::

    {"vendor": "ibm", "model": "svc_ssh",
     "ssh": {"host": "array1", "port": 22, "username": "monitor",
             "password": "...",                       # and/or
             "private_key": "-----BEGIN OPENSSH PRIVATE KEY-----...",
             "host_key": "ssh-ed25519 AAAA...",       # and/or
             "known_hosts": "/etc/delfin-like/known_hosts"}}

The array's host key must be given (see :mod:`.ssh_cli`); a different one is
refused. Every listing is one CLI command asked with ``-delim :`` and its
header, read by column name; capacities with ``-bytes``:

=================  ==============================================================
storage            ``lssystem`` (+ node states from ``lsnode``)
storage pools      ``lsmdiskgrp``
volumes            ``lsvdisk`` (+ used capacity of thin copies from ``lssevdiskcopy``)
controllers        ``lsnode`` (``lsnodecanister`` where ``lsnode`` is not supported),
                   ``lsnode <id>`` and ``lsnodehw <id>``
ports              ``lsportfc`` and ``lsportip`` (the node's own rows, not failover ones)
disks              ``lsdrive``, ``lsdrive <id>``, ``lsmdisk`` (drive -> pool)
alerts             ``lseventlog -fixed yes`` and ``lseventlog <seq>`` of each alert (see
                   :mod:`.svc_events`); ``clear_alert`` runs ``svctask cheventlog -fix <seq>``;
                   ``parse_alert`` reads the array's event traps (no command)
=================  ==============================================================

Each CLI command (connecting included) finishes within ``access_info.timeout``
seconds or raises DriverTimeout: a listing of many commands (a drive detail per
drive) is bounded per command, so a large array is not cut off by the sum.
Listings stream, so 100k volumes are never held as text.

Performance: rates and totals from cumulative counters read with ``lsiostatscounters``, a
simulator extension modeled on SVC's iostats dumps (see :mod:`.svc_perf`); against a real array
the driver declares no metrics.
"""

import datetime
import re
from collections.abc import Iterator

from delfin_like.sdk import driver, exceptions, models, perf
from delfin_like_drivers.ibm import ssh_cli, svc_events, svc_perf
from delfin_like_drivers.ibm import svc_output as out

VENDOR = "IBM"
GIB = 1024**3
MIN_INTERVAL = 5  # seconds: the finest SVC statistics interval (lssystem statistics_frequency)

_POOL_STATUS = {"online": models.StoragePoolStatus.NORMAL, "offline": models.StoragePoolStatus.OFFLINE}
_VOLUME_STATUS = {"online": models.VolumeStatus.AVAILABLE, "offline": models.VolumeStatus.ERROR,
                  "degraded": models.VolumeStatus.ERROR}  # fmt: skip
_NODE_STATUS = {"online": models.ControllerStatus.NORMAL, "offline": models.ControllerStatus.OFFLINE,
                "service": models.ControllerStatus.FAULT, "degraded": models.ControllerStatus.DEGRADED}  # fmt: skip
_DISK_STATUS = {"online": models.DiskStatus.NORMAL, "offline": models.DiskStatus.OFFLINE,
                "degraded": models.DiskStatus.ABNORMAL}  # fmt: skip
_DISK_USE = {"member": models.DiskLogicalType.MEMBER, "spare": models.DiskLogicalType.HOTSPARE,
             "candidate": models.DiskLogicalType.FREE, "unused": models.DiskLogicalType.FREE}  # fmt: skip
_FC_STATES = ("active", "inactive_configured", "inactive_unconfigured")
_IP_STATES = ("configured", "unconfigured", "management_only")
_CORES = re.compile(r"^\s*(\d+)\s+core", re.IGNORECASE)


def _pool_status(value: str) -> str:
    if value.startswith("degraded"):  # degraded_paths, degraded_ports
        return models.StoragePoolStatus.DEGRADED
    return _POOL_STATUS.get(value, models.StoragePoolStatus.UNKNOWN)


def _physical_type(tech_type: str, transport: str) -> str:
    tech_type, transport = tech_type.lower(), transport.lower()
    if transport == "nvme":
        return models.DiskPhysicalType.NVME
    if "flash" in tech_type or "ssd" in tech_type:
        return models.DiskPhysicalType.SSD
    if "nearline" in tech_type:
        return models.DiskPhysicalType.NL_SAS
    if "hdd" in tech_type or "enterprise" in tech_type:
        return models.DiskPhysicalType.SAS
    return models.DiskPhysicalType.UNKNOWN


class SvcSshDriver(driver.StorageDriver):
    """Storwize/SVC inventory over SSH; see the module docstring for what comes from where."""

    access_protocols = ("ssh",)

    def __init__(self, access_info: models.AccessInfo):
        super().__init__(access_info)
        if access_info.ssh is None:
            raise exceptions.InvalidAccessInfo("the ibm svc_ssh driver needs an ssh access block")
        self.cli = ssh_cli.SshCli(access_info.ssh, timeout=access_info.timeout)

    # -- plumbing -----------------------------------------------------------------------------

    def _table(self, command: str) -> Iterator[dict[str, str]]:
        name = command.split(" ", 1)[0]
        return out.table(self.cli.lines(f"{command} -delim {out.DELIM}"), name)

    def _detail(self, command: str) -> dict[str, str]:
        name = command.split(" ", 1)[0]
        return out.detail(self.cli.lines(f"{command} -delim {out.DELIM}"), name)

    def _nodes(self) -> tuple[str, list[dict[str, str]]]:
        """(the node command this array knows, its rows): ``lsnode``, else ``lsnodecanister``."""
        try:
            return "lsnode", list(self._table("lsnode"))
        except ssh_cli.CommandFailed as e:
            if e.code not in ("CMMVC7205E", "CMMVC5709E"):  # not supported here
                raise
        return "lsnodecanister", list(self._table("lsnodecanister"))

    # -- the contract -------------------------------------------------------------------------

    def get_storage(self) -> models.Storage:
        cmd = "lssystem"
        system = self._detail("lssystem -bytes")
        _, nodes = self._nodes()
        online = sum(1 for n in nodes if out.need(n, "status", "lsnode") == "online")
        if not nodes or online == len(nodes):
            status = models.StorageStatus.NORMAL if nodes else models.StorageStatus.UNKNOWN
        else:
            status = models.StorageStatus.DEGRADED if online else models.StorageStatus.OFFLINE
        total = out.capacity(system.get("space_in_mdisk_grps") or system.get("total_mdisk_capacity"), "total", cmd)
        free = out.capacity(system.get("total_free_space"), "total_free_space", cmd)
        used = system.get("total_allocated_extent_capacity")
        used = out.capacity(used, "total_allocated_extent_capacity", cmd) if used else total - free
        return models.Storage(
            name=out.need(system, "name", cmd),
            vendor=VENDOR,
            model=system.get("product_name") or "SAN Volume Controller",
            serial_number=out.need(system, "id", cmd),
            status=status,
            firmware_version=out.version(system.get("code_level")),
            raw_capacity=out.capacity(system.get("total_drive_raw_capacity"), "total_drive_raw_capacity", cmd),
            total_capacity=total,
            used_capacity=used,
            free_capacity=free,
            subscribed_capacity=out.capacity(system.get("total_vdisk_capacity"), "total_vdisk_capacity", cmd),
        )

    def list_storage_pools(self) -> Iterator[models.StoragePool]:
        cmd = "lsmdiskgrp"
        for row in self._table("lsmdiskgrp -bytes"):
            total = out.capacity(out.need(row, "capacity", cmd), "capacity", cmd)
            free = out.capacity(out.need(row, "free_capacity", cmd), "free_capacity", cmd)
            yield models.StoragePool(
                native_storage_pool_id=out.need(row, "id", cmd),
                name=out.need(row, "name", cmd),
                status=_pool_status(out.need(row, "status", cmd)),
                storage_type=models.StorageType.BLOCK,
                total_capacity=total,
                used_capacity=total - free,
                free_capacity=free,
                subscribed_capacity=out.capacity(row.get("virtual_capacity"), "virtual_capacity", cmd),
            )

    def _thin_used(self) -> dict[str, int]:
        """Used bytes of each thin-provisioned vdisk (its first copy), by vdisk id."""
        cmd = "lssevdiskcopy"
        used: dict[str, int] = {}
        for row in self._table("lssevdiskcopy -bytes"):
            vdisk = out.need(row, "vdisk_id", cmd)
            if vdisk not in used:
                used[vdisk] = out.capacity(out.need(row, "used_capacity", cmd), "used_capacity", cmd)
        return used

    def list_volumes(self) -> Iterator[models.Volume]:
        cmd = "lsvdisk"
        thin_used = self._thin_used()
        Volume, thin, thick = models.Volume, models.VolumeType.THIN, models.VolumeType.THICK
        for row in self._table("lsvdisk -bytes"):
            vdisk = out.need(row, "id", cmd)
            total = out.capacity(out.need(row, "capacity", cmd), "capacity", cmd)
            is_thin = (out.integer(row.get("se_copy_count"), "se_copy_count", cmd) or 0) > 0
            used = min(thin_used.get(vdisk, 0), total) if is_thin else total
            pool = out.need(row, "mdisk_grp_id", cmd)
            compressed = out.integer(row.get("compressed_copy_count"), "compressed_copy_count", cmd)
            dedup = out.integer(row.get("deduplicated_copy_count"), "deduplicated_copy_count", cmd)
            yield Volume(
                native_volume_id=vdisk,
                name=out.need(row, "name", cmd),
                native_storage_pool_id=pool if pool and pool != "many" else None,
                status=_VOLUME_STATUS.get(out.need(row, "status", cmd), models.VolumeStatus.UNKNOWN),
                type=thin if is_thin else thick,
                wwn=(row.get("vdisk_UID") or "").lower() or None,
                total_capacity=total,
                used_capacity=used,
                free_capacity=total - used,
                compressed=None if compressed is None else compressed > 0,
                deduplicated=None if dedup is None else dedup > 0,
            )

    def list_controllers(self) -> Iterator[models.Controller]:
        command, nodes = self._nodes()
        hw_supported = True
        for node in nodes:
            node_id = out.need(node, "id", command)
            info = self._detail(f"{command} {node_id}")
            hw: dict[str, str] = {}
            if hw_supported:
                try:
                    hw = self._detail(f"lsnodehw {node_id}")
                except ssh_cli.CommandFailed as e:
                    if e.code not in ("CMMVC7205E", "CMMVC5709E"):
                        raise
                    hw_supported = False
            enclosure, canister = node.get("enclosure_id"), node.get("canister_id")
            location = f"enclosure {enclosure}, canister {canister}" if enclosure and canister else None
            cpu = hw.get("cpu_actual") or hw.get("cpu_configured") or None
            cores = _CORES.match(cpu or "")
            memory = out.integer(hw.get("memory_actual") or hw.get("memory_configured"), "memory_actual", "lsnodehw")
            yield models.Controller(
                native_controller_id=node_id,
                name=out.need(node, "name", command),
                status=_NODE_STATUS.get(out.need(node, "status", command), models.ControllerStatus.UNKNOWN),
                location=location or node.get("panel_name") or None,
                soft_version=out.version(info.get("code_level")),
                cpu_info=cpu,
                cpu_count=int(cores.group(1)) if cores else out.integer(hw.get("cpu_count"), "cpu_count", "lsnodehw"),
                memory_size=None if memory is None else memory * GIB,  # the CLI counts memory in GB of 1024**3
                mgmt_ip=info.get("service_IP_address") or None,
            )

    def list_ports(self) -> Iterator[models.Port]:
        cmd = "lsportfc"
        for row in self._table("lsportfc"):
            status = out.need(row, "status", cmd)
            node_name = row.get("node_name") or out.need(row, "node_id", cmd)
            port_id = out.need(row, "port_id", cmd)
            yield models.Port(
                native_port_id=f"fc-{out.need(row, 'id', cmd)}",
                name=f"{node_name}_fc{port_id}",
                type=models.PortType.FC if row.get("type", "fc") == "fc" else models.PortType.OTHER,
                logical_type=models.PortLogicalType.FRONTEND,
                connection_status=(
                    models.PortConnectionStatus.CONNECTED
                    if status == "active"
                    else models.PortConnectionStatus.DISCONNECTED
                ),  # fmt: skip
                health_status=models.PortHealthStatus.NORMAL
                if status in _FC_STATES
                else models.PortHealthStatus.ABNORMAL,
                location=f"{node_name}, adapter {row.get('adapter_location') or '?'} port {port_id}",
                speed=out.speed(row.get("port_speed")),
                native_parent_id=out.need(row, "node_id", cmd),
                wwn=out.wwn(out.need(row, "WWPN", cmd)),
            )
        cmd = "lsportip"
        for row in self._table("lsportip"):
            if row.get("failover", "no") != "no":
                continue  # the partner node's configuration this port would take over
            node_name = row.get("node_name") or out.need(row, "node_id", cmd)
            port_id = out.need(row, "id", cmd)
            state = row.get("state", "")
            yield models.Port(
                native_port_id=f"eth-{out.need(row, 'node_id', cmd)}-{port_id}",
                name=f"{node_name}_eth{port_id}",
                type=models.PortType.ETH,
                logical_type=models.PortLogicalType.FRONTEND,
                connection_status=(
                    models.PortConnectionStatus.CONNECTED
                    if row.get("link_state") == "active"
                    else models.PortConnectionStatus.DISCONNECTED
                ),  # fmt: skip
                health_status=models.PortHealthStatus.NORMAL
                if state in _IP_STATES
                else models.PortHealthStatus.ABNORMAL,
                location=f"{node_name}, adapter {row.get('adapter_location') or '?'} port {port_id}",
                speed=out.speed(row.get("speed")),
                native_parent_id=out.need(row, "node_id", cmd),
                mac_address=(row.get("MAC") or "").lower() or None,
                ipv4=row.get("IP_address") or None,
                ipv4_mask=row.get("mask") or None,
                ipv6=row.get("IP_address_6") or None,
                ipv6_mask=row.get("prefix_6") or None,
            )

    def list_disks(self) -> Iterator[models.Disk]:
        pool_of = {out.need(r, "id", "lsmdisk"): r.get("mdisk_grp_id") or None for r in self._table("lsmdisk")}
        cmd = "lsdrive"
        for row in list(self._table("lsdrive -bytes")):
            drive_id = out.need(row, "id", cmd)
            info = self._detail(f"lsdrive -bytes {drive_id}")
            use = row.get("use", "")
            status = _DISK_STATUS.get(out.need(row, "status", cmd), models.DiskStatus.UNKNOWN)
            enclosure, slot = row.get("enclosure_id"), row.get("slot_id")
            mdisk = row.get("mdisk_id") or None
            yield models.Disk(
                native_disk_id=drive_id,
                name=f"drive{drive_id}",
                status=models.DiskStatus.ABNORMAL if use == "failed" else status,
                physical_type=_physical_type(row.get("tech_type", ""), info.get("transport_protocol", "")),
                logical_type=_DISK_USE.get(use, models.DiskLogicalType.UNKNOWN),
                capacity=out.capacity(out.need(row, "capacity", cmd), "capacity", cmd),
                location=f"enclosure {enclosure}, slot {slot}" if enclosure and slot else None,
                firmware=info.get("firmware_level") or None,
                manufacturer=info.get("vendor_id") or None,
                model=info.get("product_id") or None,
                serial_number=info.get("FRU_identity") or None,
                speed=out.integer(info.get("RPM"), "RPM", cmd),
                native_disk_group_id=pool_of.get(mdisk) if mdisk else None,
            )

    def get_capabilities(self) -> dict:
        """The counters' metrics (:mod:`.svc_perf`) if the array serves the counters command, else none.

        Asks ``lsiostatscounters system`` once: a real SVC refuses it (the command is the
        simulator's), and a driver must not declare metrics it cannot collect.
        """
        try:
            list(self._table(f"{svc_perf.STATS_COMMAND} system"))
        except ssh_cli.CommandFailed as e:
            if e.code not in ("CMMVC7205E", "CMMVC5709E"):  # anything but "not supported here" is a failure
                raise
            return {"is_historic": False, "resource_metrics": {}}
        return perf.capabilities(
            {rt: perf.ResourceCapability(metrics, MIN_INTERVAL) for rt, metrics in svc_perf.METRICS.items()}
        )

    def collect_perf_metrics(self, resource_metrics, start, end) -> Iterator[models.MetricSample]:
        """Samples of the counters read now, one CLI command per object type (see :mod:`.svc_perf`);
        ``start``/``end`` are not used: samples carry the array's own timestamp.

        :raises NotSupported: a resource type without counters, or an array without the command.
        """
        for resource_type, wanted in resource_metrics.items():
            kinds = svc_perf.OBJECTS.get(resource_type)
            if kinds is None:
                raise exceptions.NotSupported(f"no counters for {resource_type} resources")
            for kind in kinds:
                try:
                    rows = list(self._table(f"{svc_perf.STATS_COMMAND} {kind}"))
                except ssh_cli.CommandFailed as e:
                    if e.code not in ("CMMVC7205E", "CMMVC5709E"):
                        raise
                    raise exceptions.NotSupported(
                        f"the array does not serve {svc_perf.STATS_COMMAND} (a simulator extension)"
                    ) from None
                yield from svc_perf.samples(resource_type, kind, rows, tuple(wanted), self.counters)

    def list_alerts(self, since: datetime.datetime | None = None) -> Iterator[models.Alert]:
        """Every event of the log, fixed ones included (``cleared``), that last occurred at or
        after ``since``; the filter is applied here, the CLI's own filters vary by code level."""
        try:
            rows = list(self._table(f"{svc_events.CMD} -fixed yes"))
        except ssh_cli.CommandFailed as e:
            if e.code not in ("CMMVC7205E", "CMMVC5709E"):
                raise
            raise exceptions.NotSupported("the array does not serve lseventlog") from None
        for row in rows:
            detail = None
            if svc_events.needs_detail(row):
                detail = self._detail(f"{svc_events.CMD} {out.need(row, 'sequence_number', svc_events.CMD)}")
            alert = svc_events.to_alert(row, detail)
            if since is None or (alert.occur_time is not None and alert.occur_time >= since):
                yield alert

    def parse_alert(self, trap: models.TrapInfo) -> models.Alert:
        """The alert of the array's SNMP event trap (IBM's enterprise 1.3.6.1.4.1.2.6.190), with the
        sequence number and fields :meth:`list_alerts` gives for that event; no SSH command.

        :raises InvalidTrap: any other notification, or one without what it needs.
        """
        return svc_events.trap_to_alert(trap)

    def clear_alert(self, sequence_number: str) -> None:
        """Mark the event fixed with ``svctask cheventlog -fix``.

        :raises BackendError: not a sequence number, or the array refuses (no such event).
        """
        if not str(sequence_number).isdigit():
            raise exceptions.BackendError(f"{sequence_number!r} is not an SVC event sequence number")
        for _ in self.cli.lines(f"svctask cheventlog -fix {sequence_number}"):
            pass

    def close(self) -> None:
        self.cli.close()
