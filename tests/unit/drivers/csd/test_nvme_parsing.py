"""Parsing nvme-cli JSON: the shipped fixtures, the 2.x shape variants and 128-bit counters."""

import json
import pathlib

import pytest

from delfin_like_drivers.csd import nvme, nvme_source

FIXTURES = pathlib.Path(nvme_source.FIXTURES_DIR)
NQN0 = "nqn.2023-04.io.delfin-like.csd:csd2000:CSD2A0041871"
NQN1 = "nqn.2023-04.io.delfin-like.csd:csd2000:CSD2B0093312"


def _load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def _smart(**overrides) -> dict:
    doc = _load("nvme0-smart-log.json")
    doc.update(overrides)
    return doc


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0, 0),
        (311, 311),
        ("311", 311),
        (" 311 ", 311),
        ("0x1e7a", 0x1E7A),
        ("311 K", 311),
        ("12.000", 12),
        (12.0, 12),
        # beyond 2^53 (a float would round) and beyond 2^64: kept exact
        (2**53 + 1, 2**53 + 1),
        (str(2**53 + 1), 2**53 + 1),
        (2**64 + 12345, 2**64 + 12345),
        ("340282366920938463463374607431768211455", 2**128 - 1),
        ({"value": 5, "available_spare": 1}, 5),
    ],
)
def test_to_int_keeps_exact_values(raw, expected):
    value = nvme.to_int(raw, "f")
    assert value == expected and isinstance(value, int)


@pytest.mark.parametrize("raw", ["abc", "-5", -5, True, [1], float("inf"), "1e5x"])
def test_to_int_refuses_non_numbers(raw):
    with pytest.raises(nvme.NvmeFormatError):
        nvme.to_int(raw, "f")


def test_to_int_default_for_missing():
    assert nvme.to_int(None, "f") == 0
    assert nvme.to_int("", "f", default=None) is None


def test_get_ignores_key_case():
    assert nvme.get({"SubsystemNQN": "x"}, "subsystemnqn") == "x"
    assert nvme.get({"a": 1}, "b", default=7) == 7


# ---------------------------------------------------------------- smart-log


def test_smart_log_fixture():
    smart = nvme.parse_smart_log(_load("nvme1-smart-log.json"), "nvme1")
    assert smart.controller == "nvme1"
    assert smart.critical_warning == 1
    assert smart.temperature_kelvin == 316
    assert (smart.available_spare, smart.available_spare_threshold, smart.percentage_used) == (8, 10, 97)
    assert smart.host_read_commands == 310004577120331
    assert smart.temperature_sensors_kelvin == (316, 322)
    assert nvme.health_problems(smart) == ["available spare below threshold"]


def test_smart_log_128_bit_counters_as_numbers_and_strings():
    huge = 2**64 + 987654321  # a 128-bit counter past uint64
    doc = _smart(
        data_units_read=huge,
        data_units_written=str(2**70 + 3),
        host_read_commands=str(2**53 + 1),
        host_write_commands=2**53 + 3,
    )
    # through a JSON round trip, as the agent receives it
    smart = nvme.parse_smart_log(json.loads(json.dumps(doc)), "nvme0")
    assert smart.data_units_read == huge
    assert smart.data_units_written == 2**70 + 3
    assert smart.host_read_commands == 2**53 + 1
    assert smart.host_write_commands == 2**53 + 3


def test_smart_log_verbose_critical_warning_object_and_old_key_names():
    doc = _smart(
        critical_warning={"value": 12, "available_spare": 0, "temp_threshold": 0, "reliability_degraded": 1, "ro": 1}
    )
    for new, old in (
        ("host_read_commands", "host_reads"),
        ("host_write_commands", "host_writes"),
        ("controller_busy_time", "ctrl_busy_time"),
        ("percent_used", "percentage_used"),
    ):
        doc[old] = doc.pop(new)
    smart = nvme.parse_smart_log(doc, "nvme0")
    assert smart.critical_warning == 12
    assert smart.host_read_commands == 1203881723
    assert smart.controller_busy_time == 2145
    assert smart.percentage_used == 3
    assert nvme.health_problems(smart) == [
        "reliability degraded by media or internal errors",
        "media placed in read-only mode",
    ]


def test_smart_log_float_counters_of_old_builds():
    smart = nvme.parse_smart_log(_smart(data_units_read=48211537.0, power_on_hours=6123.0), "nvme0")
    assert smart.data_units_read == 48211537 and smart.power_on_hours == 6123


