"""The simulator's MIB view (what snmpd's pass_persist helpers answer), without snmpd."""

import pytest

from delfin_like_drivers.simulator import snmp_mib as m
from delfin_like_drivers.simulator.model import SimulatedArray
from delfin_like_drivers.simulator.snmp import SnmpFrontEnd


def walk(view: m.MibView, start: tuple, within: tuple | None = None) -> list[tuple]:
    """Every (oid, kind, value) under ``start`` by repeated getnext, as snmpd would ask (bounded)."""
    within = start if within is None else within
    out, oid = [], start
    for _ in range(100_000):
        found = view.next(oid, within)
        if found is None:
            return out
        assert found[0] > oid
        out.append(found)
        oid = found[0]
    raise AssertionError("the walk did not end")


def column(view: m.MibView, entry: tuple, number: int) -> dict[tuple, object]:
    prefix = entry + (number,)
    return {oid[len(prefix) :]: value for oid, _, value in walk(view, prefix)}


@pytest.fixture
def array():
    return SimulatedArray(name="mib", pools=2, volumes=6, nodes=1, disks_per_pool=2, seed=3)


@pytest.fixture
def built(array):
    builder, ctx = m.Builder(), m.ViewContext(array)
    return builder, ctx, builder.build(array.snapshot(), ctx)


def test_allocation_unit_keeps_counts_inside_integer32():
    assert m.allocation_unit(10 * 1024**3) == 4096
    assert m.allocation_unit(200 * 1024**4, 3 * 1024**3) == 2**17
    assert (200 * 1024**4) // m.allocation_unit(200 * 1024**4) <= m.INT32_MAX


def test_table_order_skips_absent_cells_and_stays_in_its_subtree():
    rows = [((2,), "b"), ((1,), "a"), ((10,), None)]
    table = m.Table((1, 9, 1), [m.Column(3, m.STRING, lambda r: r), m.Column(2, m.INTEGER, lambda r: 7)], rows)
    view = m.MibView([table, m.Scalar((1, 8), m.INTEGER, lambda: 5), m.Scalar((2, 1), m.STRING, lambda: "x")])
    assert view.next((1,), (1,)) == ((1, 8, 0), m.INTEGER, 5)
    assert [o for o, _, _ in walk(view, (1, 9))] == [(1, 9, 1, 2, 1), (1, 9, 1, 2, 2), (1, 9, 1, 2, 10),
                                                      (1, 9, 1, 3, 1), (1, 9, 1, 3, 2)]  # fmt: skip
    assert view.next((1, 9, 1, 3, 2), (1,)) is None  # (2, 1, 0) lies outside the subtree asked
    assert view.get((1, 9, 1, 3, 10)) is None and view.get((1, 9, 1, 3, 1)) == ((1, 9, 1, 3, 1), m.STRING, "a")


def test_format_answer_follows_pass_persist():
    assert m.format_answer(None) == "NONE\n"
    assert m.format_answer(((1, 3, 6), m.OBJECTID, "1.3.6.1")) == ".1.3.6\nobjectid\n.1.3.6.1\n"
    assert m.format_answer(((1,), m.STRING, "two\nlines")) == ".1\nstring\ntwo lines\n"
    assert m.parse_oid(" .1.3.6.1\n") == (1, 3, 6, 1) and m.parse_oid("") == ()
    with pytest.raises(ValueError):
        m.parse_oid(".1.x")


def test_storage_table_holds_pools_then_volumes_by_path(array, built):
    _, _, view = built
    snap = array.snapshot()
    pools = {p.id: p for p in snap.pools}
    descr = column(view, m.HR_STORAGE_ENTRY, 3)
    want = [f"/{p.name}" for p in sorted(snap.pools, key=lambda p: p.id)]
    want += [f"/{pools[v.pool_id].name}/{v.name}" for v in snap.volumes]
    assert list(descr.values()) == want
    units, size, used = (column(view, m.HR_STORAGE_ENTRY, c) for c in (4, 5, 6))
    first_volume = next(i for i, d in descr.items() if d.count("/") == 2)
    vol = snap.volumes[0]
    assert units[first_volume] * size[first_volume] == vol.size and units[first_volume] * used[first_volume] == vol.used
    # the dskTable repeats the paths, with the WWN in the device name
    assert list(column(view, m.DSK_ENTRY, 2).values()) == want
    assert column(view, m.DSK_ENTRY, 3)[first_volume] == f"/dev/disk/by-id/wwn-0x{vol.wwn}"


