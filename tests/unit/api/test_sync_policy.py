"""Sync policy through the API: set at registration, GET/PUT/DELETE /v1/storages/{id}/sync-policy,
validation (400, nothing changed), deletion clears it; on SQLite and the fake:// bus."""

import datetime

import pytest

from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from tests.unit.api.conftest import register_body

POLICY_KEYS = {
    "storage_id",
    "interval",
    "enabled",
    "next_periodic_sync_at",
    "next_sync_at",
    "last_fired_at",
    "last_task_id",
    "alert_sync_interval",
    "alert_sync_enabled",
    "next_alert_sync_at",
    "last_alert_sync_task_id",
}


def _utcnow():
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def _time(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", ""))


def _register(api, port=8443, **policy) -> str:
    body = register_body(port=port)
    if policy:
        body["sync_policy"] = policy
    return api.post_json("/v1/storages", body, status=201).json["id"]


def _policy(api, sid) -> dict:
    return api.get(f"/v1/storages/{sid}/sync-policy").json["sync_policy"]


def test_registration_gets_the_configured_periodic_sync(api):
    CONF.set_override("periodic_sync_interval", 900, group="scheduler")
    before = _utcnow()
    sid = _register(api)
    policy = _policy(api, sid)
    assert set(policy) == POLICY_KEYS
    assert (policy["storage_id"], policy["interval"], policy["enabled"]) == (sid, 900, True)
    assert policy["next_sync_at"] is None and policy["last_fired_at"] is None and policy["last_task_id"] is None
    due = _time(policy["next_periodic_sync_at"])
    assert before + datetime.timedelta(seconds=899) <= due <= _utcnow() + datetime.timedelta(seconds=901)


def test_registration_sets_interval_pause_and_one_shot(api):
    sid = _register(api, interval=120, enabled=False, next_sync_at="2031-05-01T10:00:00+02:00")
    policy = _policy(api, sid)
    assert (policy["interval"], policy["enabled"], policy["next_periodic_sync_at"]) == (120, False, None)
    assert policy["next_sync_at"] == "2031-05-01T08:00:00.000000Z"


def test_no_default_interval_means_no_periodic_sync(api):
    CONF.set_override("periodic_sync_interval", 0, group="scheduler")
    sid = _register(api)
    assert (_policy(api, sid)["interval"], _policy(api, sid)["enabled"]) == (None, False)
    # enabling it then needs an interval
    err = api.put_json(f"/v1/storages/{sid}/sync-policy", {"enabled": True}, status=400).json
    assert err["error_code"] == "InvalidInput" and "interval" in err["error_msg"]
    assert _policy(api, sid)["enabled"] is False


@pytest.mark.parametrize(
    "policy, field",
    [
        ({"interval": 30}, "interval"),  # under [scheduler] min_sync_interval (60)
        ({"interval": 0}, "interval"),
        ({"interval": "3600"}, "interval"),
        ({"interval": 10**9}, "interval"),
        ({"enabled": "yes"}, "enabled"),
        ({"next_sync_at": "tomorrow"}, "next_sync_at"),
        ({"next_sync_at": "9999-01-01T00:00:00Z"}, "next_sync_at"),
        ({"every": 60}, "every"),
        ("hourly", "sync_policy"),
    ],
)
def test_bad_sync_policy_refuses_the_registration(api, rpcapi, policy, field):
    body = register_body()
    body["sync_policy"] = policy
    err = api.post_json("/v1/storages", body, status=400).json
    assert err["error_code"] == "InvalidInput" and field in err["error_msg"], err
    assert db_api.storage_list({}, None, None, None, []) == [] and rpcapi.cast_tasks == []


def test_put_changes_only_what_is_given(api):
    sid = _register(api, interval=3600)
    first = _policy(api, sid)
    before = _utcnow()
    new = api.put_json(f"/v1/storages/{sid}/sync-policy", {"interval": 600}).json["sync_policy"]
    assert (new["interval"], new["enabled"]) == (600, True)
    # a new interval restarts the period from now
    assert before + datetime.timedelta(seconds=599) <= _time(new["next_periodic_sync_at"])
    assert _time(new["next_periodic_sync_at"]) < _time(first["next_periodic_sync_at"])

    paused = api.put_json(f"/v1/storages/{sid}/sync-policy", {"enabled": False}).json["sync_policy"]
    assert (paused["interval"], paused["enabled"], paused["next_periodic_sync_at"]) == (600, False, None)
    # what is left due is the periodic alert sync, untouched
    due = db_api.schedules_due(_utcnow() + datetime.timedelta(days=1))
    assert [d["kind"] for d in due] == ["periodic_alert_sync"]
    assert paused["alert_sync_interval"] == first["alert_sync_interval"] == CONF.alert_sync.interval

    resumed = api.put_json(f"/v1/storages/{sid}/sync-policy", {"enabled": True}).json["sync_policy"]
    assert resumed["enabled"] is True and resumed["interval"] == 600

    shot = api.put_json(f"/v1/storages/{sid}/sync-policy", {"next_sync_at": "2030-01-31T02:00:00Z"}).json["sync_policy"]
    assert shot["next_sync_at"] == "2030-01-31T02:00:00.000000Z" and shot["interval"] == 600
    assert api.get(f"/v1/storages/{sid}/sync-policy").json["sync_policy"] == shot
    cancelled = api.put_json(f"/v1/storages/{sid}/sync-policy", {"next_sync_at": None}).json["sync_policy"]
    assert cancelled["next_sync_at"] is None and cancelled["interval"] == 600


def test_a_past_one_shot_is_due_now(api):
    sid = _register(api, interval=3600)
    shot = api.put_json(f"/v1/storages/{sid}/sync-policy", {"next_sync_at": "2001-01-01T00:00:00"}).json
    due = db_api.schedules_due()
    assert [(d["storage_id"], d["kind"]) for d in due] == [(sid, "oneshot_sync")]
    assert _time(shot["sync_policy"]["next_sync_at"]) <= _utcnow()


@pytest.mark.parametrize(
    "body, code",
    [
        ({}, "InvalidInput"),
        ({"interval": 59}, "InvalidInput"),
        ({"interval": None}, "InvalidInput"),
        ({"enabled": 1}, "InvalidInput"),
        ({"next_sync_at": 5}, "InvalidInput"),
        ({"next_sync_at": ""}, "InvalidInput"),
        ({"next_sync_at": "2030-13-01T00:00:00Z"}, "InvalidInput"),
        ({"interval": 600, "next_sync_at": "not a time"}, "InvalidInput"),
        ({"interval": 600, "nope": 1}, "InvalidInput"),
    ],
)
def test_bad_put_is_400_and_changes_nothing(api, body, code):
    sid = _register(api, interval=3600)
    before = _policy(api, sid)
    err = api.put_json(f"/v1/storages/{sid}/sync-policy", body, status=400).json
    assert err["error_code"] == code and set(err) == {"error_code", "error_msg", "error_args"}
    assert _policy(api, sid) == before


def test_put_needs_a_json_object(api):
    sid = _register(api)
    err = api.put(f"/v1/storages/{sid}/sync-policy", "[1]", content_type="application/json", status=400).json
    assert err["error_code"] == "MalformedRequestBody"


def test_unknown_storage_is_404(api):
    missing = "00000000-0000-0000-0000-000000000000"
    for call in (
        lambda: api.get(f"/v1/storages/{missing}/sync-policy", status=404),
        lambda: api.put_json(f"/v1/storages/{missing}/sync-policy", {"interval": 600}, status=404),
        lambda: api.delete(f"/v1/storages/{missing}/sync-policy", status=404),
    ):
        assert call().json["error_code"] == "StorageNotFound"


def test_delete_clears_every_schedule(api):
    sid = _register(api, interval=600, next_sync_at="2030-01-01T00:00:00Z")
    cleared = api.delete(f"/v1/storages/{sid}/sync-policy").json["sync_policy"]
    assert {k: cleared[k] for k in ("interval", "enabled", "next_periodic_sync_at", "next_sync_at")} == {
        "interval": None,
        "enabled": False,
        "next_periodic_sync_at": None,
        "next_sync_at": None,
    }
    assert _policy(api, sid) == cleared
    assert db_api.schedules_due(_utcnow() + datetime.timedelta(days=3650)) == []
    # and it can be set again
    assert api.put_json(f"/v1/storages/{sid}/sync-policy", {"interval": 600}).json["sync_policy"]["enabled"]


def test_storage_delete_clears_its_schedules_and_refuses_changes(api):
    keep = _register(api, port=8443, interval=600)
    gone = _register(api, port=8444, interval=600, next_sync_at="2001-01-01T00:00:00Z")
    api.delete(f"/v1/storages/{gone}", status=202)
    later = _utcnow() + datetime.timedelta(days=1)
    assert {d["storage_id"] for d in db_api.schedules_due(later)} == {keep}
    err = api.put_json(f"/v1/storages/{gone}/sync-policy", {"interval": 600}, status=409).json
    assert err["error_code"] == "StorageBeingDeleted"
    assert {d["storage_id"] for d in db_api.schedules_due(later)} == {keep}


def test_registration_gets_the_configured_periodic_alert_sync(api):
    CONF.set_override("interval", 900, group="alert_sync")
    before = _utcnow()
    sid = _register(api)
    policy = _policy(api, sid)
    assert (policy["alert_sync_interval"], policy["alert_sync_enabled"]) == (900, True)
    due = _time(policy["next_alert_sync_at"])
    assert before + datetime.timedelta(seconds=899) <= due <= _utcnow() + datetime.timedelta(seconds=901)
    # its own body value wins; 0 there is off (a row without an interval: nothing recreates it)
    other = _register(api, port=8444, alert_sync_interval=300)
    assert (_policy(api, other)["alert_sync_interval"], _policy(api, other)["alert_sync_enabled"]) == (300, True)
    off = _register(api, port=8445, alert_sync_interval=0)
    assert (_policy(api, off)["alert_sync_interval"], _policy(api, off)["alert_sync_enabled"]) == (None, False)
    assert db_api.alert_sync_schedules_ensure(900) == 0


def test_put_sets_and_turns_off_the_periodic_alert_sync(api):
    sid = _register(api, interval=3600)
    before = _utcnow()
    new = api.put_json(f"/v1/storages/{sid}/sync-policy", {"alert_sync_interval": 120}).json["sync_policy"]
    assert (new["alert_sync_interval"], new["alert_sync_enabled"], new["interval"]) == (120, True, 3600)
    assert before + datetime.timedelta(seconds=119) <= _time(new["next_alert_sync_at"])
    off = api.put_json(f"/v1/storages/{sid}/sync-policy", {"alert_sync_interval": 0}).json["sync_policy"]
    assert (off["alert_sync_interval"], off["alert_sync_enabled"], off["next_alert_sync_at"]) == (None, False, None)
    assert off["interval"] == 3600
    err = api.put_json(f"/v1/storages/{sid}/sync-policy", {"alert_sync_interval": 59}, status=400).json
    assert err["error_code"] == "InvalidInput" and "alert_sync_interval" in err["error_msg"]
    assert api.put_json(f"/v1/storages/{sid}/sync-policy", {"alert_sync_interval": -1}, status=400)
    assert _policy(api, sid) == off


def test_delete_turns_the_periodic_alert_sync_off_for_good(api):
    sid = _register(api, alert_sync_interval=300)
    cleared = api.delete(f"/v1/storages/{sid}/sync-policy").json["sync_policy"]
    assert (cleared["alert_sync_interval"], cleared["alert_sync_enabled"]) == (None, False)
    # the scheduler's catch-up of storages without a schedule does not bring it back
    assert db_api.alert_sync_schedules_ensure(600) == 0
    assert _policy(api, sid)["alert_sync_enabled"] is False
