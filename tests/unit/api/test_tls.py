"""APIService over HTTPS: a self-signed certificate made here, a real client verifying against it."""

import base64
import datetime
import ipaddress

import bcrypt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from delfin_like.api import app, wsgi
from delfin_like.common import exception
from delfin_like.conf import CONF


def _write_key(path, key) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def make_cert(directory, name="api") -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and localhost; returns (cert path, key path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "delfin-like test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                    x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key_path, key)
    return str(cert_path), str(key_path)


@pytest.fixture
def tls(tmp_path):
    cert, key = make_cert(tmp_path)
    CONF.set_override("tls_cert_file", cert, group="api")
    CONF.set_override("tls_key_file", key, group="api")
    return cert, key


@pytest.fixture
def https_service(sqlite_db, rpcapi, tls):
    svc = wsgi.APIService(app_factory=lambda: app.setup_app(rpcapi=rpcapi), host="127.0.0.1", port=0, threads=2)
    svc.start()
    yield svc
    svc.stop()
    svc.wait()


def test_serves_https_verified_against_the_certificate(https_service, tls):
    cert, _ = tls
    base = f"https://127.0.0.1:{https_service.port}"
    r = requests.get(base + "/v1/storages", verify=cert, timeout=10)
    assert r.status_code == 200 and r.json() == {"storages": []}
    assert requests.get(f"https://localhost:{https_service.port}/healthz", verify=cert, timeout=10).ok
    # the system's CAs do not know it: verification is real
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(base + "/healthz", timeout=10)
    # plain HTTP on the TLS port gets no API answer
    try:
        r = requests.get(f"http://127.0.0.1:{https_service.port}/healthz", timeout=10)
    except requests.ConnectionError:
        pass  # cheroot's plain-HTTP error reply may lose the race with the reset
    else:
        assert r.status_code == 400 and "status" not in r.text


def test_https_with_basic_auth_from_a_public_address_set_up(sqlite_db, rpcapi, tls, tmp_path):
    """The set-up an operator puts on a network: HTTPS + http_basic (bound to loopback here)."""
    users = tmp_path / "htpasswd"
    users.write_text("ops:" + bcrypt.hashpw(b"pw-ops", bcrypt.gensalt(rounds=4)).decode() + "\n")
    CONF.set_override("auth_strategy", "http_basic", group="api")
    CONF.set_override("http_basic_auth_user_file", str(users), group="api")
    wsgi.check_options("0.0.0.0")  # what the command checks before starting
    svc = wsgi.APIService(app_factory=lambda: app.setup_app(rpcapi=rpcapi), host="127.0.0.1", port=0, threads=2)
    svc.start()
    try:
        base, cert = f"https://127.0.0.1:{svc.port}", tls[0]
        r = requests.get(base + "/v1/storages", verify=cert, timeout=10)
        assert r.status_code == 401 and r.json()["error_code"] == "Unauthorized"
        r = requests.get(base + "/v1/storages", verify=cert, auth=("ops", "pw-ops"), timeout=10)
        assert r.status_code == 200
        auth_header = {"Authorization": "Basic " + base64.b64encode(b"ops:nope").decode()}
        assert requests.get(base + "/v1/storages", verify=cert, headers=auth_header, timeout=10).status_code == 401
        assert requests.get(base + "/readyz", verify=cert, timeout=10).json()["status"] == "ok"
    finally:
        svc.stop()
        svc.wait()


def test_half_tls_config_is_refused(tmp_path):
    cert, _ = make_cert(tmp_path)
    CONF.set_override("tls_cert_file", cert, group="api")
    with pytest.raises(exception.APIConfigInvalid, match="must be set together"):
        wsgi.check_options()


def test_unreadable_tls_file_is_refused(tmp_path, sqlite_db, rpcapi):
    cert, _ = make_cert(tmp_path)
    CONF.set_override("tls_cert_file", cert, group="api")
    CONF.set_override("tls_key_file", str(tmp_path / "missing.key"), group="api")
    with pytest.raises(exception.APIConfigInvalid, match="tls_key_file .*missing.key cannot be read"):
        wsgi.check_options()
    # APIService.start checks too, before binding anything
    svc = wsgi.APIService(app_factory=lambda: app.setup_app(rpcapi=rpcapi), host="127.0.0.1", port=0)
    with pytest.raises(exception.APIConfigInvalid):
        svc.start()


def test_key_that_does_not_match_is_refused(tmp_path):
    cert, _ = make_cert(tmp_path, "one")
    _, other_key = make_cert(tmp_path, "two")
    CONF.set_override("tls_cert_file", cert, group="api")
    CONF.set_override("tls_key_file", other_key, group="api")
    with pytest.raises(exception.APIConfigInvalid, match="not a usable PEM"):
        wsgi.check_options()


def test_api_service_refuses_noauth_on_a_public_address(sqlite_db, rpcapi):
    svc = wsgi.APIService(app_factory=lambda: app.setup_app(rpcapi=rpcapi), host="0.0.0.0", port=0)
    with pytest.raises(exception.APIConfigInvalid, match="noauth is refused"):
        svc.start()


def test_rest_driver_tls_options_flow_into_access_info(tmp_path):
    """``[storage_driver] verify`` / ``ca_path`` reach every driver through its AccessInfo."""
    from delfin_like import driver_manager

    body = {"vendor": "fake_storage", "model": "fake_driver",
            "rest": {"host": "192.0.2.1", "port": 8443, "username": "u", "password": "p"}}
    info = driver_manager.access_info_from_request(body)
    assert (info.verify, info.ca_path) == (True, None)
    cert, _ = make_cert(tmp_path)
    CONF.set_override("verify", False, group="storage_driver")
    CONF.set_override("ca_path", cert, group="storage_driver")
    info = driver_manager.access_info_from_request(body)
    assert (info.verify, info.ca_path) == (False, cert)
