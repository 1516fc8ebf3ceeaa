"""Where the NVMe facts come from: nvme-cli on the node, or recorded JSON files.

:class:`NvmeCliSource` runs ``nvme list -o json -v``, ``nvme id-ctrl <dev> -o json``
and ``nvme smart-log <dev> -o json``; :class:`FixtureSource` reads the same JSON
from a directory (``nvme-list.json``, ``<controller>-id-ctrl.json``,
``<controller>-smart-log.json``), so a machine without NVMe devices serves a
realistic node. :class:`NvmeReader` turns either into parsed inventory.

Recorded counters never move; a FixtureSource made with ``io_rate`` R > 0 makes
them grow with the agent's monotonic clock, one step per whole second since the
source was made: controller ``nvmeN`` gains (N + 1) x R x (4 host read commands,
2 data units read, 2 host write commands, 1 data unit written) per second (256 kB
per command), and one busy minute per 60 seconds. Each reading is stamped with
the whole second it shows (see :meth:`FixtureSource.reading_time`).
"""

import json
import math
import os
import re
import subprocess
import time

from delfin_like_drivers.csd import nvme

CONTROLLER_NAME = re.compile(r"^nvme\d+$")
FIXTURES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


class NvmeUnavailable(Exception):
    """nvme-cli (or the fixture) could not give an answer."""


class UnknownController(LookupError):
    """No controller of that name on this node."""


def check_controller_name(name: str) -> str:
    """``name`` if it looks like a kernel controller name (``nvme<N>``); UnknownController otherwise."""
    if not isinstance(name, str) or not CONTROLLER_NAME.match(name):
        raise UnknownController(f"no NVMe controller {name!r}")
    return name


class NvmeCliSource:
    """Runs nvme-cli; every call is bounded by ``timeout`` seconds."""

    kind = "nvme-cli"

    def __init__(self, executable: str = "nvme", timeout: float = 15.0):
        self.executable = executable
        self.timeout = timeout

    def _run(self, *args: str) -> dict:
        argv = [self.executable, *args]
        try:
            done = subprocess.run(
                argv, capture_output=True, timeout=self.timeout, check=False, stdin=subprocess.DEVNULL
            )
        except FileNotFoundError:
            raise NvmeUnavailable(f"nvme-cli not found ({self.executable}); install nvme-cli or use fixtures")
        except subprocess.TimeoutExpired:
            raise NvmeUnavailable(f"'{' '.join(argv)}' did not finish within {self.timeout:g} s")
        if done.returncode != 0:
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
            raise NvmeUnavailable(f"'{' '.join(argv)}' exited with {done.returncode}: {tail[0]}")
        text = done.stdout.decode(errors="replace").strip()
        if not text:
            # some builds print nothing at all when there is no device
            return {"Devices": []} if args[:1] == ("list",) else {}
        try:
            return json.loads(text)
        except ValueError as e:
            raise NvmeUnavailable(f"'{' '.join(argv)}' printed no valid JSON ({e})")

    def list(self) -> dict:
        return self._run("list", "-o", "json", "-v")

    def id_ctrl(self, controller: str) -> dict:
        return self._run("id-ctrl", f"/dev/{check_controller_name(controller)}", "-o", "json")

    def smart_log(self, controller: str, elapsed: int = 0) -> dict:
        return self._run("smart-log", f"/dev/{check_controller_name(controller)}", "-o", "json")

    def reading_time(self) -> tuple[float, int]:
        """(seconds since the epoch, 0): nvme-cli reads the devices now."""
        return time.time(), 0


class FixtureSource:
    """Reads recorded nvme-cli JSON from ``directory``."""

    kind = "fixtures"

    def __init__(self, directory: str, io_rate: int = 0, clock=time.monotonic):
        if not os.path.isfile(os.path.join(directory, "nvme-list.json")):
            raise NvmeUnavailable(f"{directory} holds no nvme-list.json")
        if not isinstance(io_rate, int) or io_rate < 0:
            raise NvmeUnavailable(f"the fixture I/O rate must be a whole number >= 0, not {io_rate!r}")
        self.directory = directory
        self.io_rate = io_rate
        self._clock = clock
        self._started = clock()
        # whole seconds, so two readings' timestamps differ by exactly the steps between them
        self._started_at = float(math.floor(time.time()))

    def _read(self, name: str) -> dict:
        path = os.path.join(self.directory, name)
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            raise NvmeUnavailable(f"no fixture {name} in {self.directory}")
        except ValueError as e:
            raise NvmeUnavailable(f"fixture {name} is not valid JSON ({e})")

    def list(self) -> dict:
        return self._read("nvme-list.json")

    def id_ctrl(self, controller: str) -> dict:
        return self._read(f"{check_controller_name(controller)}-id-ctrl.json")

    def smart_log(self, controller: str, elapsed: int = 0) -> dict:
        """The recorded SMART log of ``controller``, grown by ``elapsed`` seconds of ``io_rate``."""
        doc = self._read(f"{check_controller_name(controller)}-smart-log.json")
        if self.io_rate and elapsed > 0:
            doc = grow_smart_log(doc, controller, self.io_rate, elapsed)
        return doc

    def reading_time(self) -> tuple[float, int]:
        """(seconds since the epoch, whole seconds of growth) of a reading now; with no ``io_rate``
        the counters do not move and the time is the wall clock's."""
        if not self.io_rate:
            return time.time(), 0
        elapsed = max(0, int(self._clock() - self._started))
        return self._started_at + elapsed, elapsed


