"""One simulated storage array, seen alike through every protocol the simulator speaks.

The array is generated from a seed and a size, so two simulators started with the
same options hold the same inventory. :meth:`SimulatedArray.churn` changes it the
way a real array changes between polls (volumes created, resized, deleted), and
:meth:`SimulatedArray.advance` moves its clock, which makes every I/O counter grow
(counters never go down; a test that wants a reset or a wrap says so with
:meth:`SimulatedArray.reset_counters`).

Protocol front ends (REST, SSH CLI, SNMP) only read: they take a
:meth:`SimulatedArray.snapshot` (a consistent copy made under the lock) and format
it. Sizes are bytes; the front ends convert to their protocol's units.
"""

import dataclasses
import logging
import random
import threading
import time
import zlib

LOG = logging.getLogger(__name__)
GIB = 1024**3
TIB = 1024**4


@dataclasses.dataclass
class Counters:
    """Monotonic I/O counters of one resource (ops, bytes, and summed latency in microseconds)."""

    read_ops: int = 0
    write_ops: int = 0
    read_bytes: int = 0
    write_bytes: int = 0
    read_latency_us: int = 0
    write_latency_us: int = 0


@dataclasses.dataclass
class Rates:
    """How fast a resource's counters grow, per second of the array's clock."""

    read_iops: int
    write_iops: int
    read_bps: int
    write_bps: int
    latency_us: int  # per operation


@dataclasses.dataclass
class Faults:
    """Misbehaviour a front end shows on request (tests switch it on and off at run time)."""

    delay: float = 0.0  # seconds to wait before each response (or each page of a listing)
    drop_after: int | None = None  # close the connection after this many records of a listing
    malformed: bool = False  # answer with output the client cannot parse


@dataclasses.dataclass
class SimPool:
    id: str  # native id, e.g. "pool-0003"
    name: str
    total: int
    status: str = "online"  # online | offline | degraded


@dataclasses.dataclass
class SimVolume:
    id: str  # native id: a UUID-shaped string, stable for the life of the volume
    name: str
    pool_id: str
    size: int
    used: int
    thin: bool
    wwn: str
    status: str = "online"  # online | offline
    number: int = 0  # creation sequence number, unique for the array's life (SVC-style numeric vdisk ids)


@dataclasses.dataclass
class SimNode:
    id: str  # "node-1"
    name: str
    status: str  # online | offline
    version: str
    mgmt_ip: str
    cpu_count: int
    memory: int  # bytes
    location: str


@dataclasses.dataclass
class SimPort:
    id: str  # "node-1:fc-0" / "node-1:e0a"
    name: str
    node_id: str
    kind: str  # fc | eth
    speed: int  # bits per second
    status: str  # up | down
    wwn: str | None = None  # fc
    mac: str | None = None  # eth
    ipv4: str | None = None  # eth
    ipv4_mask: str | None = None


@dataclasses.dataclass
class SimDisk:
    id: str  # "disk-0007"
    name: str
    pool_id: str | None  # None: a spare
    capacity: int
    kind: str  # ssd | hdd | nvme
    vendor: str
    model: str
    serial: str
    firmware: str
    status: str = "online"  # online | failed | offline
    rpm: int | None = None  # hdd only
    location: str = ""


@dataclasses.dataclass
class SimEvent:
    """One entry of the array's event log, protocol-neutral: each front end names it its way.

    ``kind`` is the resource kind (system, node, pool, volume, port, disk) and ``resource_id``
    the model's id of it. The codes (``svc_error_code``/``svc_event_id``, ``ems_name``) are the
    simulator's catalogue (:data:`EVENT_CATALOGUE`), shaped like the vendors' but not their list.
    """

    sequence: int  # unique for the array's life, growing
    time: float  # seconds since the epoch (UTC)
    kind: str
    resource_id: str
    resource_name: str
    severity: str  # error | warning | informational
    svc_error_code: str  # "" for a message (no fix procedure)
    svc_event_id: str
    ems_name: str
    message: str
    fixed: bool = False


