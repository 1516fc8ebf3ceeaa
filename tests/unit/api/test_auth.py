"""Authentication of the REST API: noauth on loopback only, HTTP basic (bcrypt htpasswd), Keystone.

The real app behind the real middleware; Keystone is never reached (no token
means a 401 before any network call; its URI points at a closed port on 127.0.0.1).
"""

import base64
import subprocess
import types

import bcrypt
import pytest
import webob
import webtest

from delfin_like.api import app, auth, hooks
from delfin_like.common import exception
from delfin_like.conf import CONF
from tests import services
from tests.e2e.conftest import script

USER, PASSWORD = "operator", "Op-pa55-word"


def _basic(user: str, password: str) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def htpasswd(tmp_path):
    path = tmp_path / "htpasswd"
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    path.write_text(f"# users of the API\n{USER}:{hashed}\nother:{hashed}\n")
    CONF.set_override("http_basic_auth_user_file", str(path), group="api")
    return path


@pytest.fixture
def basic_api(sqlite_db, rpcapi, htpasswd):
    return webtest.TestApp(app.setup_app(rpcapi=rpcapi, auth_strategy="http_basic"))


# ---------------------------------------------------------------- start-up checks

@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST",
                                  "::ffff:127.0.0.1"])
def test_loopback_addresses(host):
    assert auth.is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "10.0.0.1", "", "api.example.com",
                                  "localhost.example.com"])
def test_other_addresses_are_not_loopback(host):
    assert not auth.is_loopback(host)


def test_noauth_is_refused_off_loopback():
    assert CONF.api.auth_strategy == "noauth"
    auth.check_config("127.0.0.1")
    with pytest.raises(exception.APIConfigInvalid) as info:
        auth.check_config("0.0.0.0")
    assert "noauth is refused on [api] host = 0.0.0.0" in str(info.value)


def test_http_basic_needs_a_readable_bcrypt_file(tmp_path, htpasswd):
    CONF.set_override("auth_strategy", "http_basic", group="api")
    auth.check_config("0.0.0.0")
    CONF.set_override("http_basic_auth_user_file", str(tmp_path / "missing"), group="api")
    with pytest.raises(exception.APIConfigInvalid, match="cannot be read: No such file"):
        auth.check_config("0.0.0.0")
    md5 = tmp_path / "md5"
    md5.write_text("someone:$apr1$abc$0123456789abcdef\n")
    CONF.set_override("http_basic_auth_user_file", str(md5), group="api")
    with pytest.raises(exception.APIConfigInvalid, match="entry 1 is not a bcrypt hash"):
        auth.check_config("0.0.0.0")
    empty = tmp_path / "empty"
    empty.write_text("\n")
    CONF.set_override("http_basic_auth_user_file", str(empty), group="api")
    with pytest.raises(exception.APIConfigInvalid, match="holds no user"):
        auth.check_config("0.0.0.0")


