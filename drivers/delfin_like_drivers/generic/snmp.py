"""``generic snmp``: any array (or host) whose agent serves the standard MIBs, read over SNMP.

Access: the ``snmp`` block. SNMPv2c: ``{"host", "port", "community"}``. SNMPv3:
``{"host", "port", "username", "auth_key", "privacy_key", "auth_protocol": "SHA",
"privacy_protocol": "AES"}`` (authPriv; without ``privacy_key`` authNoPriv). Options:
``version`` ("2c"/"3"; 3 when a username is given), ``timeout`` (seconds per request
attempt), ``retries`` (default 1), ``max_repetitions`` (GETBULK, 1-100, default 50),
``context_name``. A whole driver call is bounded by ``access_info.timeout``.
``extra_attributes``: ``serial_number``, ``vendor``, ``model`` override what the agent says.

What SNMP can express, and how it is read (numeric OIDs only; no MIB files needed)
    * Storage: sysName is the name (and the serial number unless ``serial_number`` is
      given), sysDescr the description, sysLocation the location, the first
      ``version``/``release``/``firmware`` word of sysDescr the firmware version; the
      vendor is the enterprise of sysObjectID (a short table of known ones, else
      ``enterprise <n>``) and the model is sysObjectID itself. The status is normal when
      the agent answers (the standard MIBs carry no array health). Capacities add up the
      pools (total, used), the volumes (subscribed) and the disks (raw).
    * Pools and volumes: HOST-RESOURCES-MIB hrStorageTable entries of type
      hrStorageFixedDisk. A descr ``/<pool>`` is a pool, ``/<pool>/<volume>`` a volume
      of that pool (other entries are ignored). Native ids: the pool's name and
      ``<pool>/<volume>``. Capacities are hrStorageAllocationUnits x hrStorageSize/Used
      bytes. UCD-SNMP-MIB dskTable rows with the same path add the status
      (dskErrorFlag; a pool's dskErrorMsg saying offline/degraded) and a volume's WWN
      (a dskDevice ``/dev/disk/by-id/wwn-0x<wwn>``); without a dskTable row the status is
      unknown. Thin provisioning, compression and deduplication are not expressed:
      volumes are reported thick, the others unknown.
    * Disks: hrDeviceTable entries of type hrDeviceDiskStorage; descr is name and native
      id, hrDeviceStatus running/warning/testing/down is normal/abnormal/offline/abnormal,
      hrDiskStorageCapacity (KB, an Integer32: disks of 2 TiB and more read as
      2 TiB - 1 KiB) the capacity. Vendor, model, serial, firmware, type and role are
      not expressed.
    * Ports: IF-MIB ifTable + ifXTable (software loopbacks left out): ifDescr is the
      native id, ifName the name, ifType fibreChannel/Ethernet the type, ifHighSpeed
      (or ifSpeed) the speed, ifPhysAddress the WWPN (FC) or MAC, ifOperStatus the
      connection (down with ifAdminStatus up: abnormal health); IP-MIB ipAddrTable the
      IPv4 address and mask. Controllers are not expressed: ``list_controllers`` is None.

Performance (``collect_perf_metrics``; the columns are listed in :mod:`.snmp_perf`)
    * Volumes and disks: UCD-DISKIO-MIB diskIOTable rows whose diskIODevice is a volume's
      name (an hrStorage entry ``/<pool>/<name>``; a name two volumes share is skipped) or a
      disk's (an hrDevice disk-storage descr). iops/read_iops/write_iops from diskIOReads and
      diskIOWrites (Counter32), throughput/read_throughput/write_throughput from
      diskIONReadX/diskIONWrittenX (Counter64), or diskIONRead/diskIONWritten (Counter32) for
      rows without them, and the four counters raw as ``*_total``.
    * Ports: IF-MIB ifHCOutOctets (read by hosts) and ifHCInOctets (written by hosts),
      Counter64, or ifOutOctets/ifInOctets (Counter32) where the agent has no ifXTable HC
      counters: throughput/read_throughput/write_throughput and the byte totals. Packets
      are not I/O operations: no port iops.
    * Rates are over sysUpTime (TimeTicks, hundredths, a wrap at 2**32 read as such): the
      array's time between two polls, not the poller's. The first poll, a poll after the
      agent restarted (sysUpTime went back) and a counter that was reset give no rate; a
      counter that wrapped (at 2**32 or 2**64 as its column says) does. A Counter32 byte
      column wraps every 4 GiB: more than 2 GiB moved between two polls reads as a reset,
      so such agents need short intervals. Samples are stamped with the poll's end.

A driver instance reads each table once and answers later calls from that reading, so
one sync sees one consistent array; ``close()`` (the service calls it after every sync
and probe) forgets it. Errors: no answer is :class:`~delfin_like.sdk.exceptions.DriverTimeout`
(with SNMPv2c a wrong community is not answered either, and the message says so); a v3
report of an unknown user or a wrong digest is ``InvalidCredentials``; data the tables
cannot hold (wrong types, missing cells) is ``BackendError``.

Alerts: ``parse_alert`` reads the standard notifications (coldStart, warmStart, linkDown,
linkUp, authenticationFailure) and any other as a generic alert (:mod:`.snmp_traps`); the
standard MIBs keep no event log, so ``list_alerts`` and ``clear_alert`` are not supported.
"""

