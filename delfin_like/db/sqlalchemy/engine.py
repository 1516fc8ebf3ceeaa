"""Engine set-up and connection handling for every supported database.

One engine per process, built by :func:`configure` after fork. Writes go
through :func:`write`, reads through :func:`read`; both map a lost or refused
connection to :class:`~delfin_like.common.exception.DatabaseUnavailable`.
"""

import contextlib
import functools
import os

import sqlalchemy as sa
from oslo_log import log as logging
from sqlalchemy import event, exc

from delfin_like.common import exception
from delfin_like.conf import CONF

LOG = logging.getLogger(__name__)

_engine: sa.engine.Engine | None = None


def default_sqlite_url() -> str:
    return "sqlite:///" + os.path.join(CONF.state_path, "delfin_like.sqlite")


def _sqlite_setup(engine: sa.engine.Engine) -> None:
    # pysqlite's own transaction handling is off; we BEGIN ourselves so that a
    # write transaction takes the write lock up front (BEGIN IMMEDIATE) instead
    # of failing with "database is locked" when it upgrades a read lock.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("delfin_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_engine(url: str | None = None) -> sa.engine.Engine:
    """Build an engine for ``url`` (or ``[database] connection``, or SQLite under state_path)."""
    url = url or CONF.database.connection or default_sqlite_url()
    parsed = sa.engine.make_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict = {"future": True}
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        timeout = CONF.database.connect_timeout
        kwargs.update(
            pool_pre_ping=True,
            pool_size=CONF.database.pool_size,
            max_overflow=CONF.database.max_overflow,
            pool_timeout=CONF.database.pool_timeout,
            pool_recycle=3600,
        )
        if backend == "postgresql":
            kwargs["connect_args"] = {"connect_timeout": timeout}
        elif backend in ("mysql", "mariadb"):
            kwargs["connect_args"] = {"connect_timeout": timeout, "charset": "utf8mb4"}
    engine = sa.create_engine(parsed, **kwargs)
    if backend == "sqlite":
        _sqlite_setup(engine)
    return engine


def configure(connection: str | None = None) -> None:
    """(Re)build this process's engine. Call after fork, before any other db call."""
    global _engine
    dispose()
    _engine = create_engine(connection)
    LOG.debug("Database engine configured for %s", _engine.url.render_as_string(hide_password=True))


def dispose() -> None:
    global _engine
    if _engine is not None:
        _engine.dispose()
        _engine = None


def get_engine() -> sa.engine.Engine:
    if _engine is None:
        configure()
    return _engine


def _is_unavailable(e: Exception) -> bool:
    if isinstance(e, (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)):
        return True
    return isinstance(e, exc.DBAPIError) and e.connection_invalidated


def translate_errors(fn):
    """Decorator: connection-level database failures become DatabaseUnavailable (503)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except exc.SQLAlchemyError as e:
            if _is_unavailable(e):
                reason = str(getattr(e, "orig", None) or e).splitlines()[0]
                LOG.error("Database unavailable in %s: %s: %s", fn.__name__, type(e).__name__, reason)
                raise exception.DatabaseUnavailable() from e
            raise

    return wrapper


@contextlib.contextmanager
def write():
    """A connection inside one write transaction (committed on success)."""
    with get_engine().connect() as conn:
        conn = conn.execution_options(delfin_write=True)
        with conn.begin():
            yield conn


@contextlib.contextmanager
def read():
    """A connection for reads (one transaction, rolled back at the end)."""
    with get_engine().connect() as conn:
        yield conn
