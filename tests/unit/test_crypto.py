"""delfin_like.common.crypto: Fernet at rest, key rotation, key file, redaction."""

import os
import stat

import pytest
from cryptography.fernet import Fernet

from delfin_like.common import crypto, exception
from delfin_like.conf import CONF


@pytest.fixture(autouse=True)
def _isolated_keys(tmp_path):
    """No key from the environment leaks in; keys loaded by one test are forgotten."""
    CONF.set_override("state_path", str(tmp_path))
    CONF.set_override("fernet_keys", [], group="security")
    CONF.set_override("fernet_key_file", None, group="security")
    crypto.reset()
    yield
    crypto.reset()
    CONF.clear_override("state_path")
    CONF.clear_override("fernet_keys", group="security")
    CONF.clear_override("fernet_key_file", group="security")


def _use_keys(*keys: bytes) -> None:
    CONF.set_override("fernet_keys", [k.decode() for k in keys], group="security")
    crypto.reset()


def test_round_trip():
    _use_keys(Fernet.generate_key())
    token = crypto.encrypt("s3cr3t-pässword")
    assert token != "s3cr3t-pässword"
    assert "s3cr3t" not in token
    assert crypto.decrypt(token) == "s3cr3t-pässword"


def test_same_plaintext_gives_different_tokens():
    _use_keys(Fernet.generate_key())
    assert crypto.encrypt("pw") != crypto.encrypt("pw")


def test_token_is_real_fernet():
    key = Fernet.generate_key()
    _use_keys(key)
    assert Fernet(key).decrypt(crypto.encrypt("pw").encode()) == b"pw"


def test_rotation_new_key_first_still_decrypts_old_tokens():
    old, new = Fernet.generate_key(), Fernet.generate_key()
    _use_keys(old)
    old_token = crypto.encrypt("before rotation")

    _use_keys(new, old)
    assert crypto.decrypt(old_token) == "before rotation"
    new_token = crypto.encrypt("after rotation")

    # the first key encrypts: the old key alone cannot read the new token
    _use_keys(new)
    assert crypto.decrypt(new_token) == "after rotation"
    with pytest.raises(exception.CryptoError):
        crypto.decrypt(old_token)
    _use_keys(old)
    with pytest.raises(exception.CryptoError):
        crypto.decrypt(new_token)


def test_wrong_key_is_a_crypto_error_without_the_token():
    _use_keys(Fernet.generate_key())
    token = crypto.encrypt("pw")
    _use_keys(Fernet.generate_key())
    with pytest.raises(exception.CryptoError) as info:
        crypto.decrypt(token)
    assert token not in str(info.value)


def test_invalid_key_is_a_crypto_error():
    CONF.set_override("fernet_keys", ["not-a-fernet-key"], group="security")
    crypto.reset()
    with pytest.raises(exception.CryptoError):
        crypto.encrypt("pw")


def test_blank_configured_keys_fall_back_to_key_file(tmp_path):
    CONF.set_override("fernet_keys", ["", " "], group="security")
    crypto.reset()
    path = crypto.ensure_key_file()
    assert path == str(tmp_path / "fernet.keys")
    assert crypto.decrypt(crypto.encrypt("pw")) == "pw"


def test_key_file_is_created_with_mode_0600(tmp_path):
    path = crypto.ensure_key_file()
    assert path == os.path.join(str(tmp_path), "fernet.keys")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == 0o600
    keys = open(path).read().split()
    assert len(keys) == 1
    Fernet(keys[0].encode())  # a valid key


