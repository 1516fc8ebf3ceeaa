"""Error rendering: one line, the API's error_code and error_msg, a credentials hint on 401."""

import requests

from delfin_like.cli import errors


def _response(status: int, body: bytes, content_type="application/json") -> requests.Response:
    r = requests.Response()
    r.status_code, r._content = status, body
    r.headers["Content-Type"] = content_type
    return r


def test_api_error_is_one_line():
    body = b'{"error_code": "StorageNotFound", "error_msg": "Storage x could not be found.", "error_args": ["x"]}'
    e = errors.from_response(_response(404, body), "/cfg")
    assert str(e) == "Error: StorageNotFound: Storage x could not be found."
    assert e.status == 404 and e.error_code == "StorageNotFound"


def test_multiline_message_is_folded():
    assert str(errors.CliError("a\nb\n  c")) == "Error: a b c"


def test_unauthorized_tells_how_to_authenticate():
    body = b'{"error_code": "Unauthorized", "error_msg": "Authentication required.", "error_args": []}'
    text = str(errors.from_response(_response(401, body), "/home/u/.config/delfin-like/config"))
    assert "\n" not in text
    assert text.startswith("Error: Unauthorized: Authentication required.")
    for hint in ("--user/--password", "DELFIN_LIKE_USER/DELFIN_LIKE_PASSWORD", "/home/u/.config/delfin-like/config"):
        assert hint in text


def test_non_json_error_names_the_status():
    e = errors.from_response(_response(502, b"<html>bad gateway</html>", "text/html"), "/cfg")
    assert str(e) == "Error: HTTP 502: <html>bad gateway</html>"


def test_connection_refused_names_the_url():
    try:
        requests.get("http://127.0.0.1:1/", timeout=5)
    except requests.RequestException as exc:
        e = errors.from_transport(exc, "http://127.0.0.1:1", 5)
    assert str(e) == "Error: cannot connect to http://127.0.0.1:1: connection refused"


def test_timeout_names_the_option():
    e = errors.from_transport(requests.exceptions.ReadTimeout("slow"), "http://h:1", 2.5)
    assert str(e) == "Error: no answer from http://h:1 within 2.5 s (see --timeout)"
