"""Where the NVMe facts come from: nvme-cli on the node, or recorded JSON files.

:class:`NvmeCliSource` runs ``nvme list -o json -v``, ``nvme id-ctrl <dev> -o json``
and ``nvme smart-log <dev> -o json``; :class:`FixtureSource` reads the same JSON
from a directory (``nvme-list.json``, ``<controller>-id-ctrl.json``,
``<controller>-smart-log.json``), so a machine without NVMe devices serves a
realistic node. :class:`NvmeReader` turns either into parsed inventory.
"""

import json
import os
import re
import subprocess

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

    def smart_log(self, controller: str) -> dict:
        return self._run("smart-log", f"/dev/{check_controller_name(controller)}", "-o", "json")


class FixtureSource:
    """Reads recorded nvme-cli JSON from ``directory``."""

    kind = "fixtures"

    def __init__(self, directory: str):
        if not os.path.isfile(os.path.join(directory, "nvme-list.json")):
            raise NvmeUnavailable(f"{directory} holds no nvme-list.json")
        self.directory = directory

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

    def smart_log(self, controller: str) -> dict:
        return self._read(f"{check_controller_name(controller)}-smart-log.json")


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

    def smart_log(self, controller: str, known: list[str] | None = None) -> nvme.SmartLog:
        """The SMART log of ``controller``; UnknownController if the node has no such controller."""
        check_controller_name(controller)
        if controller not in (known if known is not None else self.controller_names()):
            raise UnknownController(f"no NVMe controller {controller!r}")
        return self._parse(nvme.parse_smart_log, self.source.smart_log(controller), controller)


def make_source(fixtures_dir: str | None, executable: str = "nvme", timeout: float = 15.0):
    """A FixtureSource for ``fixtures_dir`` (``"builtin"``: the shipped two-device node), else nvme-cli."""
    if fixtures_dir:
        return FixtureSource(FIXTURES_DIR if fixtures_dir == "builtin" else fixtures_dir)
    return NvmeCliSource(executable, timeout)