def test_key_file_is_created_in_missing_directories(tmp_path):
    CONF.set_override("state_path", str(tmp_path / "a" / "b"))
    path = crypto.ensure_key_file()
    assert os.path.exists(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_existing_key_file_is_kept():
    path = crypto.ensure_key_file()
    first = open(path).read()
    assert crypto.ensure_key_file() == path
    assert open(path).read() == first


def test_key_file_encrypts_and_decrypts():
    path = crypto.ensure_key_file()
    token = crypto.encrypt("pw")
    key = open(path).read().strip().encode()
    assert Fernet(key).decrypt(token.encode()) == b"pw"


def test_configured_key_file_with_rotation_and_comments(tmp_path):
    old, new = Fernet.generate_key(), Fernet.generate_key()
    _use_keys(old)
    old_token = crypto.encrypt("pw")
    path = tmp_path / "keys"
    path.write_text(f"# newest first\n{new.decode()}\n\n{old.decode()}\n")
    CONF.set_override("fernet_keys", [], group="security")
    CONF.set_override("fernet_key_file", str(path), group="security")
    crypto.reset()
    assert crypto.key_file_path() == str(path)
    assert crypto.decrypt(old_token) == "pw"
    assert Fernet(new).decrypt(crypto.encrypt("x").encode()) == b"x"


def test_configured_keys_win_over_key_file():
    crypto.ensure_key_file()
    key = Fernet.generate_key()
    _use_keys(key)
    assert Fernet(key).decrypt(crypto.encrypt("pw").encode()) == b"pw"


def test_missing_key_file_is_a_crypto_error(tmp_path):
    CONF.set_override("fernet_key_file", str(tmp_path / "absent"), group="security")
    with pytest.raises(exception.CryptoError) as info:
        crypto.encrypt("pw")
    assert "absent" in str(info.value)


def test_empty_key_file_is_a_crypto_error(tmp_path):
    path = tmp_path / "empty"
    path.write_text("# nothing here\n\n")
    CONF.set_override("fernet_key_file", str(path), group="security")
    with pytest.raises(exception.CryptoError):
        crypto.encrypt("pw")


def test_encrypt_block_encrypts_every_secret_field_only():
    _use_keys(Fernet.generate_key())
    block = {
        "host": "10.0.0.1",
        "port": 8443,
        "username": "admin",
        "password": "pw",
        "community": "public",
        "auth_key": "ak",
        "privacy_key": "pk",
        "private_key": "-----BEGIN KEY-----",
    }
    encrypted = crypto.encrypt_block(block)
    assert block["password"] == "pw"  # the input is not modified
    for field in ("host", "port", "username"):
        assert encrypted[field] == block[field]
    for field in crypto.SECRET_FIELDS:
        assert encrypted[field] != block[field]
        assert crypto.decrypt(encrypted[field]) == block[field]
    assert crypto.decrypt_block(encrypted) == block


def test_encrypt_block_leaves_absent_and_none_secrets():
    _use_keys(Fernet.generate_key())
    assert crypto.encrypt_block(None) is None
    assert crypto.decrypt_block(None) is None
    block = {"host": "h", "port": 1, "password": None}
    assert crypto.encrypt_block(block) == block
    assert crypto.decrypt_block(block) == block


def test_encrypt_block_stringifies_non_string_secrets():
    _use_keys(Fernet.generate_key())
    encrypted = crypto.encrypt_block({"host": "h", "password": 1234})
    assert crypto.decrypt(encrypted["password"]) == "1234"


def test_redact_block_drops_every_secret():
    block = {
        "host": "h",
        "port": 22,
        "username": "u",
        "password": "pw",
        "community": "c",
        "auth_key": "a",
        "privacy_key": "p",
        "private_key": "k",
        "extra": "kept",
    }
    redacted = crypto.redact_block(block)
    assert redacted == {"host": "h", "port": 22, "username": "u", "extra": "kept"}
    assert block["password"] == "pw"
    assert crypto.redact_block(None) is None
    assert crypto.redact_block({}) == {}


def test_secret_fields():
    assert set(crypto.SECRET_FIELDS) == {"password", "community", "auth_key", "privacy_key", "private_key"}


def test_rotate_block_re_encrypts_every_secret_with_the_first_key():
    old, new = Fernet.generate_key(), Fernet.generate_key()
    _use_keys(old)
    stored = crypto.encrypt_block({"host": "h", "password": "pw-1", "community": "public-2"})
    _use_keys(new, old)
    rotated = crypto.rotate_block(stored)
    assert rotated["host"] == "h"
    assert Fernet(new).decrypt(rotated["password"].encode()) == b"pw-1"
    assert Fernet(new).decrypt(rotated["community"].encode()) == b"public-2"
    assert crypto.rotate_block(None) is None


def test_rotate_block_without_a_matching_key_is_a_crypto_error():
    _use_keys(Fernet.generate_key())
    stored = crypto.encrypt_block({"password": "pw"})
    _use_keys(Fernet.generate_key())
    with pytest.raises(exception.CryptoError) as info:
        crypto.rotate_block(stored)
    assert stored["password"] not in str(info.value)


def _register_with_key(key: bytes, n: int) -> list[str]:
    from delfin_like import driver_manager as dm
    from delfin_like.db import api as db_api
    from tests import db_helpers

    _use_keys(key)
    ids = []
    for i in range(n):
        body = db_helpers.registration_body(port=9000 + i, serial_number=f"rot-{i}")
        body["snmp"] = {"host": "127.0.0.1", "port": 161 + i, "community": f"community-{i}"}
        storage = dm.probe(dm.access_info_from_request(body))
        access = {"vendor": body["vendor"], "model": body["model"], "extra_attributes": body["extra_attributes"],
                  "rest": crypto.encrypt_block(body["rest"]), "snmp": crypto.encrypt_block(body["snmp"])}
        storage, _ = db_api.storage_register(storage, access, [("rest", "127.0.0.1", 9000 + i)])
        db_api.alert_source_put(storage["id"], {"version": "snmpv3", "username": f"user-{i}", "host": "127.0.0.1",
                                                "port": 162, "retry_num": 1, "expiration": 10,
                                                "security_level": "authPriv", "auth_protocol": "sha",
                                                "auth_key": f"auth-key-{i}", "privacy_protocol": "aes",
                                                "privacy_key": f"priv-key-{i}", "community_string": f"trap-{i}"})
        ids.append(storage["id"])
    return ids


def _snmp_config_secrets(storage_id: str) -> tuple:
    from delfin_like.db import api as db_api

    source = db_api.alert_source_get(storage_id, reveal=True)
    return source["community_string"], source["auth_key"], source["privacy_key"]


def test_rotate_keys_through_the_database(sqlite_db):
    """Encrypted with A; keys [B, A]; rotate; then B alone decrypts every stored secret."""
    from delfin_like.db import api as db_api

    key_a, key_b = Fernet.generate_key(), Fernet.generate_key()
    ids = _register_with_key(key_a, 3)
    _use_keys(key_b, key_a)
    assert db_api.secrets_rewrite_all(crypto.rotate_block, crypto.rotate) == {"storages": 3, "snmp_configs": 3}

    _use_keys(key_b)
    for i, storage_id in enumerate(ids):
        stored = db_api.access_info_get(storage_id)
        assert crypto.decrypt_block(stored["rest"])["password"] == "s3cret-Pa55word!"
        assert crypto.decrypt_block(stored["snmp"])["community"] == f"community-{i}"
        assert _snmp_config_secrets(storage_id) == (f"trap-{i}", f"auth-key-{i}", f"priv-key-{i}")
    _use_keys(key_a)
    with pytest.raises(exception.CryptoError):
        crypto.decrypt_block(db_api.access_info_get(ids[0])["rest"])
    with pytest.raises(exception.CryptoError):
        _snmp_config_secrets(ids[0])


def test_rotate_keys_without_the_old_key_changes_nothing(sqlite_db):
    from delfin_like.db import api as db_api

    key_a = Fernet.generate_key()
    ids = _register_with_key(key_a, 2)
    before = [db_api.access_info_get(i) for i in ids]
    sources_before = list(db_api.alert_source_page())
    _use_keys(Fernet.generate_key())  # A forgotten: nothing decrypts
    with pytest.raises(exception.CryptoError):
        db_api.access_info_rewrite_all(crypto.rotate_block)
    with pytest.raises(exception.CryptoError):
        db_api.secrets_rewrite_all(crypto.rotate_block, crypto.rotate)
    with pytest.raises(exception.CryptoError):  # the access infos rotate, an snmp-config does not: all undone
        db_api.secrets_rewrite_all(lambda block: block, crypto.rotate)
    assert [db_api.access_info_get(i) for i in ids] == before
    assert list(db_api.alert_source_page()) == sources_before
    _use_keys(key_a)
    assert [_snmp_config_secrets(i)[0] for i in ids] == ["trap-0", "trap-1"]
