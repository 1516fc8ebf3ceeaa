"""Fixtures shared by every test layer.

Databases: ``sqlite_db`` (a fresh file), ``postgresql_db`` and ``mysql_db``
(a fresh database created on the real server and dropped afterwards), each
migrated to head with alembic and configured as the process's db engine.
Services: ``rabbit_url`` and ``redis_url`` check the real broker and Redis; ``rabbit_bus`` points the
process transport at that broker.
Config: overrides on the global CONF are cleared after every test.
Peers: ``alertmanager``, one real Prometheus Alertmanager per test module (tests/alert_helpers.py).
"""

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from delfin_like.common import crypto
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.db import migration
from tests import services


@pytest.fixture(autouse=True)
def _conf(tmp_path):
    """Parse an empty command line, point state_path at tmp and undo overrides afterwards."""
    CONF([], project="delfin_like", default_config_files=[])
    CONF.set_override("state_path", str(tmp_path / "state"))
    yield CONF
    CONF.clear_override("state_path")
    CONF.reset()
    crypto.reset()


@pytest.fixture
def fernet_key():
    key = Fernet.generate_key().decode()
    CONF.set_override("fernet_keys", [key], group="security")
    crypto.reset()
    yield key
    CONF.clear_override("fernet_keys", group="security")
    crypto.reset()


def _use_database(url: str):
    migration.upgrade("head", url=url)
    CONF.set_override("connection", url, group="database")
    db_api.configure(url)


@pytest.fixture
def sqlite_db(tmp_path, fernet_key):
    url = f"sqlite:///{tmp_path / 'delfin_like.sqlite'}"
    _use_database(url)
    yield url
    db_api.dispose()


def _server_database(admin_url: str, name: str, dialect: str):
    """Create database ``name`` on the server of ``admin_url``; return its URL and a dropper."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    quote = '"' if dialect == "postgresql" else "`"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {quote}{name}{quote}")
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    def drop():
        with admin.connect() as conn:
            if dialect == "postgresql":
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            else:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()

    return url, drop


@pytest.fixture
def postgresql_url():
    """A fresh, empty PostgreSQL database (not migrated); dropped afterwards."""
    services.require("PostgreSQL", "127.0.0.1", 5432)
    url, drop = _server_database(services.POSTGRES_URL, services.unique_name("delfin_test"), "postgresql")
    yield url
    db_api.dispose()
    drop()


@pytest.fixture
def mysql_url():
    """A fresh, empty MariaDB/MySQL database (not migrated); dropped afterwards."""
    services.require("MariaDB", "127.0.0.1", 3306)
    url, drop = _server_database(services.MYSQL_URL, services.unique_name("delfin_test"), "mysql")
    yield url
    db_api.dispose()
    drop()


@pytest.fixture
def postgresql_db(postgresql_url, fernet_key):
    _use_database(postgresql_url)
    yield postgresql_url


@pytest.fixture
def mysql_db(mysql_url, fernet_key):
    _use_database(mysql_url)
    yield mysql_url


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def any_db(request, tmp_path, fernet_key):
    """Each test using it runs on SQLite, PostgreSQL and MariaDB."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_db")
    elif request.param == "postgresql":
        yield request.getfixturevalue("postgresql_db")
    else:
        yield request.getfixturevalue("mysql_db")


@pytest.fixture
def rabbit_url():
    services.require("RabbitMQ", "127.0.0.1", 5672)
    return services.RABBIT_URL


@pytest.fixture
def rabbit_bus(rabbit_url):
    """The process transport on the real RabbitMQ, under a topic prefix of its own; yields the URL."""
    from delfin_like.rpc import transport as rpc_transport

    rpc_transport.register_opts()
    CONF.set_override("transport_url", rabbit_url)
    # a unique topic prefix: parallel runs never consume each other's casts
    CONF.set_override("topic", services.unique_name("delfin_test"), group="rpc")
    yield rabbit_url
    rpc_transport.cleanup()


@pytest.fixture
def redis_url():
    services.require("Redis", "127.0.0.1", 6379)
    return services.REDIS_URL


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory):
    """One real Prometheus Alertmanager per test module (tests.alert_helpers.Alertmanager), started."""
    from tests.alert_helpers import Alertmanager

    am = Alertmanager(tmp_path_factory.mktemp("alertmanager")).start()
    yield am
    am.close()