import threading
import time

from delfin_like.sdk import driver, exceptions, models
from delfin_like_drivers.generic import snmp_perf as perf
from delfin_like_drivers.generic import snmp_tables as tables
from delfin_like_drivers.generic import snmp_traps
from delfin_like_drivers.generic.snmp_client import SnmpClient, SnmpSettings

_ERROR_MSG_BATCH = 20  # dskErrorMsg cells per GET


class SnmpDriver(driver.StorageDriver):
    """See the module docstring."""

    access_protocols = ("snmp",)

    def __init__(self, access_info: models.AccessInfo):
        super().__init__(access_info)
        self.settings = SnmpSettings.from_access_info(access_info)
        attrs = access_info.extra_attributes or {}
        self._overrides = {k: str(attrs[k]) for k in ("serial_number", "vendor", "model") if attrs.get(k)}
        self._lock = threading.RLock()
        self._client: SnmpClient | None = None
        self._read: dict[str, object] = {}

    # -- plumbing -------------------------------------------------------------------------------

    def _deadline(self) -> float:
        return time.monotonic() + self.settings.call_timeout

    def _snmp(self) -> SnmpClient:
        with self._lock:
            if self._client is None:
                self._client = SnmpClient(self.settings)
            return self._client

    def _once(self, key: str, read, deadline: float):
        """What ``read(deadline)`` returned the first time this instance needed it."""
        with self._lock:
            if key not in self._read:
                try:
                    self._read[key] = read(deadline)
                except exceptions.BackendError as e:
                    raise self._located(e) from e
            return self._read[key]

    def _located(self, e: exceptions.DriverError) -> exceptions.DriverError:
        """A table-content error, saying which agent sent the table."""
        if type(e) is exceptions.BackendError and not e.message.startswith("SNMP agent"):
            return exceptions.BackendError(f"SNMP agent {self.settings.endpoint}: {e.message}", detail=e.detail)
        return e

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
            self._read = {}
        if client is not None:
            client.close()

    def _walk(self, entry, names: dict[str, int], deadline: float) -> tables.Table:
        return self._snmp().walk(list(tables.columns(entry, names).values()), deadline)

    # -- reading the tables once ----------------------------------------------------------------

    def _areas(self, deadline: float) -> tables.StorageAreas:
        return self._once(
            "storage",
            lambda d: tables.parse_storage(self._walk(tables.HR_STORAGE, tables.HR_STORAGE_COLUMNS, d)),
            deadline,
        )

    def _dsk(self, deadline: float) -> dict[str, tables.DskRow]:
        def read(d):
            rows = tables.parse_dsk(self._walk(tables.DSK, tables.DSK_COLUMNS, d))
            flagged = [r for r in rows.values() if r.error]
            for start in range(0, len(flagged), _ERROR_MSG_BATCH):  # messages only of the rows in error
                batch = flagged[start : start + _ERROR_MSG_BATCH]
                got = self._snmp().get([tables.DSK_ERROR_MSG + r.index for r in batch], d)
                for r in batch:
                    message = got.get(tables.DSK_ERROR_MSG + r.index)
                    r.message = message.decode(errors="replace") if isinstance(message, bytes) else ""
            return rows

        return self._once("dsk", read, deadline)

    def _disks(self, deadline: float) -> list[models.Disk]:
        def read(d):
            device = self._walk(tables.HR_DEVICE, tables.HR_DEVICE_COLUMNS, d)
            capacity = self._snmp().walk([tables.HR_DISK_CAPACITY], d)[tables.HR_DISK_CAPACITY]
            return tables.parse_disks(device, capacity)

        return self._once("disks", read, deadline)

    # -- the driver contract --------------------------------------------------------------------

    def parse_alert(self, trap: models.TrapInfo) -> models.Alert:
        """A standard notification (coldStart, warmStart, linkDown, linkUp, authenticationFailure)
        or any other as a generic alert; see :mod:`.snmp_traps`. Asks the agent nothing."""
        return snmp_traps.to_alert(trap, self._overrides.get("serial_number"))

    def get_storage(self) -> models.Storage:
        deadline = self._deadline()
        system = self._snmp().get(
            [tables.SYS_DESCR, tables.SYS_OBJECT_ID, tables.SYS_NAME, tables.SYS_LOCATION], deadline
        )
        areas, disks = self._areas(deadline), self._disks(deadline)
        try:
            return tables.storage(system, areas, disks, self._overrides)
        except exceptions.BackendError as e:
            raise self._located(e) from e

    def list_storage_pools(self) -> list[models.StoragePool]:
        deadline = self._deadline()
        return tables.pools(self._areas(deadline), self._dsk(deadline))

    def list_volumes(self):
        deadline = self._deadline()
        return tables.volumes(self._areas(deadline), self._dsk(deadline))

    def list_controllers(self):
        return None  # the standard MIBs have no notion of a storage controller

    def list_disks(self) -> list[models.Disk]:
        return list(self._disks(self._deadline()))

    def list_ports(self) -> list[models.Port]:
        def read(d):
            return tables.parse_ports(
                self._walk(tables.IF, tables.IF_COLUMNS, d),
                self._walk(tables.IFX, tables.IFX_COLUMNS, d),
                self._walk(tables.IP_ADDR, tables.IP_ADDR_COLUMNS, d),
            )

        return list(self._once("ports", read, self._deadline()))

    def get_capabilities(self) -> dict:
        """What :meth:`collect_perf_metrics` collects (see the module docstring): volumes and disks
        from diskIOTable, ports from IF-MIB octet counters; nothing historic, 15 s at the finest."""
        return perf.capabilities()

    # -- performance ----------------------------------------------------------------------------

    def collect_perf_metrics(self, resource_metrics, start, end) -> list[models.MetricSample]:
        """Read the counters now and turn them into samples stamped ``end``.

        :param resource_metrics: resource type (volume, disk, port) -> metric names; names this
            driver does not declare are ignored.
        :returns: the totals, and the rates over the sysUpTime seconds since the previous
            reading kept in :attr:`counters` (none on the first, or after the agent restarted).
        :raises NotSupported: a resource type without counters. Errors as the inventory calls.
        """
        deadline = self._deadline()
        unknown = sorted(set(resource_metrics) - set(perf.METRICS_OF))
        if unknown:
            raise exceptions.NotSupported(f"SNMP gives no counters of {', '.join(unknown)}")
        try:
            ticks = perf.uptime_ticks(self._snmp().get([perf.SYS_UPTIME], deadline).get(perf.SYS_UPTIME))
            elapsed = perf.elapsed_seconds(self.counters, ticks, end)
            out = []
            for resource_type, wanted in resource_metrics.items():
                metrics = [m for m in wanted if m in perf.METRICS_OF[resource_type]]
                readings = self._perf_readings(resource_type, metrics, deadline)
                out.extend(perf.samples(self.counters, resource_type, metrics, readings, elapsed, end))
            return out
        except exceptions.BackendError as e:
            raise self._located(e) from e

    def _perf_readings(self, resource_type: str, metrics: list[str], deadline: float) -> list:
        """One walk of the names and the preferred counter columns side by side; the Counter32
        stand-ins only when some row lacks a preferred (64-bit) cell."""
        port = resource_type == models.ResourceType.PORT
        choices = perf.PORT_COUNTERS if port else perf.DISKIO_COUNTERS
        counters = perf.counters_for(metrics) & set(choices)
        if port:
            names = [perf.IF_DESCR, perf.IF_TYPE, perf.IFX_NAME]
        elif resource_type == models.ResourceType.VOLUME:
            names = [perf.DISKIO_DEVICE, tables.HR_STORAGE + (2,), tables.HR_STORAGE + (3,)]
        else:
            names = [perf.DISKIO_DEVICE, tables.HR_DEVICE + (2,), tables.HR_DEVICE + (3,)]
        table = self._snmp().walk(names + perf.preferred_columns(choices, counters), deadline)
        if port:
            rows = perf.port_rows(table, table)
        else:
            ids = perf.volume_ids(table) if resource_type == models.ResourceType.VOLUME else perf.disk_ids(table)
            rows = perf.diskio_rows(table, ids)
        standins = perf.standin_columns(choices, counters, table, rows)
        if standins:
            table.update(self._snmp().walk(standins, deadline))
        return perf.readings(table, rows, counters, choices, "ifTable" if port else "diskIO")
