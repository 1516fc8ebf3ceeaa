"""Pure helpers of the API: list parameters, body validation messages, views."""

import datetime

import pytest
import webob

from delfin_like.api import utils, validation, views
from delfin_like.api.schemas.v1 import storages as schema
from delfin_like.common import exception


def test_list_params_defaults_and_filters():
    params = utils.parse_list_params(webob.multidict.MultiDict(storage_id="s1", status="normal"))
    assert params.as_kwargs() == {
        "filters": {"storage_id": "s1", "status": "normal"},
        "limit": 1000, "offset": None, "marker": None, "sort": [], "with_count": False,
    }
    asked = utils.parse_list_params(webob.multidict.MultiDict(with_count="true"))
    assert asked.as_kwargs()["with_count"] is True


def test_sort_forms():
    assert utils.parse_sort({"sort": "name:desc, id"}) == [("name", "desc"), ("id", "asc")]
    assert utils.parse_sort({"sort_key": "name", "sort_dir": "DESC"}) == [("name", "desc")]
    assert utils.parse_sort({}) == []
    assert utils.parse_sort({"sort": "name,id:desc", "sort_key": "name", "sort_dir": "desc"}) == [
        ("name", "asc"), ("id", "desc")]
    assert utils.parse_sort({"sort_dir": "desc"}) == [("created_at", "desc")]
    assert utils.parse_sort({"sort": "created_at"}, "task_managers") == [("started_at", "asc")]


def test_validation_never_echoes_a_value():
    body = {"vendor": "v", "model": "m",
            "rest": {"host": "h", "port": 1, "username": "u", "password": ["hunter2"]}}
    with pytest.raises(exception.InvalidInput) as info:
        validation.validate(schema.register, body)
    assert "hunter2" not in str(info.value)
    assert str(info.value) == "Invalid input: rest.password: must be of type string"


def test_validation_accepts_each_access_block_alone():
    for proto, block in (("rest", {"host": "h", "port": 443, "username": "u", "password": "p"}),
                         ("ssh", {"host": "h", "port": 22, "username": "u", "password": "p"}),
                         ("snmp", {"host": "h", "port": 161, "community": "c"})):
        validation.validate(schema.register, {"vendor": "v", "model": "m", proto: block})


def test_isotime_is_utc_with_z():
    naive = datetime.datetime(2024, 5, 1, 12, 0, 0)
    aware = datetime.datetime(2024, 5, 1, 14, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    assert views.isotime(naive) == "2024-05-01T12:00:00.000000Z"
    assert views.isotime(aware) == "2024-05-01T12:00:00.000000Z"
    assert views.isotime(None) is None


def test_views_are_allow_lists():
    row = {"id": "1", "name": "n", "fingerprint": "abc", "deleting": False, "password": "x"}
    shown = views.storage(row)
    assert "fingerprint" not in shown and "password" not in shown and "deleting" not in shown
    assert shown["sync_status"] == "SYNCING"
