"""ONTAP-style REST front end of a simulated array: HTTP Basic auth over HTTPS (or plain HTTP).

It follows the public NetApp ONTAP REST API conventions for what storage managers read:
``GET /api/cluster``, ``/api/cluster/nodes``, ``/api/storage/aggregates``, ``/api/storage/volumes``,
``/api/network/ethernet/ports``, ``/api/network/fc/ports``, ``/api/storage/disks`` and the event log
``/api/support/ems/events`` (filtered by ``time`` and ``message.severity``). Listings answer
``{"records": [...], "num_records": N, "_links": {"self": ..., "next": ...}}``; ``fields=`` picks
fields (dotted paths; ``*`` everything but statistics, ``**`` everything), ``max_records=`` bounds a
page and ``_links.next.href`` continues after the last key served (``start.<key>=``), so a listing
stays consistent while the array churns. Capacities are bytes under ``space.*``; raw counters under
``statistics.*`` (``iops_raw``, ``throughput_raw`` in bytes, ``latency_raw`` in microseconds, each
with read/write/other/total, and an ISO-8601 ``timestamp`` that follows the array's clock).
Resource keys are UUIDs (:func:`ontap_uuid` of the model's ids; disks are keyed by name and carry
:func:`disk_uid`). Errors are ``{"error": {"message", "code", "target"}}``.

The model's ``faults["rest"]`` apply at run time: ``delay`` before every response,
``drop_after`` closes the connection in the middle of the listing page that would carry record
number ``drop_after + 1`` (counted from the start of the listing), ``malformed`` answers bodies
that are not JSON.

Server: the standard library's ThreadingHTTPServer, with keep-alive and a thread per connection.
A simulator serves a handful of clients, and owning the socket is what lets a fault cut a body
short and close the connection, which a WSGI server (cheroot) does not let an application do.
"""

import base64
import bisect
import datetime
import hmac
import http.server
import ipaddress
import json
import os
import shutil
import socket
import socketserver
import ssl
import tempfile
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from delfin_like_drivers.simulator import rest_records as fmt
from delfin_like_drivers.simulator.model import SimulatedArray
from delfin_like_drivers.simulator.rest_records import disk_uid, ontap_uuid  # noqa: F401 - part of this API

DEFAULT_PAGE = 10000  # records of a page when the client gives no max_records (ONTAP's return_timeout)
MAX_PAGE = 100000
CA_FILE = "rest-ca.pem"
_CA_KEY_FILE = "rest-ca.key"


class _NotFound(Exception):
    pass


class _BadRequest(Exception):
    def __init__(self, message: str, target: str = ""):
        super().__init__(message)
        self.target = target


