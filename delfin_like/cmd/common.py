"""What every console script shares: config and logging set-up, and the process service.

Connections and threads are created in :meth:`ProcessService.start`, i.e. in
the worker process that oslo.service's threading launcher (cotyledon) forks.
"""

import mmap
import os
import signal
import sys
import threading
from collections.abc import Callable

from oslo_log import log as logging
from oslo_service import service

from delfin_like import coordination, identity
from delfin_like.common import exception
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.rpc import transport as rpc_transport

LOG = logging.getLogger(__name__)

PROJECT = "delfin_like"

# exit status of a process that refused to run: its deployment name collides
EXIT_DEPLOYMENT_CONFLICT = 3

# set by launch() before the fork: the launcher's pid and a byte the worker writes its refusal code into
_launcher_pid: int | None = None
_refusal: mmap.mmap | None = None


def parse_config(argv: list[str] | None, description: str | None = None,
                 log_to_stderr: bool = False) -> None:
    """Parse the command line and config files (``--config-file`` optional); set up oslo.log.

    :param log_to_stderr: default logs to stderr, keeping stdout for a command's output.
    """
    logging.register_options(CONF)
    rpc_transport.register_opts()
    if log_to_stderr:
        CONF.set_default("use_stderr", True)
    CONF(argv if argv is not None else sys.argv[1:], project=PROJECT, description=description)
    logging.setup(CONF, PROJECT)


def check_api_options(prog: str) -> bool:
    """Refuse, before anything starts, an API configuration that must not serve.

    ``noauth`` off loopback, a bad htpasswd file, half or unreadable TLS files
    (see :func:`delfin_like.api.wsgi.check_options`). Checked here, in the
    launcher process, so a bad configuration ends the command with a clear
    message instead of a worker that fails at every restart.

    :returns: True if the API may start; False after logging and printing why.
    """
    from delfin_like.api import wsgi

    try:
        wsgi.check_options()
    except exception.APIConfigInvalid as e:
        LOG.error("%s", e)
        print(f"{prog}: {e}", file=sys.stderr)
        return False
    return True


class ProcessService(service.ServiceBase):
    """The one service a console script launches: process resources plus child services.

    :meth:`start` opens the database (and runs ``prepare``, e.g. migrations), then
    starts the children in order; :meth:`stop` stops them in reverse order (so
    the API stops accepting work first), then closes the bus, locks and database.
    """

    def __init__(self, name: str, children: list, prepare: Callable[[], None] | None = None,
                 uses_locks: bool = True):
        """:param children: oslo.service services; :param prepare: run after the db is configured;
        :param uses_locks: connect to the coordination backend at start-up (task managers)."""
        self.name = name
        self.children = list(children)
        self._prepare = prepare
        self._uses_locks = uses_locks
        self._started: list = []
        self._stopped = threading.Event()
        self.registration: identity.Registration | None = None

    def start(self) -> None:
        """Open the process's resources and start every child (in the forked worker)."""
        self._stopped.clear()
        db_api.configure()
        if self._prepare is not None:
            self._prepare()
        if self._uses_locks:
            try:
                coordination.get_coordinator()
            except exception.CoordinationUnavailable:
                # not fatal: every lock retries the connection, and its task is handed back
                LOG.warning("Coordination backend unavailable at start-up; locks will retry")
        # before any child: a process whose deployment name collides must not take a single task
        self.registration = identity.Registration(self.name, on_conflict=self._refuse)
        try:
            self.registration.start()
        except identity.CONFLICTS as e:
            self._refuse(e)
            if _launcher_pid is None:
                raise
            return
        for child in self.children:
            try:
                child.start()
            except BaseException:
                LOG.exception("%s: a service failed to start; stopping", self.name)
                self.stop(graceful=False)
                raise
            self._started.append(child)
        LOG.info("%s started (pid %d)", self.name, os.getpid())

    def _refuse(self, error: exception.DelfinLikeException) -> None:
        """Log why this process must not run and end the command with EXIT_DEPLOYMENT_CONFLICT."""
        LOG.error("%s refuses to run: %s", self.name, error)
        print(f"{self.name}: {error}", file=sys.stderr, flush=True)
        if _launcher_pid is not None and os.getppid() == _launcher_pid and _refusal is not None:
            _refusal[0] = EXIT_DEPLOYMENT_CONFLICT
            # the launcher stops this worker (SIGTERM) and exits instead of starting another
            os.kill(_launcher_pid, signal.SIGTERM)
        elif self._started:
            threading.Thread(target=self.stop, name="refused-stop", daemon=True).start()

    def stop(self, graceful: bool = True) -> None:
        """Stop the children in reverse order, then close the bus, the locks and the database."""
        if self._stopped.is_set():
            return
        LOG.info("%s stopping", self.name)
        for child in reversed(self._started):
            try:
                child.stop(graceful)
            except Exception:  # noqa: BLE001 - stop the others even if one fails
                LOG.exception("%s: stopping %s failed", self.name, type(child).__name__)
        self._started.clear()
        if self.registration is not None:
            self.registration.stop()
            self.registration = None
        rpc_transport.cleanup()
        coordination.stop()
        db_api.dispose()
        LOG.info("%s stopped", self.name)
        self._stopped.set()

    def wait(self) -> None:
        """Block until :meth:`stop` has finished."""
        self._stopped.wait()

    def reset(self) -> None:
        """Options are read when the children start; nothing to reload in place."""


def _ignore_sigint_in_worker(*_args) -> None:
    """In the forked worker: Ctrl-C reaches the whole process group, and the master's graceful
    SIGTERM must be what stops the worker (cotyledon's own SIGINT handling exits at once)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def graceful_sigint(launcher) -> bool:
    """Make SIGINT (Ctrl-C) stop ``launcher`` like SIGTERM: finish or hand back in-flight work.

    oslo.service's threading launcher (cotyledon) exits at once on SIGINT. Its master is told to
    read SIGINT as SIGTERM, and its worker ignores SIGINT (the master's SIGTERM stops it).
    :returns: False if the launcher is not the cotyledon-backed one this was written for.
    """
    manager = getattr(launcher, "_manager", None)
    on_signal = getattr(manager, "_on_signal_received", None)
    if on_signal is None or not hasattr(manager, "register_hooks"):
        LOG.warning("SIGINT stops this process at once: unknown launcher %s", type(launcher).__name__)
        return False

    def on_signal_graceful(sig: int) -> None:
        on_signal(signal.SIGTERM if sig == signal.SIGINT else sig)

    manager._on_signal_received = on_signal_graceful
    manager.register_hooks(on_new_worker=_ignore_sigint_in_worker)
    return True


def launch(process_service: ProcessService) -> int:
    """Run ``process_service`` under oslo.service's launcher until SIGTERM or SIGINT (both
    graceful); returns the exit code (:data:`EXIT_DEPLOYMENT_CONFLICT` if the worker refused to run)."""
    global _launcher_pid, _refusal
    _launcher_pid = os.getpid()
    _refusal = mmap.mmap(-1, 1)  # anonymous and shared: the forked worker's write is seen here
    launcher = service.launch(CONF, process_service, workers=1, restart_method="mutate")
    graceful_sigint(launcher)
    try:
        code = launcher.wait()
    except SystemExit as e:  # the threading launcher ends its wait with sys.exit(0)
        code = e.code
    return _refusal[0] or code or 0
