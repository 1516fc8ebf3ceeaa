"""A WSGI guard in front of pecan: requests that pecan and webob cannot even parse, and OPTIONS.

pecan's request object turns an undecodable path into an abort that itself
reads the path again (a 500 with an empty body), and webob parses a
multipart body with no boundary into a ``ValueError`` (a 500): both are
refused here, as JSON 400s, before pecan sees them. ``OPTIONS`` is answered
here too, from the route table of the OpenAPI document, which a unit test
holds equal to the controllers' routes.
"""

import urllib.parse

from oslo_log import log as logging

from delfin_like.api import hooks
from delfin_like.api.controllers import openapi
from delfin_like.common import exception

LOG = logging.getLogger(__name__)

# webob parses a form body for these (and for a multipart one needs a boundary)
_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _refusal(environ) -> exception.DelfinLikeException | None:
    """The error for a request pecan must not see, or None to pass it on."""
    try:
        environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
    except UnicodeError:
        return exception.InvalidInput("the path must be UTF-8")
    try:
        urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True, errors="strict")
    except UnicodeError:
        return exception.InvalidInput("the query must be UTF-8")
    except ValueError:
        return exception.InvalidInput("the query string is malformed")
    content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if content_type.startswith("multipart/") and environ.get("REQUEST_METHOD") in _BODY_METHODS:
        return exception.MalformedRequestBody("the API takes JSON bodies (application/json), not multipart")
    return None


class RequestGuard:
    """WSGI middleware: refuse unparseable requests with a JSON 400; answer OPTIONS with the route's Allow."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        error = _refusal(environ)
        if error is not None:
            LOG.debug("%s %r rejected before routing: %s", environ.get("REQUEST_METHOD"),
                      environ.get("PATH_INFO", ""), error.msg)
            return hooks.error_response(error)(environ, start_response)
        if environ.get("REQUEST_METHOD") == "OPTIONS":
            return self._options(environ, start_response)
        return self.app(environ, start_response)

    @staticmethod
    def _options(environ, start_response):
        methods = openapi.allowed_methods(environ.get("PATH_INFO", "") or "/")
        if methods is None:
            return hooks.error_response(exception.NotFound())(environ, start_response)
        start_response("204 No Content", [("Allow", openapi.allow_header(methods)), ("Content-Length", "0")])
        return [b""]
