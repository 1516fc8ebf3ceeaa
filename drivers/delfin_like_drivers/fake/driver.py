"""A deterministic fake array: stevedore name ``fake_storage fake_driver``.

Everything it returns follows from ``extra_attributes`` so tests and benchmarks
can predict exactly what lands in the database:

``pools`` (default 4), ``volumes`` (default 20), ``seed`` (default 0)
    Size and flavour of the array. Volume ``i`` lives in pool ``i % pools``.
``controllers`` (default 2), ``ports_per_controller`` (default 4), ``disks`` (default 8)
    The hardware: port ``j`` of controller ``c`` is ``port-c-j`` (FC on even ``j``,
    iSCSI on odd); disk ``d`` belongs to disk group ``pool-(d % pools)``.
``churn`` (percent, default 0) and ``generation``
    At generation ``g`` the array differs from generation ``g-1`` by
    ``k = min(round(volumes * churn / 100), volumes // 2)`` volumes deleted, ``k``
    added and ``k`` updated (a sliding window over volume indices). Without an explicit
    ``generation``, each ``list_volumes`` call of this process advances it by one
    (the first call is generation 0).
``serial_number``
    Overrides the serial, which otherwise derives from seed and endpoint.
``name``
    Overrides the array's name, which otherwise derives from its serial
    (``fake-array-<6 hex digits>``): two registered fakes never share a name.
``error`` / ``sync_error``
    ``invalid_credentials``, ``unreachable`` or ``backend_error``: raise that on
    every call (``error``) or only when listing (``sync_error``).
``delay``
    Seconds ``list_volumes`` sleeps before yielding (slow back ends, cancellation).
``page_delay``
    Seconds ``list_volumes`` sleeps after each page of 100 volumes (a long listing from a slow back end).
``probe_delay``
    Seconds ``get_storage`` waits before answering (a back end slow to answer the registration probe).

``alerts`` (default 0), ``alert_epoch`` (default 1700000000)
    The array's event log: alert ``i`` (sequence number ``str(i + 1)``) occurred at
    ``alert_epoch + 60 * i`` seconds; its code, severity, type and resource follow from
    ``seed`` and ``i`` (:meth:`FakeStorageDriver.alert` tells any of them), every fifth
    (``i % 5 == 4``) is already cleared, and ``clear_alert`` clears one for every driver
    of the same serial in this process. ``list_alerts(since)`` gives those at or after ``since``.
    ``parse_alert`` understands traps of the fake enterprise :data:`FAKE_TRAP_OID` whose
    varbinds under it carry ``.1`` sequence number, ``.2`` alert code, ``.3`` severity,
    ``.4`` description and ``.5`` the native id of a volume (absent: the storage). A trap of that
    enterprise without a ``.1`` sequence number is the documented malformed fake trap: it raises
    the sdk's ``AlertIncomplete`` (the platform then syncs the storage's alerts); a trap of any
    other OID is a ``BackendError``.

Every wait is a :func:`delfin_like.sdk.cancel.sleep`: a call that passed its
deadline stops at once. Sizes a real array cannot have are refused
(:data:`LIMITS`, e.g. at most 4,096 pools and 5,000,000 volumes), and so are
waits over :data:`MAX_DELAY` seconds.

Performance metrics come from I/O counters that grow with wall-clock time and
are an exact function of it: resource ``r`` with rate ``k`` per second holds
``k * (t_us - epoch_us) // 1_000_000`` at ``t_us`` microseconds since the epoch
(:meth:`FakeStorageDriver.perf_counters` tells any of them), so a test can
check every rate exactly. Options:

``perf_min_interval`` (default 5)
    The finest collection interval declared, in seconds.
``counter_bits`` (64 or 32, default 64)
    Counters wrap at ``2**counter_bits``, as SNMP Counter32 values do.
``perf_epoch`` (default 1700000000)
    When the counters started; a new value is a counter reset (a reboot).
``perf_delay`` / ``perf_error``
    Seconds ``collect_perf_metrics`` sleeps first; or an error name (as ``error``) it raises.
"""

import datetime
import hashlib
import itertools
import threading

from delfin_like.sdk import cancel, driver, exceptions, models, perf, rates

