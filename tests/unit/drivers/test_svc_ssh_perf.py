"""``ibm svc_ssh`` performance pieces: the simulator's counters command and the driver's reading of it."""

import pytest

from delfin_like.sdk import exceptions, rates
from delfin_like_drivers.ibm import svc_output, svc_perf
from delfin_like_drivers.simulator import svc_cli, svc_views
from delfin_like_drivers.simulator.model import SimulatedArray


@pytest.fixture
def array():
    array = SimulatedArray(name="perf-sim", pools=2, volumes=5, nodes=2, disks_per_pool=2, seed=5)
    array.advance(40)
    return array


def _rows(array, kind: str, at: float = 1714557600.0) -> list[dict[str, str]]:
    """The rows the driver reads of ``lsiostatscounters <kind> -delim :`` (rendered, then parsed back)."""

    def read(ids):
        clock, counters = array.counters_many(ids)
        return at + clock, counters

    view, opts = svc_cli.execute(array.snapshot(), f"{svc_views.STATS_COMMAND} {kind} -delim :", read_counters=read)
    return list(svc_output.table(svc_cli.render(view, opts), svc_views.STATS_COMMAND))


def test_the_command_prints_each_objects_counters_with_the_arrays_time(array):
    rows = _rows(array, "vdisk")
    snap = array.snapshot()
    assert [r["id"] for r in rows] == [str(v.number) for v in snap.volumes]
    for row, vol in zip(rows, snap.volumes, strict=True):
        c = snap.counters[vol.id]
        assert row["name"] == vol.name and row["timestamp"] == "2024-05-01T10:00:40.000000Z"
        assert [int(row[k]) for k in ("read_ops", "write_ops", "read_bytes", "write_bytes")] == [
            c.read_ops,
            c.write_ops,
            c.read_bytes,
            c.write_bytes,
        ]
        assert (int(row["read_latency_us"]), int(row["write_latency_us"])) == (c.read_latency_us, c.write_latency_us)


def test_ports_have_no_latency_columns_and_the_inventorys_ids(array):
    fc, ip = _rows(array, "fcport"), _rows(array, "ipport")
    assert "read_latency_us" not in fc[0] and "read_latency_us" not in ip[0]
    assert [(r["node_id"], r["id"], r["port_id"]) for r in fc] == [("1", "0", "1"), ("1", "1", "2"), ("2", "8", "1"),
                                                                   ("2", "9", "2")]  # fmt: skip
    assert [(r["node_id"], r["id"]) for r in ip] == [("1", "1"), ("1", "2"), ("2", "1"), ("2", "2")]


@pytest.mark.parametrize("command, message", [("lsiostatscounters", "CMMVC5707E"),
                                              ("lsiostatscounters volume", "CMMVC5709E"),
                                              ("lsiostatscounters vdisk -bytes", "CMMVC5709E")])  # fmt: skip
def test_bad_object_types_are_refused(array, command, message):
    with pytest.raises(svc_cli.CliError, match=message):
        svc_cli.execute(array.snapshot(), command)


def test_without_a_live_reader_the_snapshots_counters_are_shown(array):
    view, _ = svc_cli.execute(array.snapshot(), "lsiostatscounters system")
    assert view.rows[0][:3] == [array.serial, "perf-sim", "1970-01-01T00:00:40.000000Z"]


def test_readings_map_objects_onto_the_inventorys_resources(array):
    snap = array.snapshot()
    fc = {native: name for native, name, _, _ in svc_perf.readings("fcport", _rows(array, "fcport"))}
    assert fc == {"fc-0": "perf-sim-n1_fc1", "fc-1": "perf-sim-n1_fc2", "fc-8": "perf-sim-n2_fc1",
                  "fc-9": "perf-sim-n2_fc2"}  # fmt: skip
    ip = [native for native, _, _, _ in svc_perf.readings("ipport", _rows(array, "ipport"))]
    assert ip == ["eth-1-1", "eth-1-2", "eth-2-1", "eth-2-2"]
    drives = [(native, name) for native, name, _, _ in svc_perf.readings("drive", _rows(array, "drive"))]
    assert drives[0] == ("0", "drive0") and len(drives) == len(snap.disks)
    system = list(svc_perf.readings("system", _rows(array, "system")))
    assert system[0][:3] == (array.serial, "perf-sim", 1714557640.0)


