"""delfin_like.diff: the pure change computation behind every sync."""

import ast
import dataclasses
import pathlib

import pytest

from delfin_like import diff
from delfin_like.sdk import models

GiB = 1024**3


def _volume(i: int, **changes) -> models.Volume:
    vol = models.Volume(
        native_volume_id=f"vol-{i}",
        name=f"volume_{i}",
        native_storage_pool_id=f"pool-{i % 4}",
        total_capacity=10 * GiB,
        used_capacity=4 * GiB,
        free_capacity=6 * GiB,
    )
    return dataclasses.replace(vol, **changes) if changes else vol


def _pool(i: int, **changes) -> models.StoragePool:
    pool = models.StoragePool(native_storage_pool_id=f"pool-{i}", name=f"pool_{i}", total_capacity=GiB)
    return dataclasses.replace(pool, **changes) if changes else pool


def _stored(resources, id_attr="native_volume_id") -> dict[str, tuple[str, str]]:
    """What db.api.resource_fingerprints would return for rows written from ``resources``."""
    out = {}
    for r in resources:
        native_id = getattr(r, id_attr)
        out[native_id] = (f"row-{native_id}", diff.fingerprint(r))
    return out


class OneShot:
    """An iterable that may be iterated once only, like a driver's paging generator."""

    def __init__(self, items):
        self.items = list(items)
        self.iterations = 0

    def __iter__(self):
        self.iterations += 1
        if self.iterations > 1:
            raise AssertionError("snapshot iterated twice")
        yield from self.items


def test_added_updated_deleted_unchanged_exact():
    db = _stored(_volume(i) for i in range(10))
    snapshot = [_volume(i) for i in range(8) if i not in (2, 3)]
    snapshot += [_volume(2, used_capacity=5 * GiB, free_capacity=5 * GiB), _volume(3, status="error")]
    snapshot += [_volume(10), _volume(11)]

    changes = diff.compute_changes("volumes", db, snapshot)

    assert changes.resource_type == "volumes"
    assert [m.native_volume_id for m, _ in changes.added] == ["vol-10", "vol-11"]
    assert all(fp == diff.fingerprint(m) for m, fp in changes.added)
    assert sorted((row_id, m.native_volume_id) for row_id, m, _ in changes.updated) == [
        ("row-vol-2", "vol-2"),
        ("row-vol-3", "vol-3"),
    ]
    updated = {m.native_volume_id: (m, fp) for _, m, fp in changes.updated}
    assert updated["vol-2"][0].used_capacity == 5 * GiB
    assert updated["vol-3"][1] == diff.fingerprint(_volume(3, status="error"))
    assert sorted(changes.deleted) == ["row-vol-8", "row-vol-9"]
    assert changes.unchanged == 6
    assert changes.counts() == {"added": 2, "updated": 2, "deleted": 2, "unchanged": 6}
    assert changes.rows_to_write == 6


def test_identical_snapshot_writes_nothing():
    volumes = [_volume(i) for i in range(1000)]
    changes = diff.compute_changes("volumes", _stored(volumes), iter(volumes))
    assert changes.rows_to_write == 0
    assert changes.counts() == {"added": 0, "updated": 0, "deleted": 0, "unchanged": 1000}
    assert (changes.added, changes.updated, changes.deleted) == ([], [], [])


def test_identical_snapshot_of_fresh_objects_writes_nothing():
    # a new sync builds new model objects: equality must come from the values
    db = _stored(_volume(i) for i in range(50))
    changes = diff.compute_changes("volumes", db, (_volume(i) for i in range(50)))
    assert changes.rows_to_write == 0
    assert changes.unchanged == 50


def test_empty_database_adds_everything():
    changes = diff.compute_changes("storage_pools", {}, [_pool(i) for i in range(3)])
    assert [m.native_storage_pool_id for m, _ in changes.added] == ["pool-0", "pool-1", "pool-2"]
    assert changes.counts() == {"added": 3, "updated": 0, "deleted": 0, "unchanged": 0}


def test_empty_snapshot_deletes_everything():
    db = _stored((_pool(i) for i in range(3)), id_attr="native_storage_pool_id")
    changes = diff.compute_changes("storage_pools", db, [])
    assert sorted(changes.deleted) == ["row-pool-0", "row-pool-1", "row-pool-2"]
    assert changes.counts() == {"added": 0, "updated": 0, "deleted": 3, "unchanged": 0}