def _run(name: str, tmp_path, conf_text: str) -> subprocess.CompletedProcess:
    conf = tmp_path / f"{name}.conf"
    conf.write_text(f"[DEFAULT]\nstate_path = {tmp_path / 'state'}\n" + conf_text)
    return subprocess.run([script(name), "--config-file", str(conf)], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("name", ["delfin-like-api", "delfin-like-all-in-one"])
def test_commands_refuse_noauth_on_a_public_address(name, tmp_path):
    out = _run(name, tmp_path, "[api]\nhost = 0.0.0.0\nport = 1\n")
    assert out.returncode == 2, out.stderr[-2000:]
    assert f"{name}: The REST API refuses to start: [api] auth_strategy = noauth is refused" in out.stderr


def test_api_command_refuses_half_tls_and_a_missing_user_file(tmp_path):
    out = _run("delfin-like-api", tmp_path, "[api]\nport = 1\ntls_cert_file = /nonexistent.pem\n")
    assert out.returncode == 2
    assert "tls_cert_file and tls_key_file must be set together" in out.stderr
    out = _run("delfin-like-api", tmp_path, "[api]\nhost = 0.0.0.0\nport = 1\nauth_strategy = http_basic\n"
               f"http_basic_auth_user_file = {tmp_path / 'none'}\n")
    assert out.returncode == 2
    assert f"http_basic_auth_user_file {tmp_path / 'none'} cannot be read" in out.stderr


# ---------------------------------------------------------------- http_basic

def test_basic_requests_without_credentials_get_401_json(basic_api):
    for path in ("/v1/storages", "/v1", "/v1/tasks", "/v1/storages/x", "/nowhere", "/healthz/"):
        resp = basic_api.get(path, status=401)
        assert resp.json["error_code"] == "Unauthorized", path
        assert set(resp.json) == {"error_code", "error_msg", "error_args"}
        assert resp.headers["WWW-Authenticate"] == 'Basic realm="delfin-like"'
    resp = basic_api.post_json("/v1/storages", {"vendor": "x"}, status=401)
    assert resp.json["error_code"] == "Unauthorized"


@pytest.mark.parametrize("headers", [
    _basic(USER, "wrong"),
    _basic("nobody", PASSWORD),
    _basic(USER, "x" * 100),  # bcrypt refuses over 72 bytes: still a 401, never a 500
    {"Authorization": "Basic !!!not-base64"},
    {"Authorization": "Basic"},
    {"Authorization": "Bearer abc"},
    {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
])
def test_basic_bad_credentials_get_401_json(basic_api, headers):
    resp = basic_api.get("/v1/storages", headers=headers, status=401)
    assert resp.json["error_code"] == "Unauthorized"


def test_basic_good_credentials_reach_the_api(basic_api):
    assert basic_api.get("/v1/storages", headers=_basic(USER, PASSWORD)).json == {"storages": []}
    # the app's own errors pass through unchanged
    resp = basic_api.get("/v1/storages/nope", headers=_basic(USER, PASSWORD), status=404)
    assert resp.json["error_code"] == "StorageNotFound"
    resp = basic_api.put("/v1/storages", headers=_basic(USER, PASSWORD), status=405)
    assert resp.json["error_code"] == "MethodNotAllowed"


def test_public_paths_need_no_credentials(basic_api):
    assert basic_api.get("/").json["versions"][0]["id"] == "v1"
    assert basic_api.get("/healthz").json == {"status": "ok"}
    assert basic_api.get("/readyz").json["status"] == "ok"
    # the OpenAPI document is public (it describes, it does not reveal data)
    assert basic_api.get("/v1/openapi.json", expect_errors=True).status_int != 401


def test_users_can_change_while_running(basic_api, htpasswd):
    basic_api.get("/v1/storages", headers=_basic(USER, PASSWORD), status=200)
    htpasswd.write_text("")
    basic_api.get("/v1/storages", headers=_basic(USER, PASSWORD), status=401)


# ---------------------------------------------------------------- the request context

def _context_for(environ: dict):
    request = webob.Request.blank("/v1/storages", environ=environ)
    state = types.SimpleNamespace(request=request, response=webob.Response())
    hooks.ContextHook().before(state)
    return request.context


def test_context_of_an_authenticated_request_carries_the_identity():
    ctx = _context_for({auth.AUTHENTICATED: "keystone", "HTTP_X_USER_ID": "u-1", "HTTP_X_PROJECT_ID": "p-1",
                        "HTTP_X_USER_NAME": "alice", "HTTP_X_ROLES": "reader,member"})
    assert (ctx.user_id, ctx.project_id, ctx.user_name, ctx.roles) == ("u-1", "p-1", "alice", ["reader", "member"])
    assert not ctx.is_admin
    ctx = _context_for({auth.AUTHENTICATED: "keystone", "HTTP_X_USER_ID": "u-2", "HTTP_X_ROLES": "admin"})
    assert ctx.is_admin
    ctx = _context_for({auth.AUTHENTICATED: "http_basic", "HTTP_X_USER": USER, "HTTP_X_USER_NAME": USER})
    assert (ctx.user_id, ctx.user_name, ctx.is_admin) == (USER, USER, True)


def test_context_without_authentication_ignores_identity_headers():
    ctx = _context_for({"HTTP_X_USER_ID": "spoofed", "HTTP_X_PROJECT_ID": "spoofed"})
    assert (ctx.user_id, ctx.project_id, ctx.is_admin) == (None, None, True)


def test_basic_auth_replaces_identity_headers_sent_by_the_client(htpasswd):
    seen = {}

    def inner(environ, start_response):
        seen.update(environ)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    client = webtest.TestApp(auth.wrap(inner, "http_basic"))
    headers = {**_basic(USER, PASSWORD), "X-User-Id": "admin", "X-Project-Id": "p-evil", "X-Roles": "admin",
               "X-Identity-Status": "Confirmed"}
    client.get("/v1/storages", headers=headers)
    assert seen[auth.AUTHENTICATED] == "http_basic"
    assert seen["HTTP_X_USER"] == USER
    assert not any(k in seen for k in ("HTTP_X_USER_ID", "HTTP_X_PROJECT_ID", "HTTP_X_ROLES",
                                       "HTTP_X_IDENTITY_STATUS", "HTTP_AUTHORIZATION"))
    # a public path never counts as authenticated, whatever the client sends
    seen.clear()
    client.get("/healthz", headers={"X-User-Id": "admin"}, extra_environ={auth.AUTHENTICATED: "http_basic"})
    assert auth.AUTHENTICATED not in seen


def test_an_exception_inside_the_app_is_not_a_401(htpasswd):
    def inner(environ, start_response):
        raise RuntimeError("boom")

    client = webtest.TestApp(auth.wrap(inner, "http_basic"))
    with pytest.raises(RuntimeError):
        client.get("/v1/storages", headers=_basic(USER, PASSWORD))


# ---------------------------------------------------------------- keystone

@pytest.fixture
def keystone_conf():
    services.require_module("keystonemiddleware.auth_token")
    CONF.set_override("auth_strategy", "keystone", group="api")
    # never reached: a request without a token is refused before any call to Keystone
    CONF.set_override("www_authenticate_uri", "http://127.0.0.1:1/identity", group="keystone_authtoken")
    CONF.set_override("delay_auth_decision", False, group="keystone_authtoken")
    CONF.set_override("http_connect_timeout", 1, group="keystone_authtoken")
    yield
    for name in ("www_authenticate_uri", "delay_auth_decision", "http_connect_timeout"):
        CONF.clear_override(name, group="keystone_authtoken")


def test_keystone_wraps_the_app_and_refuses_requests_without_a_token(sqlite_db, rpcapi, keystone_conf):
    from keystonemiddleware import auth_token

    auth.check_config("0.0.0.0")
    wsgi_app = app.setup_app(rpcapi=rpcapi)
    assert isinstance(wsgi_app, auth._PublicPaths)
    assert isinstance(wsgi_app.protected.application.application, auth_token.AuthProtocol)
    client = webtest.TestApp(wsgi_app)
    for path in ("/v1/storages", "/v1/volumes", "/v1"):
        resp = client.get(path, status=401)
        assert resp.json["error_code"] == "Unauthorized"
        assert set(resp.json) == {"error_code", "error_msg", "error_args"}
        assert resp.headers["WWW-Authenticate"] == 'Keystone uri="http://127.0.0.1:1/identity"'
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json["status"] == "ok"


def test_keystone_delay_auth_decision_still_refuses_anonymous_requests(sqlite_db, rpcapi, keystone_conf):
    CONF.set_override("delay_auth_decision", True, group="keystone_authtoken")
    client = webtest.TestApp(app.setup_app(rpcapi=rpcapi))
    resp = client.get("/v1/storages", status=401)
    assert resp.json["error_code"] == "Unauthorized"


def test_keystone_forbidden_is_translated():
    def inner(environ, start_response):
        start_response("403 Forbidden", [("Content-Type", "text/plain")])
        return [b"nope"]

    resp = webtest.TestApp(auth.JSONAuthErrors(inner)).get("/v1/x", status=403)
    assert resp.json["error_code"] == "Forbidden"
