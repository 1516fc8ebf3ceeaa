"""diff.StoredFingerprints: the compact form of the stored fingerprints a sync diffs against."""

import pytest

from delfin_like import diff
from delfin_like.db.sqlalchemy.utils import new_ids
from delfin_like.sdk import models


def _rows(n, start=0):
    ids = new_ids(n)
    return [(f"vol-{start + i}", ids[i], f"{(start + i) * 7919:032x}") for i in range(n)]


def _volume(i, **kw):
    return models.Volume(native_volume_id=f"vol-{i}", name=f"volume_{i}", **kw)


@pytest.mark.parametrize("pages", [1, 3])
def test_it_reads_back_exactly_what_was_stored(pages):
    rows = _rows(3000)
    stored = diff.StoredFingerprints()
    size = len(rows) // pages
    for at in range(0, len(rows), size):
        stored.extend(rows[at:at + size])
    assert len(stored) == 3000
    assert dict(stored.items()) == {n: (i, f) for n, i, f in rows}
    assert stored["vol-17"] == (rows[17][1], rows[17][2])
    assert stored.get("vol-3000") is None and "vol-3000" not in stored and "vol-0" in stored
    assert list(stored) == [n for n, _, _ in rows]


def test_canonical_rows_are_held_as_bytes():
    stored = diff.StoredFingerprints(_rows(1000))
    assert len(stored._digests) == 16_000 and len(stored._row_ids) == 16_000
    assert not stored._odd_row_ids and not stored._odd_fingerprints


@pytest.mark.parametrize(
    "row_id",
    [
        "row-vol-1",  # not a UUID (the unit tests' ids, a foreign row)
        "0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B",  # a UUID, but not as this service writes it (upper case)
        "12345678-1234-1234-1234-123456789012",  # only digits: kept as text, no case to check
        "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5" + " ",  # 36 characters with a trailing blank
        "0190a1b2c-3d4-7e5f-8a9b-0c1d2e3f4a5b",  # dashes in the wrong places
        None,
    ],
)
def test_any_other_row_id_comes_back_unchanged(row_id):
    rows = _rows(5)
    rows[2] = ("vol-2", row_id, rows[2][2])
    for stored in (diff.StoredFingerprints(rows), diff.StoredFingerprints(rows[:2]), None):
        if stored is None:
            stored = diff.StoredFingerprints()
            for row in rows:
                stored.extend([row])
        else:
            stored.extend(rows[len(stored):])
        assert stored["vol-2"][0] == row_id
        assert dict(stored.items()) == {n: (i, f) for n, i, f in rows}


@pytest.mark.parametrize("fp", ["abc", "0" * 30 + "  ", "Z" * 32, "", None, "00" * 17])
def test_a_fingerprint_that_is_not_a_digest_comes_back_and_never_matches(fp):
    volume = _volume(1)
    rows = [("vol-1", new_ids(1)[0], fp), ("vol-2", new_ids(1)[0], diff.fingerprint(_volume(2)))]
    stored = diff.StoredFingerprints(rows)
    assert stored["vol-1"][1] == fp
    changes = diff.compute_changes("volumes", stored, [volume, _volume(2)])
    assert [m.native_volume_id for _, m, _ in changes.updated] == ["vol-1"]
    assert changes.updated[0][2] == diff.fingerprint(volume) and changes.unchanged == 1


def test_an_all_zero_fingerprint_stands_for_itself():
    # the digest kept for an odd fingerprint is all zeros: a real all-zero one is a digest like any other
    stored = diff.StoredFingerprints([("vol-1", new_ids(1)[0], "0" * 32)])
    assert stored["vol-1"][1] == "0" * 32 and not stored._odd_fingerprints


def test_a_native_id_stored_twice_is_refused():
    rows = _rows(10)
    with pytest.raises(ValueError, match="vol-3"):
        diff.StoredFingerprints(rows + [rows[3]])
    stored = diff.StoredFingerprints(rows)
    with pytest.raises(ValueError, match="vol-4"):
        stored.extend(_rows(10, start=4))
    assert dict(stored.items()) == {n: (i, f) for n, i, f in rows}


def test_compute_changes_gives_the_same_answer_from_the_mapping_and_the_compact_form():
    volumes = [_volume(i, total_capacity=i) for i in range(2000)]
    ids = new_ids(len(volumes))
    mapping = {v.native_volume_id: (ids[k], diff.fingerprint(v)) for k, v in enumerate(volumes)}
    snapshot = [v for v in volumes if v.total_capacity % 7] + [_volume(5000), _volume(5001)]
    at = next(k for k, v in enumerate(snapshot) if v.native_volume_id == "vol-11")
    snapshot[at] = _volume(11, total_capacity=-1)
    compact = diff.StoredFingerprints((n, i, f) for n, (i, f) in mapping.items())
    a = diff.compute_changes("volumes", mapping, snapshot)
    b = diff.compute_changes("volumes", compact, snapshot)
    assert a.counts() == b.counts() == {"added": 2, "updated": 1, "deleted": 286, "unchanged": 1713}
    assert sorted(a.deleted) == sorted(b.deleted) == sorted(ids[k] for k in range(0, 2000, 7))
    assert a.updated == b.updated == [(ids[11], snapshot[at], diff.fingerprint(snapshot[at]))]


def test_a_duplicate_after_a_stored_row_was_seen_raises():
    stored = diff.StoredFingerprints(_rows(3))
    with pytest.raises(diff.DuplicateNativeId) as info:
        diff.compute_changes("volumes", stored, [_volume(0), _volume(1), _volume(9), _volume(1)])
    assert info.value.native_id == "vol-1"


def test_lengths_that_only_add_up_do_not_pass_for_canonical():
    # a 35- and a 37-character id (and fingerprint) sum to two canonical lengths; each must come back as it was
    ids = new_ids(2)
    rows = [
        ("vol-0", ids[0][:-1], "ab" * 15 + "c"),
        ("vol-1", "a" + ids[1], "d" + "ef" * 16),
    ]
    stored = diff.StoredFingerprints(rows)
    assert dict(stored.items()) == {n: (i, f) for n, i, f in rows}
    assert set(stored._odd_row_ids.values()) == {rows[0][1], rows[1][1]}
