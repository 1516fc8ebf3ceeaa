"""The simulator's SVC command line, without SSH: what each command prints and refuses."""

import pytest

from delfin_like.sdk import exceptions
from delfin_like_drivers.ibm import svc_output
from delfin_like_drivers.simulator import svc_cli
from delfin_like_drivers.simulator.model import GIB, TIB, SimulatedArray

TABLES = ["lsmdiskgrp", "lsmdisk", "lsvdisk", "lssevdiskcopy", "lsnode", "lsnodecanister", "lsnodehw", "lsportfc",
          "lsportip", "lsdrive"]  # fmt: skip
DETAILS = ["lssystem", "lsvdisk 3", "lsvdisk vol_000004", "lsmdiskgrp 1", "lsmdisk 0", "lsnode 1", "lsnode sim-n2",
           "lsnodehw 2", "lsportfc 8", "lsdrive 5"]  # fmt: skip


@pytest.fixture
def snap():
    array = SimulatedArray(name="sim", pools=3, volumes=40, nodes=2, disks_per_pool=2, seed=3)
    array.set_status("ports", "node-2:fc1", "down")
    return array.snapshot()


def _lines(snap, command):
    view, opts = svc_cli.execute(snap, command)
    return svc_cli.render(view, opts)


@pytest.mark.parametrize("command", TABLES)
def test_every_listing_reads_back_exactly_through_the_drivers_parser(snap, command):
    view, _ = svc_cli.execute(snap, command)
    assert view.rows and all(len(row) == len(view.columns) for row in view.rows)
    rows = list(svc_output.table(_lines(snap, f"{command} -delim :"), command))
    assert rows == [dict(zip(view.columns, row, strict=True)) for row in view.rows]


@pytest.mark.parametrize("command", DETAILS)
def test_every_detailed_view_reads_back_through_the_drivers_parser(snap, command):
    view, _ = svc_cli.execute(snap, command)
    got = svc_output.detail(_lines(snap, f"{command} -delim :"), command)
    first = {}
    for key, value in view.items:
        if key:
            first.setdefault(key, value)
    assert got == first


def test_values_holding_the_delimiter_are_escaped(snap):
    lines = _lines(snap, "lsportip -delim :")
    assert "\\:" in lines[1]  # the MAC address
    [system] = [line for line in _lines(snap, "lssystem -delim :") if line.startswith("console_IP:")]
    assert system == "console_IP:192.0.2.11\\:443"
    # another delimiter needs no escaping of colons
    assert "02:00:00:01" in "\n".join(_lines(snap, "lsportip -delim !"))


def test_capacities_in_units_or_bytes(snap):
    pool = snap.pools[0]
    concise = svc_output.table(_lines(snap, "lsmdiskgrp -delim :"), "lsmdiskgrp")
    in_bytes = svc_output.table(_lines(snap, "lsmdiskgrp -delim : -bytes"), "lsmdiskgrp")
    first, first_bytes = next(concise), next(in_bytes)
    assert first["capacity"] == f"{pool.total // TIB}.00TB" and first_bytes["capacity"] == str(pool.total)
    assert svc_cli.svc_views.capacity(0, False) == "0.00MB"
    assert svc_cli.svc_views.capacity(3 * GIB // 2, False) == "1.50GB"


def test_nohdr_drops_the_header_and_no_delim_pads_columns(snap):
    assert _lines(snap, "lsnode -delim : -nohdr")[0].startswith("1:sim-n1:")
    padded = _lines(snap, "lsnode")
    header = padded[0]
    name_at = header.index("name")
    assert header.startswith("id ") and all(line[name_at:].startswith("sim-n") for line in padded[1:])


def test_the_model_maps_onto_svc_objects(snap):
    thin = {str(v.number) for v in snap.volumes if v.thin}
    copies = list(svc_output.table(_lines(snap, "lssevdiskcopy -delim :"), "lssevdiskcopy"))
    assert {r["vdisk_id"] for r in copies} == thin
    drives = {r["id"]: r for r in svc_output.table(_lines(snap, "lsdrive -delim :"), "lsdrive")}
    spare = drives[str(len(snap.disks) - 1)]
    assert (spare["use"], spare["mdisk_id"]) == ("spare", "")
    ip_rows = list(svc_output.table(_lines(snap, "lsportip -delim :"), "lsportip"))
    assert len(ip_rows) == 2 * sum(p.kind == "eth" for p in snap.ports)
    fc = {r["id"]: r for r in svc_output.table(_lines(snap, "lsportfc -delim :"), "lsportfc")}
    assert (fc["9"]["status"], fc["9"]["port_speed"]) == ("inactive_configured", "N/A")
    assert fc["8"]["status"] == "active" and fc["8"]["port_speed"] == "32Gb"


@pytest.mark.parametrize(
    "command, error",
    [
        ("lsfoo", "CMMVC7205E"),
        ("", "CMMVC7205E"),
        ("mkvdisk -size 1", "CMMVC7205E"),
        ("lsvdisk -frobnicate", "CMMVC5709E"),
        ("lsportfc -bytes", "CMMVC5709E"),
        ("lssystem extra", "CMMVC5709E"),
        ("lsvdisk 1 2", "CMMVC5709E"),
        ("lsvdisk -delim", "CMMVC5707E"),
        ("lsvdisk -delim ::", "CMMVC5707E"),
        ("lsvdisk 'unterminated", "CMMVC5707E"),
        ("lsvdisk 99999", "CMMVC5753E"),
        ("lsnode node9", "CMMVC5753E"),
    ],
)
def test_refused_commands_carry_the_cli_message(snap, command, error):
    with pytest.raises(svc_cli.CliError) as e:
        svc_cli.execute(snap, command)
    assert str(e.value).startswith(error + " ")


def test_svcinfo_prefix_is_accepted(snap):
    assert _lines(snap, "svcinfo lsnode -delim :") == _lines(snap, "lsnode -delim :")


def test_mangled_lines_do_not_parse(snap):
    view, opts = svc_cli.execute(snap, "lsvdisk -delim :")
    lines = svc_cli.render(view, opts)
    mangled = [lines[0]] + [svc_cli.mangle(line, opts) for line in lines[1:]]
    with pytest.raises(exceptions.BackendError, match="malformed output of lsvdisk: line 2 has"):
        list(svc_output.table(mangled, "lsvdisk"))
    view, opts = svc_cli.execute(snap, "lssystem -delim :")
    with pytest.raises(exceptions.BackendError, match="not a name:value pair"):
        svc_output.detail([svc_cli.mangle(line, opts) for line in svc_cli.render(view, opts)], "lssystem")