def _time_matches(value: str, condition: str) -> bool:
    """Whether the ISO time ``value`` meets an ONTAP query condition (``>=T``, ``>T``, ``<=T``, ``<T``, ``T``).

    :raises _BadRequest: a condition that is not an operator and an ISO 8601 time with its offset.
    """
    for op in (">=", "<=", ">", "<", ""):
        if condition.startswith(op):
            text = condition[len(op) :].strip().replace("Z", "+00:00")
            break
    try:
        bound = datetime.datetime.fromisoformat(text)
        if bound.tzinfo is None:
            raise ValueError("no offset")
    except ValueError:
        raise _BadRequest(f'Invalid value "{condition}" for field "time".', "time") from None
    moment = datetime.datetime.fromisoformat(value)
    return {">=": moment >= bound, "<=": moment <= bound, ">": moment > bound, "<": moment < bound,
            "": moment == bound}[op]  # fmt: skip


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address, front_end: "RestFrontEnd"):
        self.front_end = front_end
        self.connections: set = set()
        self.connections_lock = threading.Lock()
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)

    def finish_request(self, request, client_address):
        # the TLS handshake runs here, in the connection's own thread, so a slow client blocks nobody
        context = self.front_end._ssl_context
        if context is not None:
            request.settimeout(10)
            try:
                request = context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # e.g. a client that does not trust our certificate hangs up
            request.settimeout(None)
        with self.connections_lock:
            self.connections.add(request)
        try:
            super().finish_request(request, client_address)
        except (ConnectionError, ssl.SSLError, TimeoutError):
            pass
        finally:
            with self.connections_lock:
                self.connections.discard(request)
            try:
                request.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass  # a client that went away is not the simulator's problem

    def close_connections(self) -> None:
        with self.connections_lock:
            connections, self.connections = list(self.connections), set()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SimulatedONTAP/1.0"
    disable_nagle_algorithm = True
    timeout = 120  # an idle keep-alive connection is closed after this

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        front = self.server.front_end
        front.requests_served += 1  # for tests that check how lazily a client pages
        faults = front.array.faults["rest"]
        if faults.delay:
            time.sleep(faults.delay)
        if not self._authorized(front):
            self._error(401, "User is not authorized.", "6", headers={"WWW-Authenticate": 'Basic realm="ONTAP"'})
            return
        url = urlsplit(self.path)
        try:
            status, body, cut = front.answer(url.path.rstrip("/") or "/", parse_qs(url.query, keep_blank_values=True))
        except _BadRequest as e:
            self._error(400, str(e), "262179", target=e.target)
            return
        except _NotFound:
            self._error(404, f'API not found: "{url.path}".', "3")
            return
        if faults.malformed:
            body, cut = b'{"records": [{"uuid": "1b5d", "name": ' + b"\x00\xff" * 8, None
        self._send(status, body, cut)

    def _not_get(self):
        self._error(405, "Method not allowed.", "1", headers={"Allow": "GET"})

    do_POST = do_PUT = do_PATCH = do_DELETE = _not_get

    def _authorized(self, front: "RestFrontEnd") -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        # both comparisons always run, in constant time
        ok_user = hmac.compare_digest(user.encode(), front.username.encode())
        ok_password = hmac.compare_digest(password.encode(), front.password.encode())
        return ok_user and ok_password

    def _error(self, status: int, message: str, code: str, target: str = "", headers=None) -> None:
        error = {"message": message, "code": code}
        if target:
            error["target"] = target
        self._send(status, json.dumps({"error": error}).encode(), None, headers)

    def _send(self, status: int, body: bytes, cut: int | None, headers=None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/hal+json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if cut is None:
            self.wfile.write(body)
            return
        # the drop_after fault: part of the body, then the connection goes away
        self.wfile.write(body[:cut])
        self.close_connection = True


class RestFrontEnd:
    """Serves one :class:`SimulatedArray` the ONTAP way on ``host:port`` (0: any free port).

    ``start()`` binds and serves in a thread (and, with ``tls``, writes the CA certificate to
    ``ca_file``); ``stop()`` closes the listener and every open connection. ``username`` and
    ``password`` may be changed while it runs (a test rotating the array's credentials).
    """

    def __init__(
        self,
        array: SimulatedArray,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = True,
        state_dir: str | None = None,
        username: str = "admin",
        password: str = "netapp1!",
    ):
        self.array = array
        self.host = host
        self.requested_port = port
        self.tls = tls
        self.username = username
        self.password = password
        self._own_state_dir = state_dir is None
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="delfin-like-sim-rest-")
        self.ca_file: str | None = None
        self._ssl_context: ssl.SSLContext | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._view_lock = threading.Lock()
        self._view: tuple[int, dict, dict[str, fmt.Listing]] | None = None
        # ISO timestamps follow the array's clock, anchored to the wall clock now
        self._epoch = time.time() - array.clock
        self.requests_served = 0

    @property
    def port(self) -> int:
        """The port actually bound (after ``start()``)."""
        if self._server is None:
            return self.requested_port
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def start(self) -> "RestFrontEnd":
        """Bind, load or create the TLS material, and serve; returns self."""
        if self.tls:
            self._ssl_context = self._tls_context()
        self._server = _Server((self.host, self.requested_port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"rest-{self.array.name}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection (idempotent)."""
        server, self._server = self._server, None
        if server is None:
            return
        self.requested_port = server.server_address[1]  # a restart binds the same port
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(5)
        if self._own_state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)
            self.ca_file = None

    # -- answering ------------------------------------------------------------------------

    def _current(self) -> tuple[dict, dict[str, fmt.Listing]]:
        with self._view_lock:
            if self._view is None or self._view[0] != self.array.generation:
                snap = self.array.snapshot()
                self._view = (snap.generation, *fmt.format_snapshot(snap))
            return self._view[1], self._view[2]

    def _timestamp(self, clock: float) -> str:
        moment = datetime.datetime.fromtimestamp(self._epoch + clock, datetime.UTC)
        return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes, int | None]:
        """Status, JSON body and (for the drop_after fault) where to cut it, for ``GET path?query``.

        :raises _NotFound: unknown path. :raises _BadRequest: a bad query.
        """
        if path == fmt.EMS_PATH:
            return self._ems(query)
        if path not in fmt.FIELDS:
            raise _NotFound(path)
        allowed = {"fields", "max_records", "return_records", "return_timeout"}
        for name in query:
            if name not in allowed and not name.startswith("start."):
                raise _BadRequest(f'Unexpected argument "{name}".', name)
        raw_fields = query.get("fields", [""])[-1]
        paths = self._field_paths(path, raw_fields)
        cluster, listings = self._current()
        if path == "/api/cluster":
            record = dict(cluster)
            if paths is None or any(p[0] == "statistics" for p in paths):
                clock, counters = self.array.counters_many([self.array.serial])
                record["statistics"] = fmt.statistics(counters[self.array.serial], self._timestamp(clock), "full")
            return 200, json.dumps(fmt.select(record, paths, "uuid")).encode(), None
        return self._page(path, listings[path], query, raw_fields, paths)

    def _ems(self, query: dict[str, list[str]]) -> tuple[int, bytes, int | None]:
        """The event log, oldest first: ``time`` and ``message.severity`` filter the way ONTAP's
        queries do (``time=>=2025-03-01T00:00:00Z``, ``message.severity=error|alert``), ``index``
        is the key (``start.index=`` continues a listing), ``fields`` picks as elsewhere."""
        allowed = {"fields", "max_records", "return_records", "return_timeout", "time", "message.severity",
                   "start.index"}  # fmt: skip
        for name in query:
            if name not in allowed:
                raise _BadRequest(f'Unexpected argument "{name}".', name)
        records = fmt.ems_records(self.array.event_snapshot())
        if "time" in query:
            records = [r for r in records if _time_matches(r["time"], query["time"][-1])]
        if "message.severity" in query:
            wanted = set(query["message.severity"][-1].split("|"))
            records = [r for r in records if r["message"]["severity"] in wanted]
        raw = query.get("fields", [""])[-1]
        names = [f.strip() for f in raw.split(",") if f.strip()]
        paths: list[list[str]] | None = None
        if "**" not in names and "*" not in names:
            paths = []
            for name in names:
                if name.split(".")[0] not in fmt.EMS_FIELDS:
                    raise _BadRequest(f'The value "{name}" is invalid for field "fields".', "fields")
                paths.append(name.split("."))
            paths = paths or [["index"]]
        try:
            size = int(query.get("max_records", [str(DEFAULT_PAGE)])[-1])
            after = int(query["start.index"][-1]) if "start.index" in query else None
        except ValueError:
            raise _BadRequest('Fields "max_records" and "start.index" must be integers.', "max_records")
        if not 1 <= size <= MAX_PAGE:
            raise _BadRequest(f'Field "max_records" must be between 1 and {MAX_PAGE}.', "max_records")
        first = bisect.bisect_right([r["index"] for r in records], after) if after is not None else 0
        page = records[first : first + size]
        links = {"self": {"href": fmt.EMS_PATH}}
        if first + size < len(records) and page:
            params = {k: v[-1] for k, v in query.items() if k != "start.index"}
            params.update({"max_records": str(size), "start.index": str(page[-1]["index"])})
            links["next"] = {"href": f"{fmt.EMS_PATH}?{urlencode(params)}"}
        if query.get("return_records", ["true"])[-1] == "false":
            page = []
        body = {"records": [fmt.select(r, paths, "index") for r in page], "num_records": len(page), "_links": links}
        return 200, json.dumps(body).encode(), None

    def _field_paths(self, path: str, raw: str) -> list[list[str]] | None:
        """Requested dotted paths; None means every field (``**``)."""
        names = [f.strip() for f in raw.split(",") if f.strip()]
        if "**" in names:
            return None
        out = []
        for name in names:
            if name == "*":
                out.extend([f] for f in fmt.FIELDS[path] if f != "statistics")
                continue
            parts = name.split(".")
            if parts[0] not in fmt.FIELDS[path]:
                raise _BadRequest(f'The value "{name}" is invalid for field "fields".', "fields")
            out.append(parts)
        if not out:
            out = [["name"]] + ([["uuid"]] if "uuid" in fmt.FIELDS[path] else [])
        return out

    def _page(self, path, listing: fmt.Listing, query, raw_fields, paths) -> tuple[int, bytes, int | None]:
        try:
            size = int(query.get("max_records", [str(DEFAULT_PAGE)])[-1])
        except ValueError:
            raise _BadRequest('Field "max_records" must be an integer.', "max_records")
        if not 1 <= size <= MAX_PAGE:
            raise _BadRequest(f'Field "max_records" must be between 1 and {MAX_PAGE}.', "max_records")
        after = query.get(f"start.{listing.key}", [None])[-1]
        first = bisect.bisect_right(listing.keys, after) if after is not None else 0
        records = listing.records[first : first + size]
        with_stats = listing.statistics and (paths is None or any(p[0] == "statistics" for p in paths))
        if with_stats:
            ids = listing.counter_ids[first : first + size]
            clock, counters = self.array.counters_many([i for i in ids if i])
            stamp = self._timestamp(clock)
            records = [
                dict(r, statistics=fmt.statistics(counters[i], stamp, listing.statistics)) if i in counters else r
                for r, i in zip(records, ids, strict=True)
            ]
        if query.get("return_records", ["true"])[-1] == "false":
            records = []
        encoded = [json.dumps(fmt.select(r, paths, listing.key)).encode() for r in records]
        links = {"self": {"href": path}}
        if first + size < len(listing.records) and records:
            params = {"max_records": str(size), f"start.{listing.key}": listing.keys[first + size - 1]}
            if raw_fields:
                params["fields"] = raw_fields
            links["next"] = {"href": f"{path}?{urlencode(params)}"}
        head = b'{"records": ['
        tail = f'], "num_records": {len(encoded)}, "_links": {json.dumps(links)}}}'.encode()
        body = head + b", ".join(encoded) + tail
        cut = None
        drop_after = self.array.faults["rest"].drop_after
        if drop_after is not None and first + len(encoded) > drop_after:
            keep = max(0, drop_after - first)
            cut = len(head) + sum(len(e) + 2 for e in encoded[:keep])
        return 200, body, cut

    # -- TLS ---------------------------------------------------------------------------

    def _tls_context(self) -> ssl.SSLContext:
        ca_key, ca_cert = _load_or_create_ca(self.state_dir)
        self.ca_file = os.path.join(self.state_dir, CA_FILE)
        key = ec.generate_private_key(ec.SECP256R1())
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        try:
            if self.host not in ("127.0.0.1", "localhost"):
                names.append(x509.IPAddress(ipaddress.ip_address(self.host)))
        except ValueError:
            names.append(x509.DNSName(self.host))
        extensions = [
            (x509.SubjectAlternativeName(names), False),
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
        ]
        cert = _certificate(_name(self.array.name), ca_cert.subject, key, ca_key, 825, extensions)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        # ssl loads a chain only from a file: a private one, removed as soon as it is read
        fd, chain = tempfile.mkstemp(dir=self.state_dir, suffix=".pem")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(_key_pem(key) + cert.public_bytes(serialization.Encoding.PEM))
            context.load_cert_chain(chain)
        finally:
            os.unlink(chain)
        return context


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _certificate(subject, issuer, key, signer, days: int, extensions) -> x509.Certificate:
    """A certificate of ``key``'s public half, valid from an hour ago for ``days``, signed by ``signer``."""
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signer, hashes.SHA256())


_CA_USAGE = {
    usage: usage in ("digital_signature", "key_cert_sign", "crl_sign")
    for usage in "digital_signature content_commitment key_encipherment data_encipherment key_agreement "
    "key_cert_sign crl_sign encipher_only decipher_only".split()
}


def _load_or_create_ca(state_dir: str):
    """The simulator's CA (key, certificate) from ``state_dir``, created there (key mode 0600) if absent."""
    cert_path, key_path = os.path.join(state_dir, CA_FILE), os.path.join(state_dir, _CA_KEY_FILE)
    if os.path.exists(cert_path) and os.path.exists(key_path):
        with open(key_path, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), password=None)
        with open(cert_path, "rb") as f:
            return key, x509.load_pem_x509_certificate(f.read())
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("delfin-like simulator CA")
    extensions = [(x509.BasicConstraints(ca=True, path_length=0), True), (x509.KeyUsage(**_CA_USAGE), True)]
    cert = _certificate(name, name, key, key, 3650, extensions)
    os.makedirs(state_dir, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(_key_pem(key))
    # written whole, then renamed: a client never reads half a CA file
    tmp = cert_path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(tmp, cert_path)
    return key, cert
