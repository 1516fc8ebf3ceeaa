"""GET lists and items of storages, storage-pools, volumes and tasks: filters, paging, sorting."""

import pytest

from delfin_like.common.constants import SyncStatus, TaskStatus
from delfin_like.conf import CONF
from tests.unit.api.conftest import register_body, sync_now

POOL_KEYS = {
    "id", "storage_id", "native_storage_pool_id", "name", "status", "storage_type",
    "total_capacity", "used_capacity", "free_capacity", "subscribed_capacity", "description",
    "created_at", "updated_at",
}
VOLUME_KEYS = {
    "id", "storage_id", "native_volume_id", "native_storage_pool_id", "name", "status", "type",
    "wwn", "total_capacity", "used_capacity", "free_capacity", "compressed", "deduplicated",
    "description", "created_at", "updated_at",
}


@pytest.fixture
def two_storages(api):
    """Two synced fake storages: A with 2 pools / 6 volumes, B with 3 pools / 4 volumes."""
    a = api.post_json("/v1/storages", register_body(port=1001, seed=1, pools=2, volumes=6)).json
    b = api.post_json("/v1/storages", register_body(port=1002, seed=2, pools=3, volumes=4)).json
    results = {a["id"]: sync_now(a["id"]), b["id"]: sync_now(b["id"])}
    return a, b, results


def test_synced_storage_shows_synced_and_the_task_result(api, two_storages):
    a, _, results = two_storages
    shown = api.get(f"/v1/storages/{a['id']}").json
    assert shown["sync_status"] == SyncStatus.SYNCED and shown["sync_error"] is None
    task = api.get(f"/v1/tasks/{shown['last_sync_task_id']}").json
    assert task["status"] == TaskStatus.COMPLETED
    assert task["result"]["storage_pools"]["added"] == 2
    assert task["result"]["volumes"]["added"] == 6
    assert task["result"] == results[a["id"]]
    assert task["finished_at"].endswith("Z")


def test_pools_and_volumes_shapes_and_storage_filter(api, two_storages):
    a, b, _ = two_storages
    pools = api.get("/v1/storage-pools").json["storage_pools"]
    assert len(pools) == 5 and set(pools[0]) == POOL_KEYS
    only_b = api.get("/v1/storage-pools", {"storage_id": b["id"]}).json["storage_pools"]
    assert {p["native_storage_pool_id"] for p in only_b} == {"pool-0", "pool-1", "pool-2"}
    volumes = api.get("/v1/volumes", {"storage_id": a["id"]}).json["volumes"]
    assert len(volumes) == 6 and set(volumes[0]) == VOLUME_KEYS
    assert all(isinstance(v["total_capacity"], int) for v in volumes)


def test_item_get_and_404(api, two_storages):
    pool = api.get("/v1/storage-pools").json["storage_pools"][0]
    assert api.get(f"/v1/storage-pools/{pool['id']}").json == pool
    volume = api.get("/v1/volumes").json["volumes"][0]
    assert api.get(f"/v1/volumes/{volume['id']}").json == volume
    assert api.get("/v1/storage-pools/nope", status=404).json["error_code"] == "StoragePoolNotFound"
    assert api.get("/v1/volumes/nope", status=404).json["error_code"] == "VolumeNotFound"
    assert api.get("/v1/tasks/nope", status=404).json["error_code"] == "TaskNotFound"


def test_exact_filters(api, two_storages):
    a, _, _ = two_storages
    native = api.get("/v1/volumes", {"storage_id": a["id"]}).json["volumes"][2]["native_volume_id"]
    found = api.get("/v1/volumes", {"storage_id": a["id"], "native_volume_id": native}).json["volumes"]
    assert [v["native_volume_id"] for v in found] == [native]
    storages = api.get("/v1/storages", {"serial_number": a["serial_number"]}).json["storages"]
    assert [s["id"] for s in storages] == [a["id"]]
    assert api.get("/v1/storages", {"vendor": "nobody"}).json == {"storages": []}


def test_sort_limit_offset_marker(api, two_storages):
    a, _, _ = two_storages
    query = {"storage_id": a["id"], "sort": "native_volume_id:desc"}
    every = [v["native_volume_id"] for v in api.get("/v1/volumes", query).json["volumes"]]
    assert every == sorted(every, reverse=True)
    page = api.get("/v1/volumes", {**query, "limit": 2, "offset": 1}).json["volumes"]
    assert [v["native_volume_id"] for v in page] == every[1:3]
    ids = [v["id"] for v in api.get("/v1/volumes", query).json["volumes"]]
    after = api.get("/v1/volumes", {**query, "marker": ids[1], "limit": 3}).json["volumes"]
    assert [v["id"] for v in after] == ids[2:5]
    asc = api.get("/v1/volumes", {"storage_id": a["id"], "sort_key": "native_volume_id"}).json
    assert [v["native_volume_id"] for v in asc["volumes"]] == sorted(every)
    assert api.get("/v1/volumes", {"limit": 0}).json == {"volumes": []}


def test_default_limit_applies(api, two_storages):
    CONF.set_override("default_limit", 3, group="api")
    assert len(api.get("/v1/volumes").json["volumes"]) == 3


def test_task_list_filters(api, two_storages):
    a, _, _ = two_storages
    api.post(f"/v1/storages/{a['id']}/sync", status=202)
    tasks = api.get("/v1/tasks", {"storage_id": a["id"], "status": "PENDING", "type": "sync"}).json["tasks"]
    assert [(t["type"], t["priority"]) for t in tasks] == [("sync", "urgent")]
    done = api.get("/v1/tasks", {"type": "sync", "status": "COMPLETED"}).json["tasks"]
    assert len(done) == 2