@pytest.mark.parametrize(
    ("fields", "kelvin"),
    [
        ({"temperature": 311}, 311),
        ({"temperature": "38 C"}, 311),
        ({"temperature": "38°C"}, 311),
        ({"temperature_kelvin": 300, "temperature": "27 C"}, 300),
        ({"temperature_celsius": 40}, 313),
    ],
)
def test_smart_log_temperature_variants(fields, kelvin):
    doc = _smart()
    doc.pop("temperature")
    doc.update(fields)
    assert nvme.parse_smart_log(doc, "nvme0").temperature_kelvin == kelvin


def test_health_problems_endurance_and_spare_without_bit():
    smart = nvme.parse_smart_log(_smart(percent_used=104, avail_spare=5, spare_thresh=10), "nvme0")
    assert nvme.health_problems(smart) == ["rated endurance used up (104%)", "available spare below threshold"]
    assert nvme.health_problems(nvme.parse_smart_log(_smart(), "nvme0")) == []


def test_smart_log_refuses_garbage():
    with pytest.raises(nvme.NvmeFormatError):
        nvme.parse_smart_log(_smart(media_errors="lots"), "nvme0")
    with pytest.raises(nvme.NvmeFormatError):
        nvme.parse_smart_log([], "nvme0")


# ---------------------------------------------------------------- id-ctrl


def test_id_ctrl_fixture_strips_padding():
    ident = nvme.parse_id_ctrl(_load("nvme0-id-ctrl.json"))
    assert ident.serial_number == "CSD2A0041871"
    assert ident.model == "CSD2000-U2-3T84"
    assert ident.firmware == "2.1.7"
    assert ident.cntlid == 1 and ident.vendor_id == 7802
    assert ident.total_capacity == 3840755982336 and ident.unallocated_capacity == 1240229781504
    assert ident.subsystem_nqn == NQN0


def test_id_ctrl_capacities_as_strings_and_huge():
    doc = _load("nvme0-id-ctrl.json")
    doc.update(tnvmcap=str(2**65), unvmcap="0")
    ident = nvme.parse_id_ctrl(doc)
    assert ident.total_capacity == 2**65 and ident.unallocated_capacity == 0


# ---------------------------------------------------------------- list


def _inventory(listing_doc) -> nvme.Inventory:
    listing = nvme.parse_list(listing_doc)
    id_ctrls = {name: nvme.parse_id_ctrl(_load(f"{name}-id-ctrl.json")) for name in ("nvme0", "nvme1")}
    return nvme.build_inventory(listing, id_ctrls)


def test_list_fixture_multipath_layout():
    inv = _inventory(_load("nvme-list.json"))
    assert inv.host_nqn == "nqn.2014-08.org.nvmexpress:uuid:5b1e0c9a-4c61-4a8e-9f0e-2d7c8a1b3e42"
    assert [(s.name, s.nqn, s.controllers, s.namespaces) for s in inv.subsystems] == [
        ("nvme-subsys0", NQN0, ("nvme0",), ("nvme0n1", "nvme0n2")),
        ("nvme-subsys1", NQN1, ("nvme1",), ("nvme1n1",)),
    ]
    assert [(c.name, c.cntlid, c.serial_number, c.transport, c.address, c.namespaces) for c in inv.controllers] == [
        ("nvme0", 1, "CSD2A0041871", "pcie", "0000:41:00.0", ("nvme0n1", "nvme0n2")),
        ("nvme1", 1, "CSD2B0093312", "pcie", "0000:42:00.0", ("nvme1n1",)),
    ]
    assert [(n.name, n.nsid, n.device_path, n.size_bytes, n.used_bytes, n.sector_size) for n in inv.namespaces] == [
        ("nvme0n1", 1, "/dev/nvme0n1", 1600321314816, 912345600000, 512),
        ("nvme0n2", 2, "/dev/nvme0n2", 1000204886016, 102400000000, 512),
        ("nvme1n1", 1, "/dev/nvme1n1", 7681501126656, 4964369612800, 4096),
    ]
    sub0 = inv.subsystems[0]
    assert (sub0.total_capacity, sub0.unallocated_capacity, sub0.model, sub0.firmware) == (
        3840755982336,
        1240229781504,
        "CSD2000-U2-3T84",
        "2.1.7",
    )


