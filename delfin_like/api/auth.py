"""Authentication of the REST API: WSGI middleware around the pecan app.

``[api] auth_strategy`` picks it: ``noauth`` (loopback only), ``http_basic``
(oslo.middleware's basic auth against a bcrypt htpasswd file) or ``keystone``
(keystonemiddleware's auth_token, options in ``[keystone_authtoken]``).

The stack, outermost first::

    public paths (GET /, /healthz, /readyz, /v1/openapi.json) -> the app, no auth
    everything else -> JSON errors -> strip identity headers -> authenticate
                    -> mark authenticated -> the app

Whatever a middleware answers with, a 401/403 reaches the client in the
platform's error shape (``{"error_code": "Unauthorized", ...}``). The request
context (``hooks.ContextHook``) trusts the identity headers only on requests
that passed authentication.
"""

import ipaddress

import webob
import webob.dec
import webob.exc
from oslo_log import log as logging

from delfin_like.common import exception
from delfin_like.conf import CONF

LOG = logging.getLogger(__name__)

NOAUTH, HTTP_BASIC, KEYSTONE = "noauth", "http_basic", "keystone"

# load balancers probe these and clients discover the API from them: never behind auth
PUBLIC_PATHS = frozenset({"", "/", "/healthz", "/readyz", "/v1/openapi.json"})

# set in the WSGI environ of a request that passed authentication (value: the strategy)
AUTHENTICATED = "delfin_like.authenticated"

BASIC_REALM = 'Basic realm="delfin-like"'

# identity headers a client must never be able to set itself
_IDENTITY_PREFIXES = ("HTTP_X_USER", "HTTP_X_PROJECT", "HTTP_X_TENANT", "HTTP_X_DOMAIN", "HTTP_X_ROLE",
                      "HTTP_X_SERVICE_USER", "HTTP_X_SERVICE_PROJECT", "HTTP_X_SERVICE_ROLES",
                      "HTTP_X_SERVICE_IDENTITY_STATUS", "HTTP_X_IDENTITY_STATUS", "HTTP_X_IS_ADMIN_PROJECT",
                      "HTTP_X_SYSTEM_SCOPE", "HTTP_OPENSTACK_SYSTEM_SCOPE")


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ::1 (also IPv4-mapped); False for anything else."""
    host = (host or "").strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False  # another host name: it may resolve to anything
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_loopback


def check_config(host: str) -> None:
    """Refuse an auth set-up the API must not start with.

    :param host: the address the API binds.
    :raises APIConfigInvalid: noauth on a non-loopback address, an unreadable or
        invalid htpasswd file, keystonemiddleware missing.
    """
    strategy = CONF.api.auth_strategy
    if strategy == NOAUTH:
        if not is_loopback(host):
            raise exception.APIConfigInvalid(
                f"[api] auth_strategy = noauth is refused on [api] host = {host}: without authentication "
                f"the API may only listen on a loopback address (127.0.0.1, ::1, localhost); "
                f"set auth_strategy = http_basic or keystone")
    elif strategy == HTTP_BASIC:
        _check_user_file(CONF.api.http_basic_auth_user_file)
    elif strategy == KEYSTONE:
        try:
            import keystonemiddleware.auth_token  # noqa: F401
        except ImportError:
            raise exception.APIConfigInvalid(
                "[api] auth_strategy = keystone needs keystonemiddleware (pip install 'delfin-like[keystone]')")


def _check_user_file(path: str) -> None:
    from oslo_middleware import basic_auth

    try:
        with open(path) as f:
            entries = [line.strip() for line in f if line.strip() and not line.lstrip().startswith("#")]
    except OSError as e:
        raise exception.APIConfigInvalid(
            f"[api] http_basic_auth_user_file {path} cannot be read: {e.strerror}")
    for number, entry in enumerate(entries, start=1):
        if ":" not in entry:
            raise exception.APIConfigInvalid(f"{path}: entry {number} is not 'user:hash'")
        try:
            basic_auth.parse_entry(entry)
        except webob.exc.HTTPException:
            raise exception.APIConfigInvalid(
                f"{path}: entry {number} is not a bcrypt hash (create it with htpasswd -B)")
    if not entries:
        raise exception.APIConfigInvalid(f"{path} holds no user")


def error_response(error: exception.DelfinLikeException, headers: dict | None = None) -> webob.Response:
    resp = webob.Response(status=error.code, content_type="application/json", charset="utf-8")
    resp.json_body = error.to_dict()
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


class JSONAuthErrors:
    """Give a 401/403 from an auth middleware the platform's error shape, keeping its headers."""

    def __init__(self, application):
        self.application = application

    @webob.dec.wsgify
    def __call__(self, req):
        resp = req.get_response(self.application)
        if resp.status_int not in (401, 403):
            return resp
        try:
            body = resp.json_body
        except ValueError:
            body = None
        if isinstance(body, dict) and "error_code" in body:
            return resp  # already ours (raised by a controller)
        error = exception.Unauthorized() if resp.status_int == 401 else exception.Forbidden()
        keep = {k: v for k, v in resp.headers.items() if k.lower() == "www-authenticate"}
        return error_response(error, keep)