# kind -> (severity, SVC error code, SVC event id, EMS message name, text): the simulator's own catalogue
EVENT_CATALOGUE = {
    "disk": ("error", "1690", "010070", "disk.outOfService", "Drive failed"),
    "port": ("error", "1060", "073002", "vifmgr.portdown", "Port link down"),
    "pool": ("warning", "1865", "083001", "wafl.aggr.nearlyFull", "Pool capacity warning threshold exceeded"),
    "node": ("error", "1195", "074001", "cf.fsm.takeover", "Node missing"),
    "volume": ("informational", "", "980440", "wafl.vol.online", "Volume online"),
    "system": ("informational", "", "980500", "mgmt.config.backup", "Configuration backup completed"),
}


@dataclasses.dataclass
class Snapshot:
    """A consistent, private copy of the array at one instant of its clock."""

    name: str
    serial: str
    vendor: str
    model: str
    version: str
    location: str
    status: str
    clock: float
    pools: list[SimPool]
    volumes: list[SimVolume]
    nodes: list[SimNode]
    ports: list[SimPort]
    disks: list[SimDisk]
    counters: dict[str, Counters]  # by resource id (volumes, ports, disks, pools, nodes and the array's serial)
    generation: int = 0  # SimulatedArray.generation when the copy was made
    events: list[SimEvent] = dataclasses.field(default_factory=list)  # the event log, oldest first

    def pool_used(self, pool_id: str) -> int:
        return sum(v.used for v in self.volumes if v.pool_id == pool_id)

    @property
    def total(self) -> int:
        return sum(p.total for p in self.pools)

    @property
    def used(self) -> int:
        return sum(v.used for v in self.volumes)

    @property
    def raw(self) -> int:
        return sum(d.capacity for d in self.disks)


