"""APIService: the app served by cheroot threads on a real socket."""

import http.client
import json
import socket

import pytest

from delfin_like.api import app, wsgi
from delfin_like.common import exception
from delfin_like.conf import CONF


@pytest.fixture
def service(sqlite_db, rpcapi):
    svc = wsgi.APIService(app_factory=lambda: app.setup_app(rpcapi=rpcapi), host="127.0.0.1",
                          port=0, threads=2)
    svc.start()
    yield svc
    svc.stop()
    svc.wait()


def _request(svc, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=10)
    try:
        chunked = (headers or {}).get("Transfer-Encoding") == "chunked"
        conn.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type"), resp.read()
    finally:
        conn.close()


def test_serves_json_on_the_bound_port(service):
    status, ctype, body = _request(service, "GET", "/v1/storages")
    assert (status, ctype) == (200, "application/json")
    assert json.loads(body) == {"storages": []}
    status, _, body = _request(service, "GET", "/nowhere")
    assert status == 404 and json.loads(body)["error_code"] == "NotFound"


def test_chunked_body_over_the_limit_is_413(service):
    CONF.set_override("max_body_bytes", 1024, group="api")

    def chunks():
        for _ in range(10):
            yield b'{"vendor": "' + b"x" * 300 + b'"}'

    status, _, body = _request(service, "POST", "/v1/storages", body=chunks(),
                               headers={"Content-Type": "application/json",
                                        "Transfer-Encoding": "chunked"})
    assert status == 413 and json.loads(body)["error_code"] == "RequestBodyTooLarge"


def test_chunked_body_under_the_limit_is_read(service):
    status, _, body = _request(service, "POST", "/v1/storages", body=iter([b"{", b'"vendor": 1}']),
                               headers={"Content-Type": "application/json",
                                        "Transfer-Encoding": "chunked"})
    assert status == 400
    assert json.loads(body)["error_msg"] == "Invalid input: body: 'model' is a required property"


def test_port_in_use_is_a_clear_error(sqlite_db, rpcapi):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        svc = wsgi.APIService(app_factory=lambda: app.setup_app(rpcapi=rpcapi),
                              host="127.0.0.1", port=port)
        with pytest.raises(exception.APIBindFailed) as info:
            svc.start()
    assert str(info.value) == f"The REST API cannot listen on 127.0.0.1:{port}: Address already in use"


def test_options_come_from_conf_at_start(sqlite_db, rpcapi):
    CONF.set_override("port", 0, group="api")
    CONF.set_override("threads", 1, group="api")
    svc = wsgi.APIService(app_factory=lambda: app.setup_app(rpcapi=rpcapi))
    svc.start()
    try:
        assert svc.host == "127.0.0.1" and svc.port > 0
        assert _request(svc, "GET", "/healthz")[0] == 200
    finally:
        svc.stop()
        svc.wait()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", svc.port), timeout=1).close()
