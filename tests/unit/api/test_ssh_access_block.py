"""The ssh access block: a password or a private_key (or both), never shown back."""

import copy

import pytest

from delfin_like.api import validation
from delfin_like.api.schemas.v1 import storages as schema
from delfin_like.common import exception
from delfin_like.db import api as db_api

KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-not-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n"
)
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0Gx5pd1YhJdTnSc7DkBCBeKlmP6a8p0jHbG9PbO6QF"


def _body(**ssh) -> dict:
    block = {"host": "10.0.0.7", "port": 22, "username": "monitor", "host_key": HOST_KEY}
    block.update(ssh)
    # the fake driver answers whatever the credentials: these tests are about the API's rules
    return {"vendor": "fake_storage", "model": "fake_driver", "ssh": block, "extra_attributes": {"volumes": 2}}


@pytest.mark.parametrize(
    "ssh",
    [
        {"password": "pw-1"},
        {"private_key": KEY},
        {"private_key": KEY, "password": "key-passphrase"},
    ],
)
def test_schema_accepts_a_password_or_a_private_key(ssh):
    validation.validate(schema.register, _body(**ssh))


@pytest.mark.parametrize(
    "ssh, message",
    [
        ({}, "ssh: an ssh block needs a password or a private_key"),
        ({"username": None, "password": "pw"}, "ssh.username: must be of type string"),
        ({"private_key": 42}, "ssh.private_key: must be of type string"),
    ],
)
def test_schema_refuses_an_ssh_block_without_a_secret_or_with_bad_types(ssh, message):
    body = _body(**ssh)
    with pytest.raises(exception.InvalidInput) as e:
        validation.validate(schema.register, body)
    assert str(e.value) == f"Invalid input: {message}"


def test_schema_still_requires_the_username():
    body = _body(password="pw")
    del body["ssh"]["username"]
    with pytest.raises(exception.InvalidInput, match="ssh: 'username' is a required property"):
        validation.validate(schema.register, body)


def test_rest_still_requires_a_password():
    body = {"vendor": "v", "model": "m", "rest": {"host": "h", "port": 443, "username": "u", "private_key": KEY}}
    with pytest.raises(exception.InvalidInput, match="rest: 'password' is a required property"):
        validation.validate(schema.register, body)


def test_register_with_a_private_key_only_stores_it_encrypted_and_never_shows_it(api):
    resp = api.post_json("/v1/storages", _body(private_key=KEY), status=201)
    sid = resp.json["id"]
    info = api.get(f"/v1/storages/{sid}/access-info").json["access_info"]
    assert info["ssh"]["host_key"] == HOST_KEY and "private_key" not in info["ssh"]
    for text in (resp.text, api.get("/v1/access-infos").text, api.get(f"/v1/storages/{sid}").text):
        assert "PRIVATE KEY" not in text and "not-a-real-key" not in text
    stored = db_api.access_info_get(sid)["ssh"]
    assert stored["private_key"] != KEY and "PRIVATE KEY" not in stored["private_key"]
    assert stored.get("password") is None


def test_register_without_password_or_key_is_400_and_writes_nothing(api):
    resp = api.post_json("/v1/storages", _body(), status=400)
    assert resp.json["error_code"] == "InvalidInput"
    assert resp.json["error_msg"] == "Invalid input: ssh: an ssh block needs a password or a private_key"
    assert db_api.storage_list({}, None, None, None, []) == []


def test_access_info_update_can_switch_from_password_to_key_and_keeps_secrets_hidden(api):
    sid = api.post_json("/v1/storages", _body(password="old-pw"), status=201).json["id"]
    block = copy.deepcopy(_body(private_key=KEY)["ssh"])
    resp = api.put_json(f"/v1/storages/{sid}/access-info", {"ssh": block}, status=200)
    assert "PRIVATE KEY" not in resp.text and "old-pw" not in resp.text
    stored = db_api.access_info_get(sid)["ssh"]
    # a block given without its password keeps the stored one (the key may need it as passphrase)
    assert stored["private_key"] and stored["password"] and stored["password"] != "old-pw"