GiB = 1024**3
# volumes per page of a listing (page_delay)
PAGE = 100
MiB = 1024**2
RT = models.ResourceType
_IO_METRICS = rates.IO_METRICS
# resources whose busy time is counted too
_BUSY_TYPES = (RT.CONTROLLER, RT.DISK)
_COUNTER_NAMES = (
    "read_ops",
    "write_ops",
    "read_bytes",
    "write_bytes",
    "read_latency_us",
    "write_latency_us",
    "busy_us",
)
_generations: dict[str, itertools.count] = {}
# the order list_volumes passes a Volume's fields in
_VOLUME_FIELDS = (
    "native_volume_id", "name", "native_storage_pool_id", "status", "type", "wwn",
    "total_capacity", "used_capacity", "free_capacity", "compressed", "deduplicated",
)
if models.field_names(models.Volume)[: len(_VOLUME_FIELDS)] != _VOLUME_FIELDS:
    raise ImportError("the sdk Volume fields changed order: update the fake driver's list_volumes")
_generations_lock = threading.Lock()
# serial -> sequence numbers cleared by clear_alert in this process
_cleared_alerts: dict[str, set[str]] = {}
_cleared_lock = threading.Lock()
# the fake enterprise's notification (and the root of its varbinds)
FAKE_TRAP_OID = "1.3.6.1.4.1.99999.1.1"
_ALERT_SEVERITIES = models.AlertSeverity.ALL[:6]
_ALERT_TYPES = models.AlertType.ALL[:6]
_ALERT_NAMES = ("Disk failure", "Link down", "Pool threshold", "Fan fault", "Login failure", "Latency high")
_ALERT_RESOURCES = ("storage", "storage_pool", "volume", "controller", "port", "disk")

# the most of each a real array has (well beyond the largest arrays sold): more is an input error
LIMITS = {
    "pools": 4096,
    "volumes": 5_000_000,
    "alerts": 1_000_000,
    "controllers": 64,
    "ports_per_controller": 256,
    "disks": 20_000,
}
# seconds: the longest wait any of the delay options may ask for
MAX_DELAY = 3600.0

_ERRORS = {
    "invalid_credentials": exceptions.InvalidCredentials,
    "unreachable": exceptions.BackendUnreachable,
    "backend_error": exceptions.BackendError,
}


def _seconds(attrs: dict, key: str) -> float:
    try:
        value = float(attrs.get(key, 0) or 0)
    except (TypeError, ValueError):
        raise exceptions.InvalidAccessInfo(f"extra_attributes.{key} must be a number")
    if not 0 <= value <= MAX_DELAY:
        raise exceptions.InvalidAccessInfo(f"extra_attributes.{key} must be between 0 and {MAX_DELAY:g} seconds")
    return value


def _int(attrs: dict, key: str, default: int, minimum: int = 0) -> int:
    value = attrs.get(key, default)
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise exceptions.InvalidAccessInfo(f"extra_attributes.{key} must be an integer")
    if value < minimum:
        raise exceptions.InvalidAccessInfo(f"extra_attributes.{key} must be >= {minimum}")
    limit = LIMITS.get(key)
    if limit is not None and value > limit:
        raise exceptions.InvalidAccessInfo(
            f"extra_attributes.{key} must be <= {limit:,} (no real array has more {key.replace('_', ' ')})"
        )
    return value


