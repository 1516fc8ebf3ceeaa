"""Pecan hooks: the request context, the RPC client, the access log and errors.

Every error the API answers with passes through :class:`ErrorHook`, the one
place that turns exceptions into ``{"error_code", "error_msg", "error_args"}``.
"""

import threading
import time

import webob
import webob.exc
from oslo_context import context as oslo_context
from oslo_log import log as logging
from pecan import hooks

from delfin_like.api import auth
from delfin_like.api.controllers import openapi
from delfin_like.common import exception
from delfin_like.conf import CONF

LOG = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-OpenStack-Request-Id"

# webob's own HTTP errors (routing 404, RestController 405, argument 400, ...)
_HTTP_ERRORS = {
    400: exception.BadRequest,
    404: exception.NotFound,
    405: exception.MethodNotAllowed,
}


_DRAIN_BYTES = 1024 * 1024


def _drain(stream, budget: int) -> None:
    """Read and drop up to ``budget`` more bytes of a refused body.

    Closing a socket with unread input makes the kernel send a reset, which can
    destroy the 413 before the client reads it; a bounded drain lets a modestly
    oversized upload end cleanly without letting a huge one tie up the server.
    """
    while budget > 0:
        chunk = stream.read(min(65536, budget))
        if not chunk:
            return
        budget -= len(chunk)


class BodyLimitHook(hooks.PecanHook):
    """Refuse a body above ``[api] max_body_bytes`` with 413 before anything reads it.

    Runs on_route, i.e. before pecan parses a JSON body into parameters. A
    chunked body (no Content-Length) is read up to one byte past the limit and
    kept, so later readers see exactly what was checked.
    """

    priority = 5

    def on_route(self, state):
        request = state.request
        limit = CONF.api.max_body_bytes
        if request.content_length is not None:
            if request.content_length > limit:
                raise exception.RequestBodyTooLarge(limit)
            return
        if request.method in ("POST", "PUT", "PATCH") and request.is_body_readable:
            data = request.body_file_raw.read(limit + 1)
            if len(data) > limit:
                _drain(request.body_file_raw, max(limit, _DRAIN_BYTES))
                raise exception.RequestBodyTooLarge(limit)
            request.body = data


class NulCharacterHook(hooks.PecanHook):
    """Refuse a path or query value holding NUL (``%00``) with 400 before routing.

    No id, filter or marker can contain one, and PostgreSQL cannot even compare
    text with it: without this check such a request would fail inside the driver.
    """

    priority = 6

    def on_route(self, state):
        request = state.request
        try:
            query = request.GET.items()
            if "\x00" in request.path_info or any("\x00" in k or "\x00" in v for k, v in query):
                raise exception.InvalidInput("the path and query must not contain NUL characters")
        except UnicodeDecodeError:
            raise exception.InvalidInput("the path and query must be UTF-8")


class ContextHook(hooks.PecanHook):
    """Attach an oslo.context RequestContext as ``request.context``.

    On a request that passed authentication (``delfin_like.api.auth``) the user,
    project and roles come from the auth middleware's X-User-* / X-Project-*
    headers; with http_basic the user is the htpasswd name. Without
    authentication (noauth, loopback only) the headers are ignored and the
    caller acts as admin. No policy is enforced yet: every authenticated caller
    may do everything.
    """

    priority = 10

    def before(self, state):
        environ = state.request.environ
        strategy = environ.get(auth.AUTHENTICATED)
        # overwrite=True stores it thread-locally, so oslo.log lines carry its request id
        if strategy is None:
            ctx = oslo_context.RequestContext(is_admin=True, overwrite=True)
        else:
            ctx = oslo_context.RequestContext.from_environ(environ, overwrite=True)
            ctx.is_admin = strategy == auth.HTTP_BASIC or "admin" in ctx.roles
        state.request.context = ctx
        state.response.headers[REQUEST_ID_HEADER] = ctx.request_id


