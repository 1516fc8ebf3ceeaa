"""GET /readyz against the real PostgreSQL, RabbitMQ and Redis, and with each one gone.

"Gone" is a closed port on 127.0.0.1 (refused at once) or a silent one (a
socket that never answers: the check must give up within its bound).
"""

import socket
import time
import urllib.parse

import pytest
import webtest

from delfin_like.api import app, readiness
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.rpc import transport as rpc_transport

pytestmark = pytest.mark.services

CLOSED = 1  # nothing listens on port 1


@pytest.fixture
def silent_port():
    """A port that accepts TCP connections (kernel backlog) but never says a word."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield s.getsockname()[1]


@pytest.fixture
def real_services(postgresql_db, rabbit_url, redis_url):
    rpc_transport.register_opts()
    CONF.set_override("transport_url", rabbit_url)
    CONF.set_override("backend_url", redis_url, group="coordination")
    yield
    rpc_transport.cleanup()


@pytest.fixture
def api(real_services):
    return webtest.TestApp(app.setup_app())


def _database_at(port: int) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"
    CONF.set_override("connection", url, group="database")
    db_api.configure(url)


def _readyz(api) -> tuple[webtest.TestResponse, float]:
    started = time.monotonic()
    resp = api.get("/readyz", expect_errors=True)
    return resp, time.monotonic() - started


def test_all_ready(api):
    resp, _ = _readyz(api)
    assert resp.status_int == 200
    assert resp.json == {"status": "ok", "checks": {"database": "ok", "message_bus": "ok", "locks": "ok"}}


@pytest.mark.parametrize(
    "which, error_code",
    [
        ("database", "DatabaseUnavailable"),
        ("message_bus", "MessageBusUnavailable"),
        ("locks", "CoordinationUnavailable"),
    ],
)
@pytest.mark.parametrize("port_kind", ["closed", "silent"])
def test_one_dependency_down(api, which, error_code, port_kind, silent_port):
    port = CLOSED if port_kind == "closed" else silent_port
    if which == "database":
        _database_at(port)
    elif which == "message_bus":
        CONF.set_override("transport_url", f"rabbit://guest:guest@127.0.0.1:{port}/")
    else:
        CONF.set_override("backend_url", f"redis://127.0.0.1:{port}", group="coordination")
    resp, took = _readyz(api)
    assert resp.status_int == 503, resp.text
    body = resp.json
    assert body["error_code"] == error_code
    assert body["error_args"] == [which]
    assert body["checks"][which] in ("unavailable", "timeout")
    assert [k for k, v in body["checks"].items() if v == "ok"] == [k for k in body["checks"] if k != which]
    assert str(port) not in resp.text  # where the dependency lives stays in the log
    assert took < readiness.CHECK_TIMEOUT + 1.5, took


def test_all_down_names_the_first_and_lists_every_failure(api, silent_port):
    _database_at(CLOSED)
    CONF.set_override("transport_url", f"rabbit://guest:guest@127.0.0.1:{silent_port}/")
    CONF.set_override("backend_url", f"redis://127.0.0.1:{CLOSED}", group="coordination")
    resp, took = _readyz(api)
    assert resp.status_int == 503
    assert resp.json["error_code"] == "DatabaseUnavailable"
    assert resp.json["error_args"] == ["database", "message_bus", "locks"]
    assert resp.json["status"] == "unavailable"
    assert took < readiness.CHECK_TIMEOUT + 1.5, took


def test_wrong_broker_password_is_not_ready(api, rabbit_url):
    wrong = urllib.parse.urlsplit(rabbit_url)
    netloc = f"{wrong.username}:not-the-password@{wrong.hostname}:{wrong.port or 5672}"
    CONF.set_override("transport_url", urllib.parse.urlunsplit(wrong._replace(netloc=netloc)))
    resp, _ = _readyz(api)
    assert resp.status_int == 503 and resp.json["error_code"] == "MessageBusUnavailable"
    assert "not-the-password" not in resp.text


def test_in_process_bus_and_file_locks_are_ready(postgresql_db):
    rpc_transport.register_opts()
    CONF.set_override("transport_url", "kombu+memory:////")
    resp = webtest.TestApp(app.setup_app()).get("/readyz")
    assert resp.json["checks"] == {"database": "ok", "message_bus": "ok", "locks": "ok"}