def test_a_pools_counters_are_the_sum_of_its_mdisks():
    row = {"timestamp": "2024-05-01T10:00:00Z", "read_latency_us": "0", "write_latency_us": "0", "write_ops": "1",
           "read_bytes": "0", "write_bytes": "0", "mdisk_grp_name": "pool0"}  # fmt: skip
    rows = [
        {**row, "id": "0", "mdisk_grp_id": "0", "read_ops": "10"},
        {**row, "id": "1", "mdisk_grp_id": "0", "read_ops": "5", "timestamp": "2024-05-01T10:00:01Z"},
        {**row, "id": "2", "mdisk_grp_id": "", "read_ops": "99"},  # unmanaged: no pool
        {**row, "id": "3", "mdisk_grp_id": "1", "read_ops": "7", "mdisk_grp_name": "pool1"},
    ]
    got = {
        native: (name, at, c["read_ops"], c["write_ops"]) for native, name, at, c in svc_perf.readings("mdisk", rows)
    }
    assert got == {"0": ("pool0", 1714557601.0, 15, 2), "1": ("pool1", 1714557600.0, 7, 1)}


@pytest.mark.parametrize("change", [{"read_ops": "-1"}, {"read_ops": "many"}, {"timestamp": "now"}, {"read_ops": ""}])
def test_malformed_rows_are_backend_errors(array, change):
    rows = _rows(array, "vdisk")
    rows[1].update(change)
    with pytest.raises(exceptions.BackendError):
        list(svc_perf.readings("vdisk", rows))


def test_a_missing_column_is_a_backend_error(array):
    rows = _rows(array, "node")
    del rows[0]["write_bytes"]
    with pytest.raises(exceptions.BackendError, match="write_bytes"):
        list(svc_perf.readings("node", rows))


def test_samples_chain_rates_over_the_arrays_time_and_skip_a_reset(array):
    tracker = rates.CounterTracker()
    wanted = ("iops", "read_response_time", "read_ops_total")
    snap = array.snapshot()
    vol = snap.volumes[0]
    first = list(svc_perf.samples("volume", "vdisk", _rows(array, "vdisk"), wanted, tracker))
    assert {s.metric for s in first} == {"read_ops_total"} and len(first) == len(snap.volumes)
    before = array.counters(vol.id)
    array.advance(8)
    after = array.counters(vol.id)
    second = {(s.resource_id, s.metric): s for s in svc_perf.samples("volume", "vdisk", _rows(array, "vdisk"),
                                                                      wanted, tracker)}  # fmt: skip
    d_ops = after.read_ops - before.read_ops + after.write_ops - before.write_ops
    assert second[(str(vol.number), "iops")].value == d_ops / 8
    assert (
        second[(str(vol.number), "iops")].interval == 8.0
        and second[(str(vol.number), "iops")].resource_name == vol.name
    )
    assert second[(str(vol.number), "read_response_time")].value == (
        (after.read_latency_us - before.read_latency_us) * 1e-6 / (after.read_ops - before.read_ops)
    )
    array.reset_counters(vol.id)
    array.advance(2)
    third = {(s.resource_id, s.metric) for s in svc_perf.samples("volume", "vdisk", _rows(array, "vdisk"), wanted,
                                                                  tracker)}  # fmt: skip
    assert (str(vol.number), "iops") not in third and (str(vol.number), "read_ops_total") in third
    assert (str(snap.volumes[1].number), "iops") in third