def test_indexes_survive_churn(array, built):
    builder, ctx, view = built
    before = column(view, m.HR_STORAGE_ENTRY, 3)
    names = {v.id: v.name for v in array.snapshot().volumes}
    changed = array.churn(created=2, deleted=2)
    after = column(builder.build(array.snapshot(), ctx), m.HR_STORAGE_ENTRY, 3)
    deleted = {i for i, d in before.items() if d.rsplit("/", 1)[-1] in {names[v] for v in changed["deleted"]}}
    assert len(deleted) == 2 and not deleted & set(after)
    assert all(after[i] == d for i, d in before.items() if i not in deleted)  # a survivor keeps its row
    new = set(after) - set(before)
    assert len(new) == len(changed["created"]) and min(new) > max(before)  # never a deleted row's index


def test_counters_follow_the_clock_and_faults_break_what_they_say(array, built):
    _, ctx, view = built
    read_x = column(view, m.DISKIO_ENTRY, 12)
    assert set(read_x.values()) == {0}
    array.advance(10)
    later = column(view, m.DISKIO_ENTRY, 12)
    assert all(later[i] > 0 for i in later)
    assert view.get(m.SYSTEM + (3, 0)) == (m.SYSTEM + (3, 0), m.TIMETICKS, 1000)
    ctx.malformed = m.WRONG_TYPE
    units = walk(view, m.HR_STORAGE_ENTRY + (4,))
    assert {(kind, value) for _, kind, value in units} == {(m.STRING, "n/a")}
    ctx.malformed = m.MISSING_COLUMN
    used = column(view, m.HR_STORAGE_ENTRY, 6)
    assert len(used) == len(array.pools)  # volumes lost their hrStorageUsed


def test_counter32_columns_wrap_and_counters64_off_leaves_out_the_64_bit_columns(array, built):
    _, ctx, view = built
    array.advance(100_000)  # far enough for 32-bit byte counters to have wrapped
    snap = array.snapshot()
    names = column(view, m.DISKIO_ENTRY, 2)
    ids = {d.name: d.id for d in snap.disks} | {v.name: v.id for v in snap.volumes}
    for number, field, modulus in ((3, "read_bytes", 2**32), (5, "read_ops", 2**32), (12, "read_bytes", 2**64)):
        got = column(view, m.DISKIO_ENTRY, number)
        assert got == {i: getattr(snap.counters[ids[n]], field) % modulus for i, n in names.items()}, number
    assert any(snap.counters[r].read_bytes >= 2**32 for r in ids.values())  # some did wrap
    port_ids = column(view, m.IF_ENTRY, 2)
    assert column(view, m.IFX_ENTRY, 6) == {i: snap.counters[pid].write_bytes for i, pid in port_ids.items()}
    assert column(view, m.IF_ENTRY, 16) == {i: snap.counters[pid].read_bytes % 2**32 for i, pid in port_ids.items()}

    ctx.counters64 = False
    for entry, number in ((m.DISKIO_ENTRY, 12), (m.DISKIO_ENTRY, 13), (m.IFX_ENTRY, 6), (m.IFX_ENTRY, 10)):
        assert column(view, entry, number) == {}, (entry, number)
    assert len(column(view, m.DISKIO_ENTRY, 3)) == len(names) and len(column(view, m.IF_ENTRY, 10)) == len(port_ids)
    assert len(column(view, m.IFX_ENTRY, 1)) == len(port_ids)  # ifName is still there


def test_ports_disks_and_system(array, built):
    _, _, view = built
    snap = array.snapshot()
    assert sorted(column(view, m.IF_ENTRY, 2).values()) == sorted(p.id for p in snap.ports)
    phys = {column(view, m.IF_ENTRY, 2)[i]: v for i, v in column(view, m.IF_ENTRY, 6).items()}
    fc = next(p for p in snap.ports if p.kind == "fc")
    assert phys[fc.id] == fc.wwn.replace(":", " ")
    assert sorted(column(view, m.IFX_ENTRY, 15).values()) == sorted(p.speed // 10**6 for p in snap.ports)
    assert sorted(column(view, m.HR_DEVICE_ENTRY, 3).values()) == sorted(d.name for d in snap.disks)
    assert set(column(view, m.HR_DISK_STORAGE_ENTRY, 4).values()) <= {m.INT32_MAX}  # 4+ TiB disks saturate
    assert view.get(m.SYSTEM + (5, 0))[2] == array.name
    array.name = "renamed"
    assert view.get(m.SYSTEM + (5, 0))[2] == "renamed"  # the system group is read live


def test_front_end_refuses_bad_settings(array):
    with pytest.raises(ValueError, match="community"):
        SnmpFrontEnd(array, community="two words")
    with pytest.raises(ValueError, match="v3_auth_key"):
        SnmpFrontEnd(array, v3_user="u", v3_auth_key="short", v3_priv_key="long-enough")
    with pytest.raises(ValueError, match="give a community"):
        SnmpFrontEnd(array, community=None)
    with pytest.raises(ValueError, match="malformed_kind"):
        SnmpFrontEnd(array, malformed_kind="everything")
