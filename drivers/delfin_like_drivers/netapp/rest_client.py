"""A small client of ONTAP-style REST APIs: one ``requests`` session, bounded calls, paged listings.

Every request has a connect timeout and a read timeout, and its whole body must arrive within
the driver's timeout (a peer that trickles bytes cannot hold a sync forever); bodies are capped
in size. Listings follow ``_links.next`` with a bounded ``max_records`` and yield one record at a
time, so only one page is ever held in memory. Every failure is a :mod:`delfin_like.sdk.exceptions`
error whose message is safe to show a user and whose ``detail`` is for the operator's log; neither
ever holds the password (credentials travel only in the Authorization header).

TLS: certificates are verified by default. ``verify`` is False (no verification), True (the
system's CAs) or a CA bundle path. The session ignores the environment (``trust_env=False``):
``REQUESTS_CA_BUNDLE`` would otherwise silently replace the per-storage CA, and proxies and
``.netrc`` have no say in how an array is reached.
"""

import json
import time
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from delfin_like.sdk import cancel, exceptions

MAX_BODY = 64 * 1024 * 1024  # bytes of one response; a page of 10,000 volumes is about 5 MB
MAX_PAGES = 100_000  # a peer whose next links never end is a broken peer
_CHUNK = 256 * 1024


class RestClient:
    """GETs JSON from ``base_url`` with HTTP Basic auth.

    :param base_url: ``https://host:port`` (or ``http://``).
    :param timeout: seconds one request may take in all (connect, send, whole body).
    :param verify: False, True or a CA bundle path (see the module docstring).
    :param page_size: ``max_records`` of each page of a listing.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        timeout: float,
        verify: bool | str = True,
        page_size: int = 1000,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = float(timeout)
        self.page_size = page_size
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.auth = (username, password)
        self.session.verify = verify
        self.session.headers.update({"Accept": "application/hal+json, application/json"})
        # one pooled keep-alive connection is what a sync uses; no automatic retries of a failure
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=2, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._where = urlsplit(self.base_url).netloc

    def close(self) -> None:
        self.session.close()

    # -- one request --------------------------------------------------------------------

    def get(self, path: str, params: dict | None = None) -> dict:
        """The JSON object at ``path`` (relative to the base URL, a ``/api/...`` path).

        :raises InvalidCredentials: 401/403. :raises DriverTimeout: no answer in time.
        :raises BackendUnreachable: connection or TLS failure, connection closed mid-body, 503.
        :raises BackendError: any other error status, or a body that is not a JSON object.
        """
        url = urljoin(self.base_url + "/", path.lstrip("/"))
        what = f"GET {urlsplit(url).path} on {self._where}"
        deadline = time.monotonic() + self.timeout
        try:
            response = self.session.get(
                url, params=params, stream=True, allow_redirects=False, timeout=(min(self.timeout, 15.0), self.timeout)
            )
            try:
                status = response.status_code
                body = self._read(response, deadline, what)
            finally:
                response.close()
        except (requests.exceptions.SSLError, urllib3.exceptions.SSLError) as e:
            raise exceptions.BackendUnreachable(
                "the array's TLS certificate could not be verified (or the TLS handshake failed)",
                detail=f"{what}: {_reason(e)}",
            )
        except (
            requests.exceptions.ConnectTimeout,
            requests.exceptions.ReadTimeout,
            urllib3.exceptions.TimeoutError,
        ) as e:
            raise exceptions.DriverTimeout(
                f"the array did not answer within {self.timeout:g} s", detail=f"{what}: {_reason(e)}"
            )
        except (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.ProtocolError) as e:
            raise exceptions.BackendUnreachable(
                "the array closed the connection in the middle of a response", detail=f"{what}: {_reason(e)}"
            )
        except requests.exceptions.ConnectionError as e:
            if isinstance(_innermost(e), urllib3.exceptions.TimeoutError | TimeoutError):
                # a read timeout while the body streams in surfaces as a ConnectionError
                raise exceptions.DriverTimeout(
                    f"the array did not answer within {self.timeout:g} s", detail=f"{what}: {_reason(e)}"
                )
            raise exceptions.BackendUnreachable("the array could not be reached", detail=f"{what}: {_reason(e)}")
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as e:
            raise exceptions.BackendUnreachable("the request to the array failed", detail=f"{what}: {_reason(e)}")
        return self._decode(status, body, what)

    def _read(self, response: requests.Response, deadline: float, what: str) -> bytes:
        chunks, size = [], 0
        # read1 returns whatever one receive brings: a trickling peer meets the deadline check
        while chunk := response.raw.read1(_CHUNK, decode_content=True):
            size += len(chunk)
            if size > MAX_BODY:
                raise exceptions.BackendError(
                    "the array sent a response that is too large", detail=f"{what}: more than {MAX_BODY} bytes"
                )
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise exceptions.DriverTimeout(
                    f"the array did not answer within {self.timeout:g} s",
                    detail=f"{what}: body still arriving at the deadline",
                )
        return b"".join(chunks)

    def _decode(self, status: int, body: bytes, what: str) -> dict:
        if status in (401, 403):
            raise exceptions.InvalidCredentials(
                "the array refused the user name or password"
                if status == 401
                else "the array's user lacks the permission to read the inventory",
                detail=f"{what}: HTTP {status}",
            )
        if status >= 300:
            cls = exceptions.BackendUnreachable if status == 503 else exceptions.BackendError
            raise cls(f"the array answered HTTP {status}", detail=f"{what}: HTTP {status}: {_error_text(body)}")
        try:
            data = json.loads(body)
        except ValueError as e:
            raise exceptions.BackendError("the array answered with data that is not valid JSON", detail=f"{what}: {e}")
        if not isinstance(data, dict):
            raise exceptions.BackendError(
                "the array answered with an unexpected document",
                detail=f"{what}: a JSON {type(data).__name__}, not an object",
            )
        return data

    # -- listings -------------------------------------------------------------------------

    def records(self, path: str, fields: list[str], query: dict | None = None) -> Iterator[dict]:
        """Every record of the collection at ``path`` with ``fields``, page by page; ``query``
        adds filters (ONTAP query parameters such as ``{"time": ">=2025-03-01T00:00:00+00:00"}``).

        :raises BackendError: a page without a ``records`` list, a record that is not an object,
            a ``num_records`` that disagrees, or a next link that leaves the API or never ends.
        """
        params: dict | None = {**(query or {}), "fields": ",".join(fields), "max_records": self.page_size}
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            # a call past its deadline asks the array for no further page
            cancel.check()
            page = self.get(path, params)
            records = page.get("records")
            if not isinstance(records, list):
                raise exceptions.BackendError(
                    "the array answered a listing without records",
                    detail=f"GET {path} on {self._where}: no 'records' list",
                )
            count = page.get("num_records")
            if count is not None and count != len(records):
                raise exceptions.BackendError(
                    "the array answered an inconsistent listing",
                    detail=f"GET {path}: num_records {count} but {len(records)} records",
                )
            for record in records:
                if not isinstance(record, dict):
                    raise exceptions.BackendError(
                        "the array answered a listing with a malformed record",
                        detail=f"GET {path}: a record is a {type(record).__name__}",
                    )
                yield record
            path = _next_href(page, self._where)
            if path is None:
                return
            if path in seen:
                raise exceptions.BackendError("the array's listing does not end", detail=f"next link {path} repeats")
            seen.add(path)
            params = None  # the next link carries the query
        raise exceptions.BackendError("the array's listing does not end", detail=f"more than {MAX_PAGES} pages")


def _next_href(page: dict, where: str) -> str | None:
    links = page.get("_links")
    nxt = links.get("next") if isinstance(links, dict) else None
    href = nxt.get("href") if isinstance(nxt, dict) else None
    if href is None:
        return None
    parts = urlsplit(href) if isinstance(href, str) else None
    # only a path under /api/: the credentials never follow a link to another host
    if parts is None or parts.scheme or parts.netloc or not parts.path.startswith("/api/"):
        raise exceptions.BackendError(
            "the array answered a listing with an invalid next link",
            detail=f"on {where}: next link {str(href)[:200]!r}",
        )
    return href


def _error_text(body: bytes) -> str:
    """The message of an ONTAP error body, else the start of the body (for the operator)."""
    try:
        error = json.loads(body).get("error") or {}
        return f"{error.get('message', '')} (code {error.get('code', '?')})"[:300]
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", "replace")


def _innermost(e: BaseException) -> BaseException:
    """The root cause of a requests exception (requests and urllib3 wrap several layers)."""
    cause = e
    for _ in range(8):
        inner = getattr(cause, "reason", None)
        if not isinstance(inner, BaseException):
            inner = cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else cause.__cause__
        if inner is None or inner is cause:
            break
        cause = inner
    return cause


def _reason(e: BaseException) -> str:
    """The root cause of ``e``, short, for the operator's log."""
    cause = _innermost(e)
    return f"{type(cause).__name__}: {cause}"[:300]
