"""What the ``ibm svc_ssh`` driver accepts as access info: host keys, private keys, and its refusals."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from delfin_like import driver_manager
from delfin_like.sdk import exceptions, models
from delfin_like_drivers.ibm import ssh_cli
from delfin_like_drivers.ibm.svc_ssh import SvcSshDriver

PASSPHRASE = "key-Passphrase-42"


def _private(key, fmt=serialization.PrivateFormat.OpenSSH, passphrase: str | None = None) -> str:
    enc = serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, fmt, enc).decode()


def _public_line(key) -> str:
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


ED = ed25519.Ed25519PrivateKey.generate()
EC = ec.generate_private_key(ec.SECP256R1())
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _endpoint(port=2222, password="pw", **extra) -> models.AccessEndpoint:
    extra.setdefault("host_key", _public_line(ED))
    return models.AccessEndpoint(host="array1", port=port, username="monitor", password=password, extra=extra)


def _info(**kw) -> models.AccessInfo:
    return models.AccessInfo(vendor="ibm", model="svc_ssh", ssh=_endpoint(**kw), timeout=7)


@pytest.mark.parametrize(
    "line",
    [
        _public_line(ED),
        _public_line(ED) + " admin@array1",
        "[array1]:2222,10.0.0.7 " + _public_line(ED),
        "@cert-authority *.example " + _public_line(ED),
    ],
    ids=["bare", "comment", "known-hosts", "cert-authority"],  # the key is random: ids must not carry it
)
def test_host_key_lines_in_openssh_and_known_hosts_forms(line):
    key = ssh_cli.parse_public_key(line)
    assert key.get_name() == "ssh-ed25519" and f"{key.get_name()} {key.get_base64()}" == _public_line(ED)


@pytest.mark.parametrize("line", ["", "ssh-ed25519", "ssh-ed25519 !!!notbase64", "ssh-frob AAAA", "hello world"])
def test_what_is_not_a_host_key_line_is_invalid_access_info(line):
    with pytest.raises(exceptions.InvalidAccessInfo, match="ssh.host_key is not an OpenSSH public key line"):
        ssh_cli.parse_public_key(line)


def test_several_recorded_host_keys_and_a_known_hosts_file(tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text(f"[array1]:2222 {_public_line(EC)}\nother-host {_public_line(RSA)}\n")
    keys = ssh_cli.expected_host_keys(_endpoint(host_key=_public_line(ED), known_hosts=str(known)))
    assert sorted(keys) == ["ecdsa-sha2-nistp256", "ssh-ed25519"]
    keys = ssh_cli.expected_host_keys(_endpoint(host_key=[_public_line(ED), _public_line(RSA)]))
    assert sorted(keys) == ["ssh-ed25519", "ssh-rsa"]


def test_hashed_known_hosts_entries_are_found(tmp_path):
    import paramiko

    hashed = paramiko.HostKeys.hash_host("[array1]:2222")
    known = tmp_path / "known_hosts"
    known.write_text(f"{hashed} {_public_line(EC)}\n")
    keys = ssh_cli.expected_host_keys(_endpoint(host_key=None, known_hosts=str(known)))
    assert list(keys) == ["ecdsa-sha2-nistp256"]


def test_known_hosts_problems_are_invalid_access_info(tmp_path):
    with pytest.raises(exceptions.InvalidAccessInfo, match="cannot be read"):
        ssh_cli.expected_host_keys(_endpoint(host_key=None, known_hosts=str(tmp_path / "missing")))
    other = tmp_path / "known_hosts"
    other.write_text(f"array1 {_public_line(EC)}\n")  # port 22, not 2222
    with pytest.raises(exceptions.InvalidAccessInfo, match=r"has no key for \[array1\]:2222"):
        ssh_cli.expected_host_keys(_endpoint(host_key=None, known_hosts=str(other)))


def test_no_host_key_at_all_is_refused_up_front():
    with pytest.raises(exceptions.InvalidAccessInfo, match="needs the array's host key"):
        SvcSshDriver(_info(host_key=None))


@pytest.mark.parametrize(
    "key, fmt, name",
    [
        (ED, serialization.PrivateFormat.OpenSSH, "ssh-ed25519"),
        (ED, serialization.PrivateFormat.PKCS8, "ssh-ed25519"),
        (EC, serialization.PrivateFormat.OpenSSH, "ecdsa-sha2-nistp256"),
        (EC, serialization.PrivateFormat.TraditionalOpenSSL, "ecdsa-sha2-nistp256"),
        (RSA, serialization.PrivateFormat.TraditionalOpenSSL, "ssh-rsa"),
        (RSA, serialization.PrivateFormat.PKCS8, "ssh-rsa"),
    ],
)
@pytest.mark.parametrize("passphrase", [None, PASSPHRASE])
def test_private_keys_of_every_supported_type_and_format_load(key, fmt, name, passphrase):
    loaded = ssh_cli.load_private_key(_private(key, fmt, passphrase), passphrase)
    assert loaded.get_name() == name
    assert f"{loaded.get_name()} {loaded.get_base64()}" == " ".join(_public_line(key).split()[:2])


def test_a_clear_key_with_a_password_uses_the_password_for_logins_only():
    assert ssh_cli.load_private_key(_private(ED), "login-password").get_name() == "ssh-ed25519"


@pytest.mark.parametrize(
    "text, passphrase, message",
    [
        (_private(ED, passphrase=PASSPHRASE), None, "is encrypted: give its passphrase as ssh.password"),
        (_private(RSA, serialization.PrivateFormat.TraditionalOpenSSL, PASSPHRASE), None, "is encrypted"),
        (_private(ED, passphrase=PASSPHRASE), "wrong-passphrase", "not a readable private key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n", None, "not a readable"),
        ("just text", None, "not a readable private key"),
    ],
)
def test_unusable_private_keys_are_invalid_access_info_without_the_secret(text, passphrase, message):
    with pytest.raises(exceptions.InvalidAccessInfo) as e:
        ssh_cli.load_private_key(text, passphrase)
    assert message in str(e.value)
    for secret in ("PRIVATE KEY", PASSPHRASE, "wrong-passphrase"):
        assert secret not in str(e.value)


def test_the_driver_needs_an_ssh_block_a_user_and_a_secret():
    with pytest.raises(exceptions.InvalidAccessInfo, match="needs an ssh access block"):
        SvcSshDriver(models.AccessInfo(vendor="ibm", model="svc_ssh"))
    with pytest.raises(exceptions.InvalidAccessInfo, match="needs a password or a private_key"):
        SvcSshDriver(_info(password=None))
    info = _info()
    no_user = models.AccessEndpoint(host="array1", port=22, username=None, password="pw", extra=info.ssh.extra)
    with pytest.raises(exceptions.InvalidAccessInfo, match="ssh.username is required"):
        SvcSshDriver(models.AccessInfo(vendor="ibm", model="svc_ssh", ssh=no_user))


def test_construction_opens_no_connection():
    # "array1" does not resolve here: construction must not touch the network (capabilities do: they ask the array)
    drv = SvcSshDriver(_info(private_key=_private(ED)))
    assert drv.cli.where == "array1:2222" and drv.cli.timeout == 7
    drv.close()


def test_the_stevedore_entry_point_loads_this_driver():
    assert "ibm svc_ssh" in driver_manager.available_drivers()
    assert driver_manager._driver_class("ibm", "svc_ssh") is SvcSshDriver