def test_both_empty():
    changes = diff.compute_changes("volumes", {}, iter(()))
    assert changes.rows_to_write == 0
    assert changes.counts() == {"added": 0, "updated": 0, "deleted": 0, "unchanged": 0}


def test_pools_use_their_own_native_id():
    db = _stored((_pool(i) for i in range(2)), id_attr="native_storage_pool_id")
    changes = diff.compute_changes("storage_pools", db, [_pool(0), _pool(1, name="renamed")])
    assert [(row_id, m.name) for row_id, m, _ in changes.updated] == [("row-pool-1", "renamed")]
    assert changes.unchanged == 1


def test_duplicate_native_id_raises():
    with pytest.raises(diff.DuplicateNativeId) as info:
        diff.compute_changes("volumes", {}, [_volume(1), _volume(2), _volume(1, name="again")])
    assert info.value.resource_type == "volumes"
    assert info.value.native_id == "vol-1"
    assert "vol-1" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_duplicate_of_stored_resource_raises():
    db = _stored([_volume(1)])
    with pytest.raises(diff.DuplicateNativeId):
        diff.compute_changes("volumes", db, [_volume(1), _volume(1)])


def test_snapshot_is_iterated_once():
    db = _stored(_volume(i) for i in range(5))
    snapshot = OneShot([_volume(i) for i in range(1, 7)])
    changes = diff.compute_changes("volumes", db, snapshot)
    assert snapshot.iterations == 1
    assert changes.counts() == {"added": 2, "updated": 0, "deleted": 1, "unchanged": 4}


def test_generator_snapshot_is_consumed_fully_once():
    produced = []

    def pages():
        for i in range(100):
            produced.append(i)
            yield _volume(i)

    gen = pages()
    changes = diff.compute_changes("volumes", {}, gen)
    assert produced == list(range(100))
    assert len(changes.added) == 100
    assert next(gen, None) is None


def test_unchanged_rows_are_not_kept():
    # a no-change re-sync must hold nothing but the counts
    volumes = [_volume(i) for i in range(100)]
    changes = diff.compute_changes("volumes", _stored(volumes), volumes)
    assert not changes.added and not changes.updated and not changes.deleted


def test_fingerprint_is_stable_and_short():
    fp = diff.fingerprint(_volume(1))
    assert fp == diff.fingerprint(_volume(1))
    assert len(fp) == 32
    int(fp, 16)


@pytest.mark.parametrize("field", models.field_names(models.Volume))
def test_fingerprint_covers_every_volume_field(field):
    base = _volume(1, wwn="6000abc", compressed=False, deduplicated=False, description="d")
    value = getattr(base, field)
    if isinstance(value, bool):
        other = not value
    elif isinstance(value, int):
        other = value + 1
    else:
        other = f"{value}-changed"
    assert diff.fingerprint(dataclasses.replace(base, **{field: other})) != diff.fingerprint(base)


@pytest.mark.parametrize("field", models.field_names(models.StoragePool))
def test_fingerprint_covers_every_pool_field(field):
    base = _pool(1, description="d")
    value = getattr(base, field)
    other = value + 1 if isinstance(value, int) else f"{value}-changed"
    assert diff.fingerprint(dataclasses.replace(base, **{field: other})) != diff.fingerprint(base)


def test_fingerprint_distinguishes_none_from_false():
    assert diff.fingerprint(_volume(1, compressed=None)) != diff.fingerprint(_volume(1, compressed=False))


def test_fingerprint_of_storage_follows_its_values():
    storage = models.Storage(name="a", vendor="v", model="m", serial_number="s")
    assert diff.fingerprint(storage) == diff.fingerprint(
        models.Storage(name="a", vendor="v", model="m", serial_number="s")
    )
    assert diff.fingerprint(storage) != diff.fingerprint(dataclasses.replace(storage, serial_number="t"))


def test_diff_module_is_pure():
    """diff imports only the standard library and the sdk: no I/O, no SQLAlchemy."""
    source = pathlib.Path(diff.__file__).read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    allowed = {"dataclasses", "hashlib", "operator", "collections.abc", "typing", "delfin_like.sdk"}
    assert imported <= allowed, imported - allowed