def _early_layout(doc: dict) -> dict:
    """Early 2.x: subsystems straight under Devices, namespaces under each controller."""
    subsystems = []
    for sub in doc["Devices"][0]["Subsystems"]:
        sub = json.loads(json.dumps(sub))
        for ctrl in sub["Controllers"]:
            ctrl["Namespaces"] = sub["Namespaces"]
            ctrl.pop("Paths")
        sub["Namespaces"] = []
        subsystems.append(sub)
    return {"Devices": subsystems}


def test_list_early_layout_gives_the_same_inventory():
    fixture = _load("nvme-list.json")
    latest, early = _inventory(fixture), _inventory(_early_layout(fixture))
    assert early.subsystems == latest.subsystems
    assert early.controllers == latest.controllers
    assert early.namespaces == latest.namespaces
    assert early.host_nqn == ""


def test_list_flat_non_verbose_layout():
    doc = {
        "Devices": [
            {
                "NameSpace": 1,
                "DevicePath": "/dev/nvme0n1",
                "GenericPath": "/dev/ng0n1",
                "Firmware": "2.1.7",
                "ModelNumber": "CSD2000-U2-3T84",
                "SerialNumber": "CSD2A0041871",
                "UsedBytes": "912345600000",
                "MaximumLBA": 3125627568,
                "PhysicalSize": 1600321314816,
                "SectorSize": 512,
            },
            {
                "NameSpace": 2,
                "DevicePath": "/dev/nvme0n2",
                "Firmware": "2.1.7",
                "ModelNumber": "CSD2000-U2-3T84",
                "SerialNumber": "CSD2A0041871",
                "UsedBytes": 102400000000,
                "MaximumLBA": 1953525168,
                "SectorSize": 512,
            },
        ]
    }
    listing = nvme.parse_list(doc)
    inv = nvme.build_inventory(listing, {"nvme0": nvme.parse_id_ctrl(_load("nvme0-id-ctrl.json"))})
    assert [(s.nqn, s.controllers, s.namespaces) for s in inv.subsystems] == [
        (NQN0, ("nvme0",), ("nvme0n1", "nvme0n2"))
    ]
    # PhysicalSize missing: MaximumLBA x SectorSize
    assert [(n.nsid, n.size_bytes, n.used_bytes) for n in inv.namespaces] == [
        (1, 1600321314816, 912345600000),
        (2, 1000204886016, 102400000000),
    ]


def test_list_without_identify_data_falls_back():
    listing = nvme.parse_list(_load("nvme-list.json"))
    inv = nvme.build_inventory(listing, {})
    sub1 = inv.subsystems[1]
    # no TNVMCAP: the namespaces' sizes are the capacity, none unallocated
    assert (sub1.total_capacity, sub1.unallocated_capacity, sub1.vendor_id) == (7681501126656, 0, 0)
    assert all(c.cntlid == 0 for c in inv.controllers)


def test_list_empty_and_malformed():
    assert nvme.parse_list({"Devices": []}).subsystems == ()
    for bad in ([], {"Devices": {}}, {"Devices": ["x"]}):
        with pytest.raises(nvme.NvmeFormatError):
            nvme.parse_list(bad)
    with pytest.raises(nvme.NvmeFormatError):
        nvme.parse_list({"Devices": [{"Subsystems": [{"SubsystemNQN": "n", "Controllers": [{"SerialNumber": "s"}]}]}]})


def test_controller_names_are_checked_before_use():
    assert nvme_source.check_controller_name("nvme12") == "nvme12"
    for bad in ("nvme0n1", "../etc/passwd", "nvme", "", None):
        with pytest.raises(nvme_source.UnknownController):
            nvme_source.check_controller_name(bad)


def test_fixture_source_reads_the_shipped_node():
    reader = nvme_source.NvmeReader(nvme_source.make_source("builtin"))
    assert reader.kind == "fixtures"
    assert [s.nqn for s in reader.inventory().subsystems] == [NQN0, NQN1]
    assert reader.smart_log("nvme0").power_on_hours == 6123
    with pytest.raises(nvme_source.UnknownController):
        reader.smart_log("nvme7")


def test_fixture_source_needs_a_listing(tmp_path):
    with pytest.raises(nvme_source.NvmeUnavailable):
        nvme_source.FixtureSource(str(tmp_path))
    (tmp_path / "nvme-list.json").write_text("{not json")
    with pytest.raises(nvme_source.NvmeUnavailable):
        nvme_source.NvmeReader(nvme_source.FixtureSource(str(tmp_path))).inventory()
