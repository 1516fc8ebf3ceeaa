"""Parsing nvme-cli's JSON into an NVMe inventory: pure functions, no I/O.

nvme-cli 2.x prints the same facts in several shapes, and these parsers accept
all of them:

- ``nvme list -o json -v``: ``{"Devices": [{"HostNQN", "Subsystems": [...]}]}``
  (later 2.x), ``{"Devices": [<subsystem>, ...]}`` (early 2.x), or the flat
  non-verbose list ``{"Devices": [{"DevicePath", "SerialNumber", ...}]}``.
  Namespaces sit under the subsystem (native multipath) or under each controller.
- Numbers: 128-bit counters (``data_units_read``, ``tnvmcap``, ...) arrive as
  JSON integers beyond 2^64, as decimal strings (some 2.x builds quote them) or
  as floats (old builds). Integers and strings are kept exact (Python ints);
  a float is the best its source could do.
- ``critical_warning`` is an integer, or with ``-v`` an object whose ``value``
  holds the bits. Strings from identify data are space-padded and are stripped.

Key lookup ignores case. Missing optional facts become 0 or "" rather than
errors; a value that is present but not a number raises :class:`NvmeFormatError`.
"""

import dataclasses
import math
import os
import re

DATA_UNIT_BYTES = 512_000  # one SMART "data unit" is a thousand 512-byte blocks

# critical warning bits of the SMART / health log
CW_SPARE = 0x01
CW_TEMPERATURE = 0x02
CW_RELIABILITY = 0x04
CW_READ_ONLY = 0x08
CW_VOLATILE_BACKUP = 0x10
CW_PMR_READ_ONLY = 0x20


class NvmeFormatError(ValueError):
    """nvme-cli output that cannot be understood."""


_frozen = dataclasses.dataclass(frozen=True)


@_frozen
class Namespace:
    name: str
    subsystem_nqn: str
    nsid: int
    device_path: str
    size_bytes: int
    used_bytes: int
    sector_size: int
    max_lba: int


@_frozen
class Controller:
    name: str
    subsystem_nqn: str
    cntlid: int
    model: str
    serial_number: str
    firmware: str
    transport: str
    address: str
    state: str
    namespaces: tuple[str, ...] = ()


@_frozen
class Subsystem:
    name: str
    nqn: str
    model: str
    serial_number: str
    firmware: str
    total_capacity: int
    unallocated_capacity: int
    controllers: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    vendor_id: int = 0


@_frozen
class IdCtrl:
    """The parts of Identify Controller the inventory uses."""

    vendor_id: int
    serial_number: str
    model: str
    firmware: str
    cntlid: int
    total_capacity: int
    unallocated_capacity: int
    subsystem_nqn: str


@_frozen
class SmartLog:
    controller: str
    critical_warning: int
    temperature_kelvin: int
    available_spare: int
    available_spare_threshold: int
    percentage_used: int
    data_units_read: int
    data_units_written: int
    host_read_commands: int
    host_write_commands: int
    controller_busy_time: int
    power_cycles: int
    power_on_hours: int
    unsafe_shutdowns: int
    media_errors: int
    num_err_log_entries: int
    warning_temp_time: int
    critical_comp_time: int
    temperature_sensors_kelvin: tuple[int, ...] = ()


@_frozen
class ListedController:
    """A controller as ``nvme list`` shows it (before Identify Controller is merged in)."""

    name: str
    serial_number: str
    model: str
    firmware: str
    transport: str
    address: str
    state: str
    namespaces: tuple[Namespace, ...] = ()


@_frozen
class ListedSubsystem:
    name: str
    nqn: str
    controllers: tuple[ListedController, ...]
    namespaces: tuple[Namespace, ...]


@_frozen
class NvmeList:
    host_nqn: str
    host_id: str
    subsystems: tuple[ListedSubsystem, ...]


@_frozen
class Inventory:
    host_nqn: str
    subsystems: tuple[Subsystem, ...]
    controllers: tuple[Controller, ...]
    namespaces: tuple[Namespace, ...]


# ---------------------------------------------------------------- value helpers


def get(doc: dict, *names: str, default=None):
    """The value of the first of ``names`` present in ``doc``, compared without case."""
    if not isinstance(doc, dict):
        return default
    for name in names:
        if name in doc:
            return doc[name]
    lowered = {k.lower(): v for k, v in doc.items() if isinstance(k, str)}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return default


_NUMBER = re.compile(r"^\s*(0[xX][0-9a-fA-F]+|\d+)(?:\.0*)?\s*([A-Za-z%]*)\s*$")


