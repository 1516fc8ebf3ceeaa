"""RowSpool: order kept across memory and the temporary file, repeatable iteration, cleanup."""

from delfin_like import diff, spool
from delfin_like.sdk import models


def test_small_spool_stays_in_memory():
    s = spool.RowSpool(spill_at=10, batch=4)
    for i in range(10):
        s.append(("row", i))
    assert not s.spilled
    assert len(s) == 10 and list(s) == [("row", i) for i in range(10)]


def test_spilled_spool_replays_in_order_twice():
    s = spool.RowSpool(spill_at=10, batch=4)
    for i in range(103):
        s.append(i)
    assert s.spilled
    assert len(s) == 103
    assert list(s) == list(range(103))
    assert list(s) == list(range(103))  # iteration can be repeated (apply after counting)
    s.append(103)
    assert list(s) == list(range(104))
    s.close()
    assert not s and list(s) == []


def test_spooled_models_survive_the_file():
    volumes = [models.Volume(native_volume_id=f"v{i}", name=f"v{i}", total_capacity=i) for i in range(50)]
    s = spool.RowSpool(spill_at=5, batch=5)
    for v in volumes:
        s.append((v, diff.fingerprint(v)))
    assert s.spilled
    assert [(m, fp) for m, fp in s] == [(v, diff.fingerprint(v)) for v in volumes]


def test_empty_spool_is_falsy():
    s = spool.RowSpool()
    assert not s and len(s) == 0 and list(s) == []