@pytest.mark.parametrize("path, query, fragment", [
    ("/v1/volumes", {"colour": "blue"}, "colour"),
    ("/v1/storages", {"password": "x"}, "password"),
    ("/v1/storage-pools", {"sort": "colour:asc"}, "colour"),
    ("/v1/tasks", {"lease": "x"}, "lease"),
    ("/v1/volumes", {"marker": "no-such-id"}, "marker"),
])
def test_unknown_filter_sort_key_or_marker_is_400(api, path, query, fragment):
    resp = api.get(path, query, status=400)
    assert resp.json["error_code"] == "InvalidInput"
    assert fragment in resp.json["error_msg"]


@pytest.mark.parametrize("query, fragment", [
    ({"limit": "-1"}, "limit must be a non-negative integer"),
    ({"limit": "ten"}, "limit must be a non-negative integer"),
    ({"limit": "1001"}, "limit must not exceed 1000"),
    ({"offset": "-5"}, "offset must be a non-negative integer"),
    ({"sort": "name:sideways"}, "asc or desc"),
    ({"sort": ":asc"}, "key:dir"),
    ({"marker": "x", "offset": "1"}, "not both"),
])
def test_bad_paging_or_sorting_is_400(api, query, fragment):
    resp = api.get("/v1/storages", query, status=400)
    assert resp.json["error_code"] == "InvalidInput"
    assert fragment in resp.json["error_msg"]


def test_repeated_parameter_is_400(api):
    resp = api.get("/v1/volumes?storage_id=a&storage_id=b", status=400)
    assert "more than once" in resp.json["error_msg"]


def test_next_link_walks_every_volume_and_offset_is_bounded(api, two_storages):
    """Following ``next`` from the first page visits each of the 10 volumes once; the last page has none."""
    seen, url = [], "/v1/volumes?limit=3&sort=name:asc"
    while url:
        body = api.get(url).json
        seen += [v["id"] for v in body["volumes"]]
        url = body.get("next")
    assert len(seen) == len(set(seen)) == 10
    error = api.get("/v1/volumes", {"offset": CONF.api.max_offset + 1}, status=400).json
    assert error["error_code"] == "InvalidInput" and "marker" in error["error_msg"]


def test_with_count_counts_the_filtered_rows_of_every_page_only_when_asked(api, two_storages):
    """``count`` is the total matching the filters, whatever the page; absent unless with_count=true."""
    a, _b, _ = two_storages
    assert "count" not in api.get("/v1/volumes", {"limit": 2}).json
    assert "count" not in api.get("/v1/volumes", {"limit": 2, "with_count": "false"}).json
    first = api.get("/v1/volumes", {"limit": 2, "with_count": "true"}).json
    assert first["count"] == 10 and len(first["volumes"]) == 2
    deeper = api.get(first["next"]).json
    assert deeper["count"] == 10 and "with_count" in first["next"]
    assert api.get("/v1/volumes", {"storage_id": a["id"], "with_count": "true", "limit": 1}).json["count"] == 6
    assert api.get("/v1/volumes", {"storage_id": "none", "with_count": "true"}).json["count"] == 0
    for path, key in [
        ("/v1/storages", "storages"), ("/v1/storage-pools", "storage_pools"), ("/v1/tasks", "tasks"),
        ("/v1/jobs", "jobs"), ("/v1/access-infos", "access_infos"), ("/v1/task-managers", "task_managers"),
        (f"/v1/storages/{a['id']}/jobs", "jobs"), ("/v1/disks", "disks"), ("/v1/ports", "ports"),
        ("/v1/controllers", "controllers"),
    ]:
        body = api.get(path, {"with_count": "true", "limit": 1}).json
        every = api.get(path, {"limit": 1000}).json[key]
        assert body["count"] == len(every), path
    assert api.get("/v1/storages", {"with_count": "true"}).json["count"] == 2


def test_with_count_takes_only_a_boolean(api):
    error = api.get("/v1/volumes", {"with_count": "maybe"}, status=400).json
    assert error["error_code"] == "InvalidInput" and "with_count" in error["error_msg"]


@pytest.mark.parametrize("resource_type", ["storage_pools", "volumes", "controllers", "ports", "disks"])
def test_inventory_pages_are_the_bodies_the_views_make(api, two_storages, resource_type):
    """The tuple path (db resource_rows, views.row_dicts, orjson) answers with the document the per-row
    views made of resource_list's dicts: same keys in the same order, values, times, count and next link."""
    import json

    from delfin_like.api import views
    from delfin_like.db import api as db_api

    view = {"storage_pools": views.storage_pool, "volumes": views.volume, "controllers": views.controller,
            "ports": views.port, "disks": views.disk}[resource_type]
    path = "/v1/" + resource_type.replace("_", "-")
    resp = api.get(path, {"limit": 3, "with_count": "true", "sort": "name:desc"})
    assert resp.content_type == "application/json"
    body = json.loads(resp.body, object_pairs_hook=list)
    rows = db_api.resource_list(resource_type, limit=3, sort=[("name", "desc")], with_count=True)
    expected = [list(view(row).items()) for row in rows]
    assert body[0] == (resource_type, expected)
    assert body[1] == ("count", rows.total)
    assert body[2] == ("next", f"{path}?limit=3&with_count=true&sort=name%3Adesc&marker={rows[-1]['id']}")
    assert all(item[1].endswith("Z") for row in body[0][1] for item in row if item[0] == "created_at")