class RPCHook(hooks.PecanHook):
    """Attach the task RPC client as ``request.rpcapi``.

    The client is created on first use, once per app: building a transport per
    request would be wasteful and the bus may be configured after the app.
    """

    priority = 20

    def __init__(self, rpcapi=None):
        self._rpcapi = rpcapi
        self._lock = threading.Lock()

    def _client(self):
        if self._rpcapi is None:
            with self._lock:
                if self._rpcapi is None:
                    # imported here: the rpc package must not load for GET-only uses and tests
                    from delfin_like.rpc import client as rpc_client

                    self._rpcapi = rpc_client.TaskAPI()
        return self._rpcapi

    def before(self, state):
        state.request.rpcapi = _LazyClient(self._client)


class _LazyClient:
    """Stands for the RPC client until a controller first calls it.

    Reads need no bus, so a misconfigured transport only fails the requests
    that start work.
    """

    __slots__ = ("_factory",)

    def __init__(self, factory):
        self._factory = factory

    def __getattr__(self, name):
        return getattr(self._factory(), name)


class AccessLogHook(hooks.PecanHook):
    """One log line per request: method, path, status, duration. Never the body."""

    priority = 1

    def on_route(self, state):
        state.request.environ["delfin_like.start"] = time.monotonic()

    def after(self, state):
        started = state.request.environ.get("delfin_like.start", time.monotonic())
        LOG.info(
            "%s %s -> %s in %.1f ms",
            state.request.method,
            state.request.path,
            state.response.status_int,
            (time.monotonic() - started) * 1000,
        )


def error_response(e: exception.DelfinLikeException) -> webob.Response:
    """The JSON error response for a platform exception."""
    resp = webob.Response(status=e.code, content_type="application/json", charset="utf-8")
    resp.json_body = e.to_dict()
    return resp


def to_platform_error(e: BaseException, method: str) -> exception.DelfinLikeException:
    """Map any exception raised while serving a ``method`` request to the platform exception the client is told about.

    Client errors and 503s pass through; any other server-side failure becomes
    a generic InternalError, since its message is meant for the operator.
    """
    if isinstance(e, exception.DelfinLikeException):
        if e.code < 500 or isinstance(e, exception.ServiceUnavailable):
            return e
        return exception.InternalError()
    if isinstance(e, webob.exc.HTTPException):
        cls = _HTTP_ERRORS.get(e.code)
        if cls is exception.MethodNotAllowed:
            return cls(method)
        if cls is not None:
            return cls()
        generic = exception.BadRequest() if e.code < 500 else exception.InternalError()
        generic.code = e.code  # keep webob's status (415, 406, ...), which has no leaf of ours
        return generic
    return exception.InternalError()


class ErrorHook(hooks.PecanHook):
    """Turn every exception into a JSON error response with the exception's status.

    4xx are logged in one line; an unexpected exception is logged with its
    traceback and answered with a generic 500 that reveals nothing.
    """

    priority = 1000  # on_error hooks run in reverse priority: this one first

    def on_error(self, state, e):
        error = to_platform_error(e, state.request.method)
        if isinstance(error, exception.InternalError) and error is not e:
            LOG.error(
                "Unexpected error in %s %s",
                state.request.method,
                state.request.path,
                exc_info=(type(e), e, e.__traceback__),
            )
        elif error.code >= 500:
            LOG.warning("%s %s failed: %s", state.request.method, state.request.path, error.msg)
        else:
            LOG.debug("%s %s rejected: %s", state.request.method, state.request.path, error.msg)
        resp = error_response(error)
        if error.code == 405:
            # webob's Allow lists every handler of the controller, even ones that refuse this path
            methods = openapi.allowed_methods(state.request.path_info)
            allow = getattr(e, "allow", None) if methods is None else openapi.allow_header(methods)
            if allow:
                resp.allow = allow
        ctx = getattr(state.request, "context", None)
        if isinstance(ctx, oslo_context.RequestContext):
            resp.headers[REQUEST_ID_HEADER] = ctx.request_id
        return resp