# per second and per unit of rate: (SMART field, increase)
FIXTURE_GROWTH = (
    ("host_read_commands", 4),
    ("data_units_read", 2),
    ("host_write_commands", 2),
    ("data_units_written", 1),
)


def grow_smart_log(doc: dict, controller: str, io_rate: int, elapsed: int) -> dict:
    """A copy of the SMART log JSON ``doc`` of ``controller`` after ``elapsed`` seconds at ``io_rate``
    (see the module docstring); counters become exact ints."""
    factor = (int(controller[4:]) + 1) * io_rate * elapsed
    out = dict(doc)
    for field, step in FIXTURE_GROWTH:
        out[field] = nvme.to_int(nvme.get(doc, field), field) + step * factor
    busy = nvme.get(doc, "controller_busy_time", "ctrl_busy_time")
    out["controller_busy_time"] = nvme.to_int(busy, "controller_busy_time") + elapsed // 60
    out.pop("ctrl_busy_time", None)
    return out


class NvmeReader:
    """Parsed NVMe facts of the node from a source (reads afresh on every call)."""

    def __init__(self, source):
        self.source = source

    @property
    def kind(self) -> str:
        return self.source.kind

    def _parse(self, parser, *args):
        try:
            return parser(*args)
        except nvme.NvmeFormatError as e:
            raise NvmeUnavailable(f"unexpected nvme-cli output: {e}")

    def inventory(self) -> nvme.Inventory:
        """Subsystems, controllers and namespaces; Identify data of each controller merged in."""
        listing = self._parse(nvme.parse_list, self.source.list())
        id_ctrls = {}
        for subsystem in listing.subsystems:
            for ctrl in subsystem.controllers:
                if CONTROLLER_NAME.match(ctrl.name):
                    id_ctrls[ctrl.name] = self._parse(nvme.parse_id_ctrl, self.source.id_ctrl(ctrl.name))
        return nvme.build_inventory(listing, id_ctrls)

    def controller_names(self) -> list[str]:
        listing = self._parse(nvme.parse_list, self.source.list())
        return sorted(c.name for s in listing.subsystems for c in s.controllers)

    def smart_log(self, controller: str, known: list[str] | None = None, elapsed: int | None = None) -> nvme.SmartLog:
        """The SMART log of ``controller``; UnknownController if the node has no such controller.

        :param elapsed: the growth step of fixture counters (from :meth:`reading_time`; None: now).
        """
        check_controller_name(controller)
        if controller not in (known if known is not None else self.controller_names()):
            raise UnknownController(f"no NVMe controller {controller!r}")
        if elapsed is None:
            elapsed = self.source.reading_time()[1]
        return self._parse(nvme.parse_smart_log, self.source.smart_log(controller, elapsed), controller)

    def reading_time(self) -> tuple[float, int]:
        """(seconds since the epoch, fixture growth step) of a reading now: one instant for many logs."""
        return self.source.reading_time()


def make_source(fixtures_dir: str | None, executable: str = "nvme", timeout: float = 15.0, io_rate: int = 0):
    """A FixtureSource for ``fixtures_dir`` (``"builtin"``: the shipped two-device node; counters
    growing at ``io_rate``), else nvme-cli (``io_rate`` must then be 0)."""
    if fixtures_dir:
        return FixtureSource(FIXTURES_DIR if fixtures_dir == "builtin" else fixtures_dir, io_rate)
    if io_rate:
        raise NvmeUnavailable("a fixture I/O rate needs fixtures (--nvme-fixtures)")
    return NvmeCliSource(executable, timeout)