class SimulatedArray:
    """A deterministic, thread-safe array model; see the module docstring."""

    def __init__(
        self,
        name: str = "sim-array-1",
        pools: int = 4,
        volumes: int = 100,
        nodes: int = 2,
        disks_per_pool: int = 4,
        seed: int = 1,
        serial: str | None = None,
        events: int = 6,
    ):
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self.seed = seed
        self.name = name
        self.serial = serial or f"SIM{seed:04d}{zlib.crc32(name.encode()) % 10**6:06d}"
        self.vendor = "Simulated"
        self.model = "SimArray 9000"
        self.version = "9.14.1"
        self.location = "lab row 1 rack 3"
        self.status = "ok"  # ok | degraded | error
        self.clock = 0.0  # seconds of simulated time since start; only advance() moves it
        # grows by one with every inventory change (churn, set_status): front ends cache formatted listings by it
        self.generation = 0
        self._volume_seq = 0
        self.pools: dict[str, SimPool] = {}
        self.volumes: dict[str, SimVolume] = {}
        self.nodes: dict[str, SimNode] = {}
        self.ports: dict[str, SimPort] = {}
        self.disks: dict[str, SimDisk] = {}
        self._rates: dict[str, Rates] = {}
        self._base: dict[str, Counters] = {}  # counters at clock 0 (or at the last reset)
        # per protocol ("rest", "ssh", "snmp"): what its front end should get wrong
        self.faults: dict[str, Faults] = {"rest": Faults(), "ssh": Faults(), "snmp": Faults()}
        self.events: dict[int, SimEvent] = {}
        self._event_seq = 100
        self._event_listeners: list = []  # called with each event raise_event logs (e.g. to send its trap)
        self.started_at = time.time()
        self._build(pools, volumes, nodes, disks_per_pool)
        self._build_events(events)

    # -- construction ------------------------------------------------------------------

    def _build(self, pools: int, volumes: int, nodes: int, disks_per_pool: int) -> None:
        rng = self._rng
        for n in range(1, nodes + 1):
            node = SimNode(
                id=f"node-{n}",
                name=f"{self.name}-n{n}",
                status="online",
                version=self.version,
                mgmt_ip=f"192.0.2.{10 + n}",
                cpu_count=16,
                memory=256 * GIB,
                location=f"chassis 1 slot {n}",
            )
            self.nodes[node.id] = node
            self._add_rates(node.id)
            for p in range(2):
                fc = SimPort(
                    id=f"{node.id}:fc{p}",
                    name=f"fc{p}",
                    node_id=node.id,
                    kind="fc",
                    speed=32 * 10**9,
                    status="up",
                    wwn=f"50:05:07:68:0{n}:{p:02x}:{rng.randrange(256):02x}:{rng.randrange(256):02x}",
                )
                eth = SimPort(
                    id=f"{node.id}:e0{'ab'[p]}",
                    name=f"e0{'ab'[p]}",
                    node_id=node.id,
                    kind="eth",
                    speed=25 * 10**9,
                    status="up" if p == 0 else "down",
                    mac=f"02:00:00:{n:02x}:{p:02x}:{rng.randrange(256):02x}",
                    ipv4=f"198.51.100.{n * 10 + p}",
                    ipv4_mask="255.255.255.0",
                )
                for port in (fc, eth):
                    self.ports[port.id] = port
                    self._add_rates(port.id)
        disk_no = 0
        for p in range(pools):
            pool = SimPool(id=f"pool-{p:04d}", name=f"{self.name}_pool_{p}", total=rng.choice((50, 100, 200)) * TIB)
            self.pools[pool.id] = pool
            self._add_rates(pool.id)
            for _ in range(disks_per_pool):
                self._add_disk(disk_no, pool.id)
                disk_no += 1
        self._add_disk(disk_no, None)  # one hot spare
        for _ in range(volumes):
            self._create_volume()
        self._add_rates(self.serial)

    def _build_events(self, count: int) -> None:
        """``count`` past events, one an hour-ish ago every ten minutes, cycling the catalogue's kinds
        over the first resource of each kind; every fourth is already fixed. Uses no shared randomness,
        so the inventory is the same with or without events."""
        kinds = list(EVENT_CATALOGUE)
        for k in range(count):
            kind = kinds[k % len(kinds)]
            resource_id = self._first(kind)
            if resource_id is None:
                continue
            self._log(kind, resource_id, self.started_at - 3600 + 600 * k, fixed=k % 4 == 3)

    def _first(self, kind: str) -> str | None:
        if kind == "system":
            return self.serial
        if kind == "port":  # a Fibre Channel port where there is one
            fc = [p.id for p in self.ports.values() if p.kind == "fc"]
            return min(fc) if fc else (min(self.ports) if self.ports else None)
        items = {"disk": self.disks, "port": self.ports, "pool": self.pools, "node": self.nodes,
                 "volume": self.volumes}[kind]  # fmt: skip
        return min(items) if items else None

    def _resource_name(self, kind: str, resource_id: str) -> str:
        if kind == "system":
            return self.name
        items = {"disk": self.disks, "port": self.ports, "pool": self.pools, "node": self.nodes,
                 "volume": self.volumes}[kind]  # fmt: skip
        return items[resource_id].name

    def _log(self, kind: str, resource_id: str, at: float, fixed: bool = False, severity: str | None = None):
        severity_default, code, event_id, ems, text = EVENT_CATALOGUE[kind]
        self._event_seq += 1
        name = self._resource_name(kind, resource_id)
        event = SimEvent(
            sequence=self._event_seq, time=at, kind=kind, resource_id=resource_id, resource_name=name,
            severity=severity or severity_default, svc_error_code=code, svc_event_id=event_id, ems_name=ems,
            message=f"{text}: {name}", fixed=fixed,
        )  # fmt: skip
        self.events[event.sequence] = event
        return event

    # -- the event log ------------------------------------------------------------------

    def add_event_listener(self, listener) -> None:
        """Call ``listener(event)`` (a copy) after each event :meth:`raise_event` logs, outside the lock;
        a listener that raises is logged and the others still run (the event stays logged)."""
        with self._lock:
            self._event_listeners.append(listener)

    def raise_event(self, kind: str, resource_id: str | None = None, severity: str | None = None) -> SimEvent:
        """Log an event of the catalogue's ``kind`` about ``resource_id`` (default: the first resource
        of that kind) now, tell the event listeners (who send its traps); returns it.

        :raises ValueError: an unknown kind, or no such resource.
        """
        if kind not in EVENT_CATALOGUE:
            raise ValueError(f"no event of kind {kind!r}")
        if severity is not None and severity not in ("error", "warning", "informational"):
            raise ValueError(f"no severity {severity!r}")
        with self._lock:
            resource_id = resource_id or self._first(kind)
            try:
                self._resource_name(kind, resource_id)
            except KeyError:
                raise ValueError(f"the array has no {kind} {resource_id!r}") from None
            event = self._log(kind, resource_id, time.time(), severity=severity)
            self.generation += 1
            event, listeners = dataclasses.replace(event), list(self._event_listeners)
        for listener in listeners:
            try:
                listener(dataclasses.replace(event))
            except Exception:  # noqa: BLE001 - a failed trap must not undo the event
                LOG.exception("event %s of %s: a listener failed", event.sequence, self.name)
        return event

    def event_snapshot(self) -> Snapshot:
        """A Snapshot of the event log and the nodes only (the rest empty): cheap on a big array."""
        with self._lock:
            copy = dataclasses.replace
            return Snapshot(
                name=self.name, serial=self.serial, vendor=self.vendor, model=self.model, version=self.version,
                location=self.location, status=self.status, clock=self.clock, pools=[], volumes=[],
                nodes=[copy(n) for n in self.nodes.values()], ports=[], disks=[], counters={},
                generation=self.generation, events=[copy(e) for e in self.events.values()],
            )  # fmt: skip

    def fix_event(self, sequence: int) -> bool:
        """Mark an event fixed (``cheventlog -fix``); False if the log has no such event."""
        with self._lock:
            event = self.events.get(sequence)
            if event is None:
                return False
            event.fixed = True
            self.generation += 1
            return True

    def _add_disk(self, number: int, pool_id: str | None) -> None:
        rng = self._rng
        kind = rng.choice(("ssd", "hdd", "nvme"))
        disk = SimDisk(
            id=f"disk-{number:04d}",
            name=f"drive{number}",
            pool_id=pool_id,
            capacity=rng.choice((4, 8, 16)) * TIB,
            kind=kind,
            vendor=rng.choice(("SEAGATE", "KIOXIA", "SAMSUNG")),
            model=f"MZ{rng.randrange(1000, 9999)}",
            serial=f"S{self.seed:02d}{number:06d}",
            firmware=f"FW{rng.randrange(10, 99)}",
            rpm=7200 if kind == "hdd" else None,
            location=f"enclosure 1 bay {number}",
        )
        self.disks[disk.id] = disk
        self._add_rates(disk.id)

    def _add_rates(self, resource_id: str) -> None:
        rng = self._rng
        self._rates[resource_id] = Rates(
            read_iops=rng.randrange(50, 5000),
            write_iops=rng.randrange(20, 3000),
            read_bps=rng.randrange(1, 400) * 1024**2,
            write_bps=rng.randrange(1, 200) * 1024**2,
            latency_us=rng.randrange(100, 5000),
        )
        self._base[resource_id] = Counters()

    def _create_volume(self) -> SimVolume:
        rng = self._rng
        self._volume_seq += 1
        seq = self._volume_seq
        pool_id = rng.choice(list(self.pools))
        size = rng.choice((1, 2, 5, 10, 50, 100)) * GIB
        thin = rng.random() < 0.5
        used = rng.randrange(0, size // GIB + 1) * GIB if thin else size
        native = f"{self.seed:08x}-{seq >> 16:04x}-4{seq & 0xFFF:03x}-8000-{seq:012x}"
        vol = SimVolume(
            id=native,
            name=f"vol_{seq:06d}",
            pool_id=pool_id,
            size=size,
            used=used,
            thin=thin,
            wwn=f"600a0980{self.seed:08x}{seq:016x}",
            number=seq,
        )
        self.volumes[vol.id] = vol
        self._add_rates(vol.id)
        return vol

    # -- change over time --------------------------------------------------------------

    def churn(self, created: int = 0, resized: int = 0, deleted: int = 0) -> dict[str, list[str]]:
        """Create, resize and delete volumes; returns the native ids touched per change kind."""
        with self._lock:
            out: dict[str, list[str]] = {"created": [], "resized": [], "deleted": []}
            for vol_id in self._rng.sample(sorted(self.volumes), min(deleted, len(self.volumes))):
                del self.volumes[vol_id]
                self._rates.pop(vol_id, None)
                self._base.pop(vol_id, None)
                out["deleted"].append(vol_id)
            for vol_id in self._rng.sample(sorted(self.volumes), min(resized, len(self.volumes))):
                vol = self.volumes[vol_id]
                vol.size += GIB
                if not vol.thin:
                    vol.used = vol.size
                out["resized"].append(vol_id)
            for _ in range(created):
                out["created"].append(self._create_volume().id)
            self.generation += 1
            return out

    def advance(self, seconds: float) -> None:
        """Move the array's clock forward; every counter grows by its rate times ``seconds``."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self.clock += seconds

    def reset_counters(self, resource_id: str) -> None:
        """Make one resource's counters start again from zero now (as after a controller reboot)."""
        with self._lock:
            self._base[resource_id] = self._counters_at(resource_id, self.clock, negate=True)

    def set_status(self, kind: str, resource_id: str, status: str) -> None:
        """Set the status of a pool, volume, node, port or disk (``kind`` is the dict name)."""
        with self._lock:
            getattr(self, kind)[resource_id].status = status
            self.generation += 1

    # -- reading ------------------------------------------------------------------------

    def _counters_at(self, resource_id: str, clock: float, negate: bool = False) -> Counters:
        rate = self._rates[resource_id]
        base = self._base[resource_id]
        sign = -1 if negate else 1
        r_ops = int(rate.read_iops * clock)
        w_ops = int(rate.write_iops * clock)
        return Counters(
            read_ops=sign * r_ops + (0 if negate else base.read_ops),
            write_ops=sign * w_ops + (0 if negate else base.write_ops),
            read_bytes=sign * int(rate.read_bps * clock) + (0 if negate else base.read_bytes),
            write_bytes=sign * int(rate.write_bps * clock) + (0 if negate else base.write_bytes),
            read_latency_us=sign * r_ops * rate.latency_us + (0 if negate else base.read_latency_us),
            write_latency_us=sign * w_ops * rate.latency_us + (0 if negate else base.write_latency_us),
        )

    def counters(self, resource_id: str) -> Counters:
        """The counters of one resource at the current clock."""
        with self._lock:
            return self._counters_at(resource_id, self.clock)

    def counters_many(self, resource_ids) -> tuple[float, dict[str, Counters]]:
        """The clock and the counters of several resources at that one instant (unknown ids are left out)."""
        with self._lock:
            clock = self.clock
            return clock, {rid: self._counters_at(rid, clock) for rid in resource_ids if rid in self._rates}

    def snapshot(self) -> Snapshot:
        """A consistent deep copy, for a front end to format without holding the lock."""
        with self._lock:
            copy = dataclasses.replace
            return Snapshot(
                name=self.name,
                serial=self.serial,
                vendor=self.vendor,
                model=self.model,
                version=self.version,
                location=self.location,
                status=self.status,
                clock=self.clock,
                pools=[copy(p) for p in self.pools.values()],
                volumes=[copy(v) for v in self.volumes.values()],
                nodes=[copy(n) for n in self.nodes.values()],
                ports=[copy(p) for p in self.ports.values()],
                disks=[copy(d) for d in self.disks.values()],
                counters={rid: self._counters_at(rid, self.clock) for rid in self._rates},
                generation=self.generation,
                events=[copy(e) for e in self.events.values()],
            )


class WallClock(threading.Thread):
    """Advances an array's clock with real time (for demos and perf collection), until stopped."""

    def __init__(self, array: SimulatedArray, period: float = 1.0):
        super().__init__(name=f"clock-{array.name}", daemon=True)
        self.array = array
        self.period = period
        self._stop_event = threading.Event()

    def run(self) -> None:
        last = time.monotonic()
        while not self._stop_event.wait(self.period):
            now = time.monotonic()
            self.array.advance(now - last)
            last = now

    def stop(self) -> None:
        self._stop_event.set()