class FakeStorageDriver(driver.StorageDriver):
    def __init__(self, access_info: models.AccessInfo):
        super().__init__(access_info)
        attrs = access_info.extra_attributes or {}
        self.pools = _int(attrs, "pools", 4, minimum=1)
        self.controllers = _int(attrs, "controllers", 2)
        self.ports_per_controller = _int(attrs, "ports_per_controller", 4)
        self.disks = _int(attrs, "disks", 8)
        self.volumes = _int(attrs, "volumes", 20)
        self.seed = _int(attrs, "seed", 0)
        churn = attrs.get("churn", 0)
        try:
            churn = float(churn)
        except (TypeError, ValueError):
            raise exceptions.InvalidAccessInfo("extra_attributes.churn must be a number")
        if not 0 <= churn <= 50:
            raise exceptions.InvalidAccessInfo("extra_attributes.churn must be between 0 and 50")
        # k deleted + k updated must fit in one generation's volumes
        self.churn_count = min(round(self.volumes * churn / 100), self.volumes // 2)
        # updated volumes sit this far into the survivors: mid-array when it fits
        self._update_offset = min(self.volumes // 2, self.volumes - 2 * self.churn_count)
        self.generation = attrs.get("generation")
        if self.generation is not None:
            self.generation = _int(attrs, "generation", 0)
        self.error = attrs.get("error")
        self.sync_error = attrs.get("sync_error")
        self.delay = _seconds(attrs, "delay")
        self.page_delay = _seconds(attrs, "page_delay")
        self.probe_delay = _seconds(attrs, "probe_delay")
        self.perf_min_interval = _int(attrs, "perf_min_interval", 5, minimum=1)
        self.counter_bits = _int(attrs, "counter_bits", 64, minimum=32)
        if self.counter_bits not in (32, 64):
            raise exceptions.InvalidAccessInfo("extra_attributes.counter_bits must be 32 or 64")
        self.perf_epoch_us = _int(attrs, "perf_epoch", 1_700_000_000) * 1_000_000
        self.perf_error = attrs.get("perf_error")
        self.perf_delay = _seconds(attrs, "perf_delay")
        self.alerts = _int(attrs, "alerts", 0)
        self.alert_epoch = _int(attrs, "alert_epoch", 1_700_000_000)
        self._perf_rates: dict[tuple[str, str], tuple[int, ...]] = {}
        endpoint = access_info.rest or access_info.ssh or access_info.snmp
        self.endpoint = f"{endpoint.host}:{endpoint.port}" if endpoint else "local"
        digest = hashlib.sha256(f"{self.seed}/{self.endpoint}".encode()).hexdigest()[:12].upper()
        self.serial_number = str(attrs.get("serial_number") or f"FAKE{digest}")
        # from the serial: stable across syncs, different for every registered storage
        serial_digest = hashlib.sha256(self.serial_number.encode()).hexdigest()[:6]
        self.name = str(attrs.get("name") or f"fake-array-{serial_digest}")

    def _maybe_fail(self, listing: bool) -> None:
        name = self.error or (self.sync_error if listing else None)
        if name:
            cls = _ERRORS.get(name, exceptions.BackendError)
            raise cls(f"fake back end configured to fail ({name})", detail=f"endpoint {self.endpoint}")

    def _pool_capacity(self, index: int) -> int:
        return (64 + (self.seed * 7 + index * 13) % 64) * 1024 * GiB

    def get_storage(self) -> models.Storage:
        self._maybe_fail(listing=False)
        if self.probe_delay:
            cancel.sleep(self.probe_delay)
        total = sum(self._pool_capacity(i) for i in range(self.pools))
        used = total // 3
        return models.Storage(
            name=self.name,
            vendor="fake_storage",
            model="fake_driver",
            serial_number=self.serial_number,
            status=models.StorageStatus.NORMAL,
            firmware_version="1.0.0",
            location="lab",
            description=f"Fake array at {self.endpoint}",
            raw_capacity=total + total // 4,
            total_capacity=total,
            used_capacity=used,
            free_capacity=total - used,
            subscribed_capacity=used,
        )

    def list_storage_pools(self):
        self._maybe_fail(listing=True)
        for i in range(self.pools):
            total = self._pool_capacity(i)
            used = total // 3
            yield models.StoragePool(
                native_storage_pool_id=f"pool-{i}",
                name=f"pool_{self.seed}_{i}",
                status=models.StoragePoolStatus.NORMAL,
                storage_type=models.StorageType.BLOCK,
                total_capacity=total,
                used_capacity=used,
                free_capacity=total - used,
                subscribed_capacity=used,
                description=f"Fake pool {i}",
            )

    def list_controllers(self):
        self._maybe_fail(listing=True)
        for c in range(self.controllers):
            yield models.Controller(
                native_controller_id=f"ctrl-{c}",
                name=f"controller_{self.seed}_{c}",
                status=models.ControllerStatus.NORMAL,
                location=f"enclosure-0 slot {c}",
                soft_version="1.0.0",
                cpu_info="fake x86-64 8 cores",
                cpu_count=8,
                memory_size=64 * GiB,
                mgmt_ip=f"127.0.1.{c + 1}",
            )

    def list_ports(self):
        self._maybe_fail(listing=True)
        for c in range(self.controllers):
            for j in range(self.ports_per_controller):
                fc = j % 2 == 0
                yield models.Port(
                    native_port_id=f"port-{c}-{j}",
                    name=f"{'FC' if fc else 'ETH'}{c}{j}",
                    type=models.PortType.FC if fc else models.PortType.ISCSI,
                    logical_type=models.PortLogicalType.FRONTEND,
                    connection_status=models.PortConnectionStatus.CONNECTED,
                    health_status=models.PortHealthStatus.NORMAL,
                    location=f"ctrl-{c} port {j}",
                    speed=(16 if fc else 25) * 10**9,
                    max_speed=(32 if fc else 25) * 10**9,
                    native_parent_id=f"ctrl-{c}",
                    wwn=f"50000{self.seed:06x}{c:02x}{j:03x}" if fc else None,
                    mac_address=None if fc else f"02:00:{self.seed % 256:02x}:00:{c:02x}:{j:02x}",
                    ipv4=None if fc else f"127.0.{c + 2}.{j + 1}",
                    ipv4_mask=None if fc else "255.255.255.0",
                )

    def list_disks(self):
        self._maybe_fail(listing=True)
        for d in range(self.disks):
            ssd = d % 4 == 0
            yield models.Disk(
                native_disk_id=f"disk-{d}",
                name=f"disk_{self.seed}_{d}",
                status=models.DiskStatus.NORMAL,
                physical_type=models.DiskPhysicalType.SSD if ssd else models.DiskPhysicalType.SAS,
                logical_type=models.DiskLogicalType.MEMBER,
                capacity=(4 if ssd else 8) * 1024 * GiB,
                location=f"enclosure-0 bay {d}",
                firmware="F100",
                manufacturer="FakeDisk",
                model="FD-SSD" if ssd else "FD-SAS",
                serial_number=f"FD{self.seed:04d}{d:06d}",
                speed=None if ssd else 10000,
                health_score=100,
                native_disk_group_id=f"pool-{d % self.pools}",
            )

    def _next_generation(self) -> int:
        if self.generation is not None:
            return self.generation
        if not self.churn_count:
            return 0
        key = f"{self.serial_number}"
        with _generations_lock:
            counter = _generations.setdefault(key, itertools.count())
            return next(counter)

    def volume_indices(self, generation: int) -> range:
        """Indices of the volumes present at ``generation`` (a sliding window)."""
        start = generation * self.churn_count
        return range(start, start + self.volumes)

    def list_volumes(self):
        self._maybe_fail(listing=True)
        generation = self._next_generation()
        if self.delay:
            cancel.sleep(self.delay)
        seed, k, half, page_delay = self.seed, self.churn_count, self._update_offset, self.page_delay
        Volume, available = models.Volume, models.VolumeStatus.AVAILABLE
        kinds = (models.VolumeType.THICK, models.VolumeType.THIN)  # by i % 2
        # the same string objects for every volume of a pool, and the prefixes formatted once
        pool_ids = [f"pool-{p}" for p in range(self.pools)]
        pools = len(pool_ids)
        name_prefix, wwn_prefix = f"volume_{seed}_", f"6000{seed:08x}"
        indices = self.volume_indices(generation)
        # updated once, at generation (i - half) // k, if that is in 1..generation: i in [first, last)
        first, last = (half + k, half + k * (generation + 1)) if k else (0, 0)
        for i in indices:
            size = (1 + (i * 2654435761 + seed) % 1024) * GiB
            if page_delay and i > indices.start and (i - indices.start) % PAGE == 0:
                cancel.sleep(page_delay)
            used = size // 3 if first <= i < last else size // 2
            # positional, in _VOLUME_FIELDS order (checked at import): a third cheaper than keywords
            yield Volume(
                f"vol-{i}", f"{name_prefix}{i}", pool_ids[i % pools], available, kinds[i % 2],
                f"{wwn_prefix}{i:020x}", size, used, size - used, i % 3 == 0, i % 5 == 0,
            )

    # -- performance ------------------------------------------------------------------

    def get_capabilities(self):
        self._maybe_fail(listing=False)
        resources = {}
        for resource_type in RT.ALL:
            metrics = _IO_METRICS + (("utilization",) if resource_type in _BUSY_TYPES else ())
            resources[resource_type] = perf.ResourceCapability(metrics, self.perf_min_interval, is_historic=False)
        return perf.capabilities(resources)

    def perf_resources(self, resource_type: str) -> list[tuple[str, str]]:
        """``(native id, name)`` of every resource of a type that has counters."""
        seed = self.seed
        if resource_type == RT.STORAGE:
            return [(self.serial_number, self.name)]
        if resource_type == RT.STORAGE_POOL:
            return [(f"pool-{i}", f"pool_{seed}_{i}") for i in range(self.pools)]
        if resource_type == RT.VOLUME:
            return [(f"vol-{i}", f"volume_{seed}_{i}") for i in self.volume_indices(self.generation or 0)]
        if resource_type == RT.CONTROLLER:
            return [(f"ctrl-{c}", f"controller_{seed}_{c}") for c in range(self.controllers)]
        if resource_type == RT.PORT:
            return [
                (f"port-{c}-{j}", f"{'FC' if j % 2 == 0 else 'ETH'}{c}{j}")
                for c in range(self.controllers)
                for j in range(self.ports_per_controller)
            ]
        if resource_type == RT.DISK:
            return [(f"disk-{d}", f"disk_{seed}_{d}") for d in range(self.disks)]
        raise exceptions.NotSupported(f"no counters for resource type {resource_type!r}")

    def _rates(self, resource_type: str, resource_id: str) -> tuple[int, ...]:
        key = (resource_type, resource_id)
        rates = self._perf_rates.get(key)
        if rates is None:
            h = int.from_bytes(
                hashlib.blake2b(f"{self.seed}/{resource_type}/{resource_id}".encode(), digest_size=8).digest(), "big"
            )
            read_ops, write_ops = 50 + h % 5000, 20 + (h >> 13) % 3000
            latency_us = 100 + (h >> 26) % 4900
            busy_us = 1000 * ((h >> 39) % 1000) if resource_type in _BUSY_TYPES else 0  # per second
            rates = (
                read_ops,
                write_ops,
                (1 + (h >> 49) % 400) * MiB,
                (1 + (h >> 57) % 120) * MiB,
                read_ops * latency_us,
                write_ops * latency_us,
                busy_us,
            )
            self._perf_rates[key] = rates
        return rates

    def perf_counters(self, resource_type: str, resource_id: str, at: float) -> dict[str, int]:
        """The counters of one resource at ``at`` (seconds since the epoch), wrapped at ``counter_bits``."""
        elapsed_us = max(0, round(at * 1_000_000) - self.perf_epoch_us)
        modulus = 1 << self.counter_bits
        return {
            name: (rate * elapsed_us // 1_000_000) % modulus
            for name, rate in zip(_COUNTER_NAMES, self._rates(resource_type, resource_id), strict=True)
        }

    def collect_perf_metrics(self, resource_metrics, start, end):
        """Read every resource's counters at ``end`` and turn them into samples (see the module docstring)."""
        if self.perf_error:
            cls = _ERRORS.get(self.perf_error, exceptions.BackendError)
            raise cls(f"fake back end configured to fail collection ({self.perf_error})")
        if self.perf_delay:
            cancel.sleep(self.perf_delay)
        for resource_type, wanted in resource_metrics.items():
            yield from self._collect(resource_type, tuple(wanted), end)

    def _collect(self, resource_type: str, wanted: tuple[str, ...], at: float):
        for resource_id, name in self.perf_resources(resource_type):
            cancel.check()
            counters = self.perf_counters(resource_type, resource_id, at)
            yield from rates.io_samples(
                self.counters, resource_type, resource_id, name, at, counters, wanted, width=self.counter_bits
            )

    # -- alerts -------------------------------------------------------------------------

    def _alert_resource(self, kind: str, h: int) -> str | None:
        if kind == "storage":
            return self.serial_number
        count = {"storage_pool": self.pools, "volume": self.volumes, "controller": self.controllers,
                 "port": self.controllers * self.ports_per_controller, "disk": self.disks}[kind]
        if not count:
            return self.serial_number
        n = h % count
        if kind == "storage_pool":
            return f"pool-{n}"
        if kind == "volume":
            return f"vol-{n}"
        if kind == "controller":
            return f"ctrl-{n}"
        if kind == "port":
            return f"port-{n // self.ports_per_controller}-{n % self.ports_per_controller}"
        return f"disk-{n}"

    def alert(self, i: int) -> models.Alert:
        """Alert ``i`` of the event log (0-based), as list_alerts gives it."""
        h = int.from_bytes(hashlib.blake2b(f"{self.seed}/alert/{i}".encode(), digest_size=8).digest(), "big")
        kind = h % 6
        resource = _ALERT_RESOURCES[(h >> 8) % 6]
        native_id = self._alert_resource(resource, h >> 16)
        if native_id == self.serial_number:
            resource = "storage"
        severity = _ALERT_SEVERITIES[(h >> 4) % 6]
        sequence = str(i + 1)
        with _cleared_lock:
            cleared = i % 5 == 4 or sequence in _cleared_alerts.get(self.serial_number, ())
        faulty = severity in ("fatal", "critical", "major")
        return models.Alert(
            sequence_number=sequence,
            alert_id=f"FAKE{kind:02d}{(h >> 24) % 100:02d}",
            alert_name=_ALERT_NAMES[kind],
            severity=severity,
            category=models.AlertCategory.FAULT if faulty else models.AlertCategory.EVENT,
            type=_ALERT_TYPES[kind],
            description=f"{_ALERT_NAMES[kind]} on {resource} {native_id}",
            occur_time=datetime.datetime.fromtimestamp(self.alert_epoch + 60 * i, datetime.UTC),
            resource_type=resource,
            native_resource_id=native_id,
            location=f"{resource}:{native_id}",
            recovery_advice="Replace the part" if kind in (0, 3) else None,
            cleared=cleared,
        )

    def list_alerts(self, since=None):
        self._maybe_fail(listing=True)
        first = 0
        if since is not None:
            if since.tzinfo is None:
                raise exceptions.InvalidAccessInfo("since must be timezone-aware")
            # alert i occurred at epoch + 60 i: the first at or after since
            first = max(0, -(-(int(since.timestamp() * 1_000_000) - self.alert_epoch * 1_000_000) // 60_000_000))
        for i in range(first, self.alerts):
            cancel.check()
            yield self.alert(i)

    def clear_alert(self, sequence_number):
        self._maybe_fail(listing=False)
        try:
            i = int(sequence_number) - 1
        except (TypeError, ValueError):
            i = -1
        if not 0 <= i < self.alerts or str(i + 1) != sequence_number:
            raise exceptions.BackendError(f"the array has no alert {sequence_number!r}")
        with _cleared_lock:
            _cleared_alerts.setdefault(self.serial_number, set()).add(sequence_number)

    def parse_alert(self, trap):
        if trap.trap_oid != FAKE_TRAP_OID:
            raise exceptions.BackendError(f"not a fake array notification ({trap.trap_oid})")
        base = FAKE_TRAP_OID.rsplit(".", 1)[0]
        fields = {}
        for oid, value in trap.varbinds:
            if oid.startswith(base + ".") and oid[len(base) + 1 :].isdigit():
                fields.setdefault(int(oid[len(base) + 1 :]), value)
        sequence = fields.get(1)
        if not sequence:
            raise exceptions.AlertIncomplete("fake notification without a sequence number")
        severity = fields.get(3, models.AlertSeverity.NOT_SPECIFIED)
        if severity not in models.AlertSeverity.ALL:
            severity = models.AlertSeverity.NOT_SPECIFIED
        volume = fields.get(5)
        return models.Alert(
            sequence_number=sequence,
            alert_id=fields.get(2, "FAKETRAP"),
            alert_name=fields.get(2, "FAKETRAP"),
            severity=severity,
            category=models.AlertCategory.FAULT,
            type=models.AlertType.EQUIPMENT,
            description=fields.get(4, ""),
            occur_time=trap.received_at,
            resource_type="volume" if volume else "storage",
            native_resource_id=volume or self.serial_number,
            location=f"trap from {trap.source_address}",
        )
