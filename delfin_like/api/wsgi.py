"""Serving the REST API in-process with cheroot's threaded WSGI server.

Threads, not forked workers: the all-in-one shares an in-memory bus with the
task manager, which a forked worker could not see. With ``[api] tls_cert_file``
and ``tls_key_file`` it serves HTTPS (cheroot's builtin ssl adapter).
"""

import re
import ssl
import threading

from cheroot import wsgi
from oslo_log import log as logging

# base.ServiceBase is what both oslo.service backends export; importing it
# (unlike oslo_service.service) does not select a backend
from oslo_service.backend.base import ServiceBase

from delfin_like.api import auth, readiness
from delfin_like.common import exception
from delfin_like.conf import CONF

LOG = logging.getLogger(__name__)


def default_app_factory():
    """Configure the database from CONF and build the app with a lazily created RPC client."""
    from delfin_like.api import app
    from delfin_like.db import api as db_api

    db_api.configure()
    return app.setup_app()


def tls_files() -> tuple[str, str] | None:
    """``(cert, key)`` from ``[api] tls_cert_file``/``tls_key_file``, or None for plain HTTP.

    :raises APIConfigInvalid: only one is set, a file is unreadable, or the key
        does not match the certificate.
    """
    cert, key = CONF.api.tls_cert_file, CONF.api.tls_key_file
    if not cert and not key:
        return None
    if not cert or not key:
        raise exception.APIConfigInvalid("[api] tls_cert_file and tls_key_file must be set together")
    for option, path in (("tls_cert_file", cert), ("tls_key_file", key)):
        try:
            with open(path, "rb"):
                pass
        except OSError as e:
            raise exception.APIConfigInvalid(f"[api] {option} {path} cannot be read: {e.strerror}")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError) as e:
        raise exception.APIConfigInvalid(f"[api] tls_cert_file/tls_key_file are not a usable PEM "
                                         f"certificate and matching key: {e}")
    return cert, key


def check_options(host: str | None = None) -> None:
    """Everything the API refuses to start with (auth for ``host``, default ``[api] host``; TLS files).

    :raises APIConfigInvalid: with the reason, for the operator.
    """
    auth.check_config(CONF.api.host if host is None else host)
    tls_files()


def _bind_error_reason(e: OSError) -> str:
    """The OS reason of a bind failure ("Address already in use").

    cheroot folds every address it tried into one message; the last errno text is
    the useful part.
    """
    if e.strerror:
        return e.strerror
    reasons = re.findall(r"\[Errno -?\d+\] ([^)]+)", str(e))
    return reasons[-1] if reasons else str(e)


class APIService(ServiceBase):
    """The REST API as an oslo.service service.

    ``app_factory`` (no arguments -> WSGI app) is called in :meth:`start`, i.e.
    after any fork, so connections are opened in the process that uses them.
    ``host``/``port``/``threads`` default to ``[api] host``, ``port``, ``threads``
    (read at start). ``port=0`` picks a free port; :attr:`port` tells which.
    """

    def __init__(self, app_factory=None, host=None, port=None, threads=None):
        self._app_factory = app_factory or default_app_factory
        self._host, self._port, self._threads = host, port, threads
        self._server: wsgi.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return self._host if self._host is not None else CONF.api.host

    @property
    def port(self) -> int:
        """The bound port once started (useful with port 0), else the configured one."""
        if self._server is not None and self._server.bind_addr:
            return self._server.bind_addr[1]
        return self._port if self._port is not None else CONF.api.port

    def start(self):
        """Build the app, bind the socket and serve in a background thread.

        Raises APIConfigInvalid (see :func:`check_options`) before building
        anything, and APIBindFailed with the address and the reason when the
        socket cannot be bound (port in use, address not local, no permission).
        """
        host, port = self.host, self.port
        check_options(host)
        tls = tls_files()
        app = self._app_factory()
        # the first /readyz must not pay for the imports of its checks
        readiness.prepare()
        threads = self._threads or CONF.api.threads
        server = wsgi.Server(
            (host, port),
            app,
            numthreads=threads,
            server_name="delfin-like-api",
        )
        if tls is not None:
            from cheroot.ssl.builtin import BuiltinSSLAdapter

            server.ssl_adapter = BuiltinSSLAdapter(*tls)
        try:
            server.prepare()
        except OSError as e:
            reason = _bind_error_reason(e)
            LOG.error("The REST API cannot listen on %s:%s: %s", host, port, reason)
            raise exception.APIBindFailed(host=host, port=port, reason=reason) from e
        self._server = server
        self._thread = threading.Thread(target=server.serve, name="api-wsgi", daemon=True)
        self._thread.start()
        LOG.info("REST API listening on %s://%s:%s with %d threads",
                 "https" if tls else "http", host, self.port, threads)

    def stop(self, graceful=True):
        """Stop accepting connections and let running requests finish (cheroot's shutdown_timeout)."""
        if self._server is not None:
            self._server.stop()
            LOG.info("REST API stopped")

    def wait(self):
        """Block until the serving thread ends (after :meth:`stop`)."""
        if self._thread is not None:
            self._thread.join()

    def reset(self):
        """Nothing to reload: options are read when the service starts."""
