"""Alert sources (snmp-config) and stored alerts through the API, on SQLite and the fake:// bus:
Delfin's bodies, validation (4xx with error_code, nothing changed), secrets write-only, listing."""

import datetime
import logging

import pytest

from delfin_like.db import api as db_api
from tests.unit.api.conftest import register_body

V3 = {"host": "127.0.0.1", "version": "snmpv3", "username": "trapuser", "security_level": "authPriv",
      "auth_protocol": "HMACSHA", "auth_key": "auth-s3cret", "privacy_protocol": "AES",
      "privacy_key": "priv-s3cret", "engine_id": "800000020109840301", "port": 1161}
V2C = {"host": "127.0.0.1", "version": "SNMPv2c", "community_string": "comm-s3cret"}
SECRETS = ("auth-s3cret", "priv-s3cret", "comm-s3cret")


def _register(api, port=8443) -> str:
    return api.post_json("/v1/storages", register_body(port=port), status=201).json["id"]


def _no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def test_put_get_list_delete_snmp_config_without_secrets(api, caplog):
    caplog.set_level(logging.DEBUG)
    sid = _register(api)
    resp = api.put_json(f"/v1/storages/{sid}/snmp-config", V3)
    body = resp.json
    assert body["version"] == "snmpv3" and body["auth_protocol"] == "SHA" and body["privacy_protocol"] == "AES"
    assert body["port"] == 1161 and body["retry_num"] == 1 and body["expiration"] == 2000
    assert "auth_key" not in body and "privacy_key" not in body and "community_string" not in body
    _no_secret(resp.text)
    assert api.get(f"/v1/storages/{sid}/snmp-config").json == body
    # the receiver gets them back in clear, from the db only
    assert db_api.alert_source_get(sid, reveal=True)["auth_key"] == "auth-s3cret"

    resp = api.put_json(f"/v1/storages/{sid}/snmp-config", V2C)
    assert resp.json["version"] == "snmpv2c" and resp.json["username"] is None and resp.json["port"] == 161
    listed = api.get("/v1/snmp-configs")
    assert [c["storage_id"] for c in listed.json["snmp_configs"]] == [sid]
    _no_secret(resp.text + listed.text)

    # a client that accepts only JSON (the CLI) is answered too, with no body
    resp = api.delete(f"/v1/storages/{sid}/snmp-config", headers={"Accept": "application/json"}, status=204)
    assert resp.body == b""
    assert api.get(f"/v1/storages/{sid}/snmp-config", status=404).json["error_code"] == "AlertSourceNotFound"
    assert api.delete(f"/v1/storages/{sid}/snmp-config", status=404).json["error_code"] == "AlertSourceNotFound"
    assert api.get("/v1/snmp-configs").json == {"snmp_configs": []}
    _no_secret(caplog.text)


def test_snmp_configs_page_by_storage_id_with_next_links(api):
    ids = sorted(_register(api, port=9300 + i) for i in range(5))
    for sid in ids:
        api.put_json(f"/v1/storages/{sid}/snmp-config", V2C)
    seen, url = [], "/v1/snmp-configs?limit=2"
    while url:
        body = api.get(url).json
        assert len(body["snmp_configs"]) <= 2
        _no_secret(str(body))
        seen += [c["storage_id"] for c in body["snmp_configs"]]
        url = body.get("next")
        url = url and url[url.index("/v1/"):]
    assert seen == ids
    assert api.get("/v1/snmp-configs?sort=storage_id:desc&limit=3").json["snmp_configs"][0]["storage_id"] == ids[-1]
    assert api.get(f"/v1/snmp-configs?storage_id={ids[2]}").json["snmp_configs"][0]["storage_id"] == ids[2]
    by_age = [c["storage_id"] for c in api.get("/v1/snmp-configs?sort=created_at:desc").json["snmp_configs"]]
    assert sorted(by_age) == ids
    assert api.get("/v1/snmp-configs?with_count=true&limit=1").json["count"] == 5
    bad = api.get("/v1/snmp-configs?marker=no-such-storage", status=400).json
    assert bad["error_code"] == "InvalidInput"
    assert api.get("/v1/snmp-configs?host=127.0.0.1", status=400).json["error_code"] == "InvalidInput"