def to_int(value, field: str = "value", default: int | None = 0) -> int | None:
    """A non-negative integer from whatever nvme-cli printed; ``default`` when absent.

    Integers and numeric strings (decimal, ``0x`` hex, an optional unit suffix
    such as ``"311 K"``) are exact at any size; floats are truncated.
    """
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise NvmeFormatError(f"{field}: expected a number, got a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise NvmeFormatError(f"{field}: {value!r} is not a finite number")
        number = int(value)
    elif isinstance(value, str):
        match = _NUMBER.match(value)
        if not match:
            raise NvmeFormatError(f"{field}: {value!r} is not a number")
        digits = match.group(1)
        number = int(digits, 16) if digits[:2].lower() == "0x" else int(digits)
    elif isinstance(value, dict) and "value" in value:
        return to_int(value["value"], field, default)
    else:
        raise NvmeFormatError(f"{field}: expected a number, got {type(value).__name__}")
    if number < 0:
        raise NvmeFormatError(f"{field}: {number} is negative")
    return number


def to_str(value) -> str:
    """A stripped string ("" for None); identify strings are space padded."""
    if value is None:
        return ""
    return str(value).strip().rstrip("\x00").strip()


def _list(value, field: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise NvmeFormatError(f"{field}: expected a list, got {type(value).__name__}")
    return value


# ---------------------------------------------------------------- nvme list


def _device_path(name: str) -> str:
    return name if name.startswith("/") else f"/dev/{name}"


def _namespace(doc: dict, subsystem_nqn: str) -> Namespace:
    raw_name = get(doc, "NameSpace", "Namespace", "DevicePath", "Name")
    nsid = get(doc, "NSID", "nsid")
    if isinstance(raw_name, int) and not isinstance(raw_name, bool):
        # the flat list gives the NSID as "NameSpace" and the node as "DevicePath"
        nsid = raw_name if nsid is None else nsid
        raw_name = get(doc, "DevicePath")
    name = os.path.basename(to_str(raw_name))
    if not name:
        raise NvmeFormatError("a namespace has no name")
    if nsid is None:
        found = re.search(r"n(\d+)$", name)
        nsid = int(found.group(1)) if found else 0
    sector = to_int(get(doc, "SectorSize", "LBASize"), "SectorSize")
    max_lba = to_int(get(doc, "MaximumLBA"), "MaximumLBA")
    size = to_int(get(doc, "PhysicalSize"), "PhysicalSize", default=None)
    if size is None:
        size = max_lba * sector
    return Namespace(
        name=name,
        subsystem_nqn=subsystem_nqn,
        nsid=to_int(nsid, "NSID"),
        device_path=_device_path(to_str(get(doc, "DevicePath")) or name),
        size_bytes=size,
        used_bytes=to_int(get(doc, "UsedBytes"), "UsedBytes"),
        sector_size=sector,
        max_lba=max_lba,
    )


def _controller(doc: dict, subsystem_nqn: str) -> ListedController:
    name = to_str(get(doc, "Controller", "Name"))
    if not name:
        raise NvmeFormatError("a controller has no name")
    namespaces = tuple(_namespace(ns, subsystem_nqn) for ns in _list(get(doc, "Namespaces"), "Namespaces"))
    return ListedController(
        name=os.path.basename(name),
        serial_number=to_str(get(doc, "SerialNumber")),
        model=to_str(get(doc, "ModelNumber")),
        firmware=to_str(get(doc, "Firmware", "FirmwareRevision")),
        transport=to_str(get(doc, "Transport")),
        address=to_str(get(doc, "Address")),
        state=to_str(get(doc, "State")) or "live",
        namespaces=namespaces,
    )


def _subsystem(doc: dict) -> ListedSubsystem:
    nqn = to_str(get(doc, "SubsystemNQN", "NQN"))
    controllers = tuple(_controller(c, nqn) for c in _list(get(doc, "Controllers"), "Controllers"))
    namespaces = tuple(_namespace(ns, nqn) for ns in _list(get(doc, "Namespaces"), "Namespaces"))
    return ListedSubsystem(
        name=to_str(get(doc, "Subsystem", "Name")), nqn=nqn, controllers=controllers, namespaces=namespaces
    )


def _flat_subsystems(devices: list) -> tuple[ListedSubsystem, ...]:
    """Subsystems from the non-verbose list: one per device serial number."""
    groups: dict[str, list[dict]] = {}
    for device in devices:
        groups.setdefault(to_str(get(device, "SerialNumber")), []).append(device)
    subsystems = []
    for serial, items in groups.items():
        namespaces = tuple(_namespace(item, "") for item in items)
        first = items[0]
        ctrl_name = re.sub(r"n\d+$", "", namespaces[0].name) if namespaces else ""
        controller = ListedController(
            name=ctrl_name,
            serial_number=serial,
            model=to_str(get(first, "ModelNumber", "ProductName")),
            firmware=to_str(get(first, "Firmware")),
            transport="",
            address="",
            state="live",
            namespaces=namespaces,
        )
        subsystems.append(ListedSubsystem(name="", nqn="", controllers=(controller,), namespaces=()))
    return tuple(subsystems)


def parse_list(doc) -> NvmeList:
    """``nvme list -o json [-v]`` output (any 2.x shape) -> :class:`NvmeList`."""
    if not isinstance(doc, dict):
        raise NvmeFormatError("nvme list: expected a JSON object")
    devices = _list(get(doc, "Devices"), "Devices")
    host_nqn = host_id = ""
    subsystems: list[ListedSubsystem] = []
    flat = []
    for device in devices:
        if not isinstance(device, dict):
            raise NvmeFormatError("nvme list: a device is not an object")
        if get(device, "Subsystems") is not None:
            host_nqn = host_nqn or to_str(get(device, "HostNQN"))
            host_id = host_id or to_str(get(device, "HostID"))
            subsystems.extend(_subsystem(s) for s in _list(get(device, "Subsystems"), "Subsystems"))
        elif get(device, "Controllers") is not None or get(device, "SubsystemNQN") is not None:
            subsystems.append(_subsystem(device))
        else:
            flat.append(device)
    subsystems.extend(_flat_subsystems(flat))
    return NvmeList(host_nqn=host_nqn, host_id=host_id, subsystems=tuple(subsystems))


# ---------------------------------------------------------------- id-ctrl, smart-log


def parse_id_ctrl(doc) -> IdCtrl:
    """``nvme id-ctrl -o json`` output -> :class:`IdCtrl`."""
    if not isinstance(doc, dict):
        raise NvmeFormatError("nvme id-ctrl: expected a JSON object")
    return IdCtrl(
        vendor_id=to_int(get(doc, "vid"), "vid"),
        serial_number=to_str(get(doc, "sn")),
        model=to_str(get(doc, "mn")),
        firmware=to_str(get(doc, "fr")),
        cntlid=to_int(get(doc, "cntlid"), "cntlid"),
        total_capacity=to_int(get(doc, "tnvmcap"), "tnvmcap"),
        unallocated_capacity=to_int(get(doc, "unvmcap"), "unvmcap"),
        subsystem_nqn=to_str(get(doc, "subnqn")),
    )


def _kelvin(doc: dict) -> int:
    kelvin = get(doc, "temperature_kelvin")
    if kelvin is not None:
        return to_int(kelvin, "temperature_kelvin")
    celsius = get(doc, "temperature_celsius")
    if celsius is not None:
        return to_int(celsius, "temperature_celsius") + 273
    value = get(doc, "temperature")
    if isinstance(value, str) and re.search(r"\d\s*°?C\b", value):
        return to_int(value.replace("°", ""), "temperature") + 273
    return to_int(value, "temperature")


def parse_smart_log(doc, controller: str) -> SmartLog:
    """``nvme smart-log -o json [-v]`` output of ``controller`` -> :class:`SmartLog`."""
    if not isinstance(doc, dict):
        raise NvmeFormatError("nvme smart-log: expected a JSON object")

    def n(*names: str) -> int:
        return to_int(get(doc, *names), names[0])

    sensors = []
    for i in range(1, 9):
        value = get(doc, f"temperature_sensor_{i}")
        if value is not None:
            sensors.append(to_int(value, f"temperature_sensor_{i}"))
    return SmartLog(
        controller=controller,
        critical_warning=n("critical_warning"),
        temperature_kelvin=_kelvin(doc),
        available_spare=n("avail_spare", "available_spare"),
        available_spare_threshold=n("spare_thresh", "available_spare_threshold"),
        percentage_used=n("percent_used", "percentage_used"),
        data_units_read=n("data_units_read"),
        data_units_written=n("data_units_written"),
        host_read_commands=n("host_read_commands", "host_reads"),
        host_write_commands=n("host_write_commands", "host_writes"),
        controller_busy_time=n("controller_busy_time", "ctrl_busy_time"),
        power_cycles=n("power_cycles"),
        power_on_hours=n("power_on_hours"),
        unsafe_shutdowns=n("unsafe_shutdowns"),
        media_errors=n("media_errors"),
        num_err_log_entries=n("num_err_log_entries"),
        warning_temp_time=n("warning_temp_time"),
        critical_comp_time=n("critical_comp_time"),
        temperature_sensors_kelvin=tuple(sensors),
    )


# ---------------------------------------------------------------- inventory


def build_inventory(listing: NvmeList, id_ctrls: dict[str, IdCtrl]) -> Inventory:
    """Merge ``nvme list`` with each controller's Identify data into one inventory.

    :param id_ctrls: controller name -> its :class:`IdCtrl` (missing ones are tolerated).
    :returns: subsystems, controllers and namespaces, each sorted by name.
    """
    subsystems, controllers, namespaces = [], [], {}
    for listed in listing.subsystems:
        idents = [id_ctrls[c.name] for c in listed.controllers if c.name in id_ctrls]
        ident = idents[0] if idents else None
        nqn = (
            listed.nqn
            or (ident.subsystem_nqn if ident else "")
            or (f"nqn.serial:{listed.controllers[0].serial_number}" if listed.controllers else "")
        )
        sub_namespaces = {ns.name: dataclasses.replace(ns, subsystem_nqn=nqn) for ns in listed.namespaces}
        for ctrl in listed.controllers:
            ctrl_ident = id_ctrls.get(ctrl.name)
            own = [dataclasses.replace(ns, subsystem_nqn=nqn) for ns in ctrl.namespaces]
            sub_namespaces.update((ns.name, ns) for ns in own)
            controllers.append(
                Controller(
                    name=ctrl.name,
                    subsystem_nqn=nqn,
                    cntlid=ctrl_ident.cntlid if ctrl_ident else 0,
                    model=ctrl.model or (ctrl_ident.model if ctrl_ident else ""),
                    serial_number=ctrl.serial_number or (ctrl_ident.serial_number if ctrl_ident else ""),
                    firmware=ctrl.firmware or (ctrl_ident.firmware if ctrl_ident else ""),
                    transport=ctrl.transport,
                    address=ctrl.address,
                    state=ctrl.state,
                    # with native multipath the namespaces belong to the subsystem: every controller reaches them
                    namespaces=tuple(sorted(ns.name for ns in own))
                    or tuple(sorted(ns.name for ns in listed.namespaces)),
                )
            )
        namespaces.update(sub_namespaces)
        first = listed.controllers[0] if listed.controllers else None
        ns_total = sum(ns.size_bytes for ns in sub_namespaces.values())
        total = ident.total_capacity if ident and ident.total_capacity else ns_total
        unallocated = ident.unallocated_capacity if ident and ident.total_capacity else 0
        subsystems.append(
            Subsystem(
                name=listed.name or (f"nvme-subsys-{first.name}" if first else nqn),
                nqn=nqn,
                model=(first.model if first and first.model else (ident.model if ident else "")),
                serial_number=(
                    first.serial_number if first and first.serial_number else (ident.serial_number if ident else "")
                ),
                firmware=(first.firmware if first and first.firmware else (ident.firmware if ident else "")),
                total_capacity=total,
                unallocated_capacity=min(unallocated, total),
                controllers=tuple(sorted(c.name for c in listed.controllers)),
                namespaces=tuple(sorted(sub_namespaces)),
                vendor_id=ident.vendor_id if ident else 0,
            )
        )
    return Inventory(
        host_nqn=listing.host_nqn,
        subsystems=tuple(sorted(subsystems, key=lambda s: s.name)),
        controllers=tuple(sorted(controllers, key=lambda c: c.name)),
        namespaces=tuple(sorted(namespaces.values(), key=lambda ns: ns.name)),
    )


def health_problems(smart: SmartLog) -> list[str]:
    """Human-readable reasons a device needs attention (empty when healthy)."""
    problems = []
    bits = {
        CW_SPARE: "available spare below threshold",
        CW_TEMPERATURE: "temperature outside its thresholds",
        CW_RELIABILITY: "reliability degraded by media or internal errors",
        CW_READ_ONLY: "media placed in read-only mode",
        CW_VOLATILE_BACKUP: "volatile memory backup failed",
        CW_PMR_READ_ONLY: "persistent memory region read-only",
    }
    for bit, text in bits.items():
        if smart.critical_warning & bit:
            problems.append(text)
    if smart.percentage_used >= 100:
        problems.append(f"rated endurance used up ({smart.percentage_used}%)")
    if smart.available_spare < smart.available_spare_threshold and not smart.critical_warning & CW_SPARE:
        problems.append("available spare below threshold")
    return problems
