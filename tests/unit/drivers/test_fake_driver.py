"""The fake driver: deterministic inventory and exact churn between generations."""

import ast
import inspect
import pathlib
import time
import uuid

import pytest

from delfin_like import diff, driver_manager
from delfin_like.sdk import exceptions as sdk_exc
from delfin_like.sdk import models
from delfin_like_drivers.fake import driver as fake

DRIVERS_ROOT = pathlib.Path(fake.__file__).resolve().parents[1]


def _info(host="127.0.0.1", port=8443, **attrs) -> models.AccessInfo:
    return models.AccessInfo(
        vendor="fake_storage",
        model="fake_driver",
        rest=models.AccessEndpoint(host=host, port=port, username="admin", password="pw"),
        extra_attributes=attrs,
    )


def _driver(**attrs) -> fake.FakeStorageDriver:
    return fake.FakeStorageDriver(_info(**attrs))


def _stored(resources) -> dict[str, tuple[str, str]]:
    return {r.native_volume_id: (f"row-{r.native_volume_id}", diff.fingerprint(r)) for r in resources}


def test_loaded_by_stevedore_name():
    drv = driver_manager.load(_info())
    assert type(drv) is fake.FakeStorageDriver


def test_defaults():
    drv = _driver()
    pools = list(drv.list_storage_pools())
    volumes = list(drv.list_volumes())
    assert len(pools) == 4
    assert len(volumes) == 20
    assert [p.native_storage_pool_id for p in pools] == ["pool-0", "pool-1", "pool-2", "pool-3"]


def test_sizes_and_placement():
    drv = _driver(pools=7, volumes=300, seed=5)
    pools = list(drv.list_storage_pools())
    volumes = list(drv.list_volumes())
    assert len(pools) == 7 and len(volumes) == 300
    assert len({v.native_volume_id for v in volumes}) == 300
    pool_ids = {p.native_storage_pool_id for p in pools}
    for i, vol in enumerate(volumes):
        assert vol.native_volume_id == f"vol-{i}"
        assert vol.native_storage_pool_id == f"pool-{i % 7}"
        assert vol.native_storage_pool_id in pool_ids
        assert vol.used_capacity + vol.free_capacity == vol.total_capacity > 0


def test_empty_array():
    assert list(_driver(volumes=0).list_volumes()) == []


def test_deterministic_across_instances():
    a, b = _driver(pools=3, volumes=50, seed=9), _driver(pools=3, volumes=50, seed=9)
    assert a.get_storage() == b.get_storage()
    assert list(a.list_storage_pools()) == list(b.list_storage_pools())
    assert list(a.list_volumes()) == list(b.list_volumes())
    assert list(a.list_volumes()) == list(a.list_volumes())  # no churn: same every call


def test_seed_changes_the_array():
    a, b = _driver(seed=1), _driver(seed=2)
    assert a.get_storage().serial_number != b.get_storage().serial_number
    assert list(a.list_volumes()) != list(b.list_volumes())


def test_serial_number_follows_the_endpoint_or_the_override():
    assert _driver().get_storage().serial_number == _driver().get_storage().serial_number
    assert _driver().get_storage().serial_number != _driver(port=9443).get_storage().serial_number
    assert _driver(serial_number="SN-1").get_storage().serial_number == "SN-1"


def test_storage_capacity_is_consistent():
    drv = _driver(pools=5)
    storage = drv.get_storage()
    pools = list(drv.list_storage_pools())
    assert storage.total_capacity == sum(p.total_capacity for p in pools)
    assert storage.used_capacity + storage.free_capacity == storage.total_capacity
    assert storage.raw_capacity >= storage.total_capacity
    assert (storage.vendor, storage.model) == ("fake_storage", "fake_driver")
    assert storage.status == models.StorageStatus.NORMAL