@pytest.mark.parametrize("change, missing", [
    ({"version": "snmpv2c"}, "community_string"),
    ({"security_level": "authNoPriv", "auth_key": None}, "auth_key"),
    ({"auth_protocol": None}, "auth_protocol"),
    ({"privacy_key": None}, "privacy_key"),
    ({"privacy_protocol": None}, "privacy_protocol"),
    ({"username": None}, "username"),
    ({"auth_protocol": "SHA3"}, "auth_protocol"),
    ({"privacy_protocol": "Blowfish"}, "privacy_protocol"),
    ({"port": 0}, "port"),
    ({"port": 65536}, "port"),
    ({"engine_id": "not-hex-at-all"}, "engine_id"),
    ({"version": "snmpv4"}, "version"),
    ({"host": None}, "host"),
    ({"password": "x"}, "password"),
])
def test_invalid_snmp_config_is_400_and_changes_nothing(api, change, missing):
    sid = _register(api)
    api.put_json(f"/v1/storages/{sid}/snmp-config", V2C)
    before = api.get(f"/v1/storages/{sid}/snmp-config").json
    body = {k: v for k, v in {**V3, **change}.items() if v is not None}
    resp = api.put_json(f"/v1/storages/{sid}/snmp-config", body, status=400)
    assert resp.json["error_code"] == "InvalidInput" and missing in resp.json["error_msg"]
    _no_secret(resp.text)
    assert api.get(f"/v1/storages/{sid}/snmp-config").json == before


def test_no_auth_no_priv_needs_no_keys_and_stores_none(api):
    sid = _register(api)
    body = {"host": "127.0.0.1", "version": "snmpv3", "username": "u", "security_level": "noAuthnoPriv",
            "auth_key": "auth-s3cret"}
    shown = api.put_json(f"/v1/storages/{sid}/snmp-config", body).json
    assert shown["auth_protocol"] is None
    assert db_api.alert_source_get(sid, reveal=True)["auth_key"] is None


def test_unknown_storage_is_404(api):
    assert api.put_json("/v1/storages/nope/snmp-config", V2C, status=404).json["error_code"] == "StorageNotFound"
    assert api.get("/v1/storages/nope/snmp-config", status=404).json["error_code"] == "StorageNotFound"
    assert api.get("/v1/storages/nope/alerts", status=404).json["error_code"] == "StorageNotFound"
    assert api.get("/v1/alerts/nope", status=404).json["error_code"] == "AlertNotFound"


def _alert(seq, severity="major", **extra) -> dict:
    return {"sequence_number": seq, "alert_id": "linkDown", "alert_name": "Link down", "severity": severity,
            "category": "fault", "type": "communications", **extra}


def test_alert_lists_filters_window_and_show(api):
    sid = _register(api)
    other = _register(api, port=8444)
    base = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
    for i in range(4):
        db_api.alert_record(sid, "trap", _alert(str(i), "critical" if i % 2 else "minor"),
                            seen_at=base + datetime.timedelta(hours=i))
    db_api.alert_record(sid, "trap", _alert("0"), seen_at=base + datetime.timedelta(hours=5))  # a repeat
    db_api.alert_record(other, "sync", _alert("x"), seen_at=base)

    every = api.get("/v1/alerts", {"with_count": "true"}).json
    assert every["count"] == 5
    assert every["alerts"][0]["sequence_number"] == "0" and every["alerts"][0]["repeat_count"] == 2
    mine = api.get(f"/v1/storages/{sid}/alerts").json["alerts"]
    assert {a["storage_id"] for a in mine} == {sid} and len(mine) == 4
    critical = api.get("/v1/alerts", {"severity": "critical", "sort": "last_seen:asc"}).json["alerts"]
    assert [a["sequence_number"] for a in critical] == ["1", "3"]
    window = api.get("/v1/alerts", {"since": "2026-03-01T01:00:00Z", "until": "2026-03-01T02:30:00Z"}).json
    # "0" was first seen before the window and seen again after it: it was open through it
    assert sorted(a["sequence_number"] for a in window["alerts"]) == ["0", "1", "2"]
    millis = int((base + datetime.timedelta(hours=1)).timestamp() * 1000)
    delfin = api.get(f"/v1/storages/{sid}/alerts", {"begin_time": millis, "end_time": millis + 3_600_000}).json
    assert sorted(a["sequence_number"] for a in delfin["alerts"]) == ["0", "1", "2"]
    page = api.get("/v1/alerts", {"limit": 2}).json
    assert len(page["alerts"]) == 2 and "marker=" in page["next"]

    shown = api.get(f"/v1/alerts/{mine[0]['id']}").json
    assert shown == mine[0] and shown["first_seen"].endswith("Z")


@pytest.mark.parametrize("query", [
    {"severity": "loud"}, {"state": "gone"}, {"since": "yesterday"}, {"password": "x"},
    {"sort": "description:asc"}, {"until": "2026-13-01"},
])
def test_bad_alert_list_query_is_400(api, query):
    assert api.get("/v1/alerts", query, status=400).json["error_code"] == "InvalidInput"


def test_bad_delfin_window_is_400(api):
    sid = _register(api)
    for query in ({"begin_time": "soon"}, {"end_time": "-1"}, {"storage_id": sid}):
        assert api.get(f"/v1/storages/{sid}/alerts", query, status=400).json["error_code"] == "InvalidInput"
