"""Routing edges: a storage id that names a nested resource is an unknown storage; a DELETE of a collection is a 405."""

import pytest

NESTED = ("access-info", "sync-policy", "metrics-config", "capabilities", "jobs")


@pytest.mark.parametrize("name", NESTED)
@pytest.mark.parametrize("method", ("get", "put", "post", "delete"))
def test_storages_slash_a_nested_name_is_a_404(api, name, method):
    call = getattr(api, f"{method}_json" if method in ("put", "post") else method)
    args = (f"/v1/storages/{name}", {}) if method in ("put", "post") else (f"/v1/storages/{name}",)
    resp = call(*args, status="*", expect_errors=True)
    assert resp.status_int == 404, (resp.status_int, resp.text)
    assert resp.json["error_code"] == "StorageNotFound" and resp.json["error_args"] == [name]


@pytest.mark.parametrize("name", NESTED)
def test_the_nested_resource_of_an_unknown_storage_is_a_404(api, name):
    resp = api.get(f"/v1/storages/no-such-storage/{name}", status=404)
    assert resp.json["error_code"] == "StorageNotFound"


@pytest.mark.parametrize("collection", ("storages", "tasks", "jobs"))
def test_delete_of_a_whole_collection_is_a_405(api, collection):
    for path in (f"/v1/{collection}", f"/v1/{collection}/"):
        resp = api.delete(path, status=405)
        assert resp.json["error_code"] == "MethodNotAllowed"