def test_lists_are_lazy_generators():
    drv = _driver(volumes=100_000)
    volumes = drv.list_volumes()
    assert inspect.isgenerator(volumes)
    assert next(volumes).native_volume_id == "vol-0"
    assert inspect.isgenerator(drv.list_storage_pools())


@pytest.mark.parametrize(
    "volumes, churn",
    [(100, 1), (1000, 1), (1000, 5), (200, 10), (100, 25), (10, 40), (20, 50), (7, 50), (6, 25), (3, 34)],
)
def test_churn_between_generations_is_exact(volumes, churn):
    k = min(round(volumes * churn / 100), volumes // 2)
    previous = list(_driver(volumes=volumes, churn=churn, generation=0).list_volumes())
    for generation in range(1, 5):
        current = list(_driver(volumes=volumes, churn=churn, generation=generation).list_volumes())
        assert len(current) == volumes
        changes = diff.compute_changes("volumes", _stored(previous), current)
        assert changes.counts() == {
            "added": k,
            "updated": k,
            "deleted": k,
            "unchanged": volumes - 2 * k,
        }, f"generation {generation}"
        previous = current


def test_churn_of_one_percent_of_100k():
    drv0 = _driver(volumes=100_000, churn=1, generation=0)
    drv1 = _driver(volumes=100_000, churn=1, generation=1)
    changes = diff.compute_changes("volumes", _stored(drv0.list_volumes()), drv1.list_volumes())
    assert changes.counts() == {"added": 1000, "updated": 1000, "deleted": 1000, "unchanged": 98_000}


def test_churn_updates_change_capacity_only():
    before = {v.native_volume_id: v for v in _driver(volumes=100, churn=5, generation=0).list_volumes()}
    after = list(_driver(volumes=100, churn=5, generation=1).list_volumes())
    updated = [v for v in after if v.native_volume_id in before and v != before[v.native_volume_id]]
    assert len(updated) == 5
    for vol in updated:
        old = before[vol.native_volume_id]
        assert (vol.name, vol.total_capacity, vol.wwn) == (old.name, old.total_capacity, old.wwn)
        assert vol.used_capacity != old.used_capacity


def test_generation_advances_per_listing_without_explicit_generation():
    serial = f"SN-{uuid.uuid4().hex}"  # the counter is per serial number and per process
    drv = _driver(volumes=100, churn=2, serial_number=serial)
    first, second, third = (list(drv.list_volumes()) for _ in range(3))
    for generation, listing in enumerate((first, second, third)):
        explicit = _driver(volumes=100, churn=2, serial_number=serial, generation=generation)
        assert listing == list(explicit.list_volumes())
    # a new driver object for the same array continues the sequence
    fourth = list(_driver(volumes=100, churn=2, serial_number=serial).list_volumes())
    assert fourth == list(_driver(volumes=100, churn=2, serial_number=serial, generation=3).list_volumes())


def test_no_churn_stays_at_generation_zero():
    drv = _driver(volumes=10, serial_number=f"SN-{uuid.uuid4().hex}")
    assert list(drv.list_volumes()) == list(drv.list_volumes()) == list(_driver(volumes=10).list_volumes())


@pytest.mark.parametrize(
    "name, error",
    [
        ("invalid_credentials", sdk_exc.InvalidCredentials),
        ("unreachable", sdk_exc.BackendUnreachable),
        ("backend_error", sdk_exc.BackendError),
        ("anything_else", sdk_exc.BackendError),
    ],
)
def test_error_fails_every_call(name, error):
    drv = _driver(error=name)
    with pytest.raises(error) as e:
        drv.get_storage()
    assert e.value.detail and "pw" not in e.value.detail
    with pytest.raises(error):
        list(drv.list_storage_pools())
    with pytest.raises(error):
        list(drv.list_volumes())


def test_sync_error_fails_only_listing():
    drv = _driver(sync_error="unreachable")
    assert drv.get_storage().vendor == "fake_storage"
    with pytest.raises(sdk_exc.BackendUnreachable):
        list(drv.list_volumes())
    with pytest.raises(sdk_exc.BackendUnreachable):
        list(drv.list_storage_pools())


def test_delay_slows_listing():
    drv = _driver(volumes=1, delay=0.2)
    start = time.monotonic()
    assert len(list(drv.list_volumes())) == 1
    assert time.monotonic() - start >= 0.2


def test_page_delay_slows_each_page_after_the_first():
    drv = _driver(volumes=250, page_delay=0.15)
    listing = drv.list_volumes()
    start = time.monotonic()
    first_page = [next(listing) for _ in range(100)]
    assert time.monotonic() - start < 0.15 and len(first_page) == 100
    assert len(list(listing)) == 150
    assert time.monotonic() - start >= 0.3  # two more pages


@pytest.mark.parametrize(
    "attrs",
    [
        {"pools": 0},
        {"pools": "many"},
        {"volumes": -1},
        {"seed": "x"},
        {"churn": 51},
        {"churn": -1},
        {"churn": "lots"},
        {"generation": "next"},
        {"generation": -1},
        {"delay": "slow"},
        {"delay": -1},
        {"page_delay": "x"},
        {"page_delay": -0.5},
    ],
)
def test_invalid_extra_attributes(attrs):
    with pytest.raises(sdk_exc.InvalidAccessInfo):
        _driver(**attrs)


def test_drivers_import_only_the_sdk():
    """The drivers distribution may import delfin_like.sdk and nothing else of the service."""
    offenders = []
    for path in DRIVERS_ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if (
                    name.startswith("delfin_like")
                    and not (name == "delfin_like.sdk" or name.startswith("delfin_like.sdk."))
                    and not name.startswith("delfin_like_drivers")
                ):
                    offenders.append(f"{path.relative_to(DRIVERS_ROOT)}: {name}")
    assert not offenders


@pytest.mark.parametrize(
    ("key", "bound"),
    [("pools", "4,096"), ("volumes", "5,000,000"), ("controllers", "64"), ("ports_per_controller", "256"),
     ("disks", "20,000")],
)
def test_sizes_no_real_array_has_are_refused_naming_the_bound(key, bound):
    limit = fake.LIMITS[key]
    assert _driver(**{key: limit})  # the bound itself is a size a real array may have
    for too_big in (limit + 1, 10**30):
        with pytest.raises(sdk_exc.InvalidAccessInfo, match=f"extra_attributes.{key} must be <= {bound}"):
            _driver(**{key: too_big})


@pytest.mark.parametrize("key", ["delay", "page_delay", "probe_delay", "perf_delay"])
def test_waits_longer_than_an_hour_are_refused(key):
    with pytest.raises(sdk_exc.InvalidAccessInfo, match="between 0 and 3600 seconds"):
        _driver(**{key: "inf"})


def test_probe_delay_is_cut_short_by_a_cancelled_call():
    from delfin_like.sdk import cancel

    drv = _driver(probe_delay=30)
    token = cancel.Token(0.2, what="probe")
    started = time.monotonic()
    with cancel.scope(token), pytest.raises(sdk_exc.Cancelled):
        drv.get_storage()
    assert time.monotonic() - started < 5


def test_every_registered_fake_has_its_own_name_stable_across_syncs():
    names = {fake.FakeStorageDriver(_info(port=8443 + i)).get_storage().name for i in range(20)}
    assert len(names) == 20 and all(n.startswith("fake-array-") for n in names)
    # same registration, another driver instance (the next sync): the same name
    assert _driver(seed=3).get_storage().name == _driver(seed=3).get_storage().name
    assert _driver(seed=3).get_storage().name != _driver(seed=4).get_storage().name
    assert _driver(name="lab-a").get_storage().name == "lab-a"
    storage = _driver(serial_number="SN-1")
    assert storage.perf_resources("storage") == [("SN-1", storage.get_storage().name)]