class _StripIdentityHeaders:
    """Drop identity headers the client sent, so only the auth middleware can set them."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        for key in [k for k in environ if k.startswith(_IDENTITY_PREFIXES)]:
            del environ[key]
        environ.pop(AUTHENTICATED, None)
        return self.application(environ, start_response)


class _MarkAuthenticated:
    """Innermost: record that the request passed authentication (for the request context).

    keystonemiddleware lets an unauthenticated request through when an operator
    sets ``delay_auth_decision``; it is refused here, since no route of ours is
    meant for anonymous callers.
    """

    def __init__(self, application, strategy: str):
        self.application = application
        self.strategy = strategy

    def __call__(self, environ, start_response):
        if self.strategy == KEYSTONE and environ.get("HTTP_X_IDENTITY_STATUS") != "Confirmed":
            return error_response(exception.Unauthorized())(environ, start_response)
        environ[AUTHENTICATED] = self.strategy
        return self.application(environ, start_response)


def _basic_auth_middleware(application, user_file: str):
    """oslo.middleware's BasicAuthMiddleware with our file option, a challenge header and
    errors of our own; a failure inside the app is never mistaken for a failed login."""
    from oslo_middleware import basic_auth

    class BasicAuth(basic_auth.BasicAuthMiddleware):
        def __init__(self, app):
            # skip the parent's __init__: it reads [oslo_middleware] from the global config
            super(basic_auth.BasicAuthMiddleware, self).__init__(app)
            self.auth_file = user_file

        @webob.dec.wsgify
        def __call__(self, req):
            challenge = {"WWW-Authenticate": BASIC_REALM}
            try:
                username, password = basic_auth.parse_token(basic_auth.parse_header(req.environ))
            except webob.exc.HTTPException:
                return error_response(exception.Unauthorized(), challenge)
            try:
                identity = basic_auth.authenticate(self.auth_file, username, password)
            except webob.exc.HTTPUnauthorized:
                return error_response(exception.Unauthorized(), challenge)
            except ValueError:  # bcrypt refuses passwords over 72 bytes
                return error_response(exception.Unauthorized(), challenge)
            except webob.exc.HTTPException as e:
                # the file became unreadable or holds a non-bcrypt entry: the operator's problem
                LOG.error("HTTP basic auth with %s failed: %s", self.auth_file, e.detail)
                return error_response(exception.InternalError())
            req.environ.update(identity)
            return req.get_response(self.application)

    return BasicAuth(application)


def _keystone_middleware(application):
    from keystonemiddleware import auth_token

    # options come from [keystone_authtoken] of this process's configuration
    return auth_token.AuthProtocol(application, {"oslo_config_config": CONF})


class _PublicPaths:
    """Send the public paths to the bare app and everything else through authentication."""

    def __init__(self, application, protected):
        self.application = application
        self.protected = protected

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "") in PUBLIC_PATHS:
            environ.pop(AUTHENTICATED, None)
            return self.application(environ, start_response)
        return self.protected(environ, start_response)


def wrap(application, strategy: str | None = None):
    """Wrap the pecan app in the authentication of ``strategy`` (default ``[api] auth_strategy``).

    :returns: the app itself for noauth, else the authenticating WSGI stack.
    """
    strategy = strategy or CONF.api.auth_strategy
    if strategy == NOAUTH:
        return application
    inner = _MarkAuthenticated(application, strategy)
    if strategy == HTTP_BASIC:
        authenticating = _basic_auth_middleware(inner, CONF.api.http_basic_auth_user_file)
    elif strategy == KEYSTONE:
        authenticating = _keystone_middleware(inner)
    else:
        raise exception.APIConfigInvalid(f"unknown [api] auth_strategy {strategy!r}")
    LOG.info("REST API authentication: %s", strategy)
    return _PublicPaths(application, JSONAuthErrors(_StripIdentityHeaders(authenticating)))
