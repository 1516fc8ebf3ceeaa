"""Trap receive-to-visible-in-the-API latency: p50/p99 and lost, at fixed rates (issue 14).

A ``delfin-like-all-in-one`` process (SQLite under a temporary state path, its trap receiver on,
or ``--connection`` another database) gets a fake storage and its v2c snmp-config over the REST
API. A sender process replays net-snmp's own datagram (``snmptrap`` of the fake driver's
enterprise trap, captured once) at a fixed rate, each copy with its own sequence-number varbind
(a fixed-width number written into the captured bytes, so every BER length stays the same), and
notes when it sent each. A reader thread here polls ``GET /v1/alerts?storage_id=..&sort=
created_at:desc&since=<the newest row seen, less 0.5 s>`` (the newest first, ``--page`` rows a request,
the next pages by marker while a page comes back full) over HTTP and notes when each
sequence number is first listed. Latency = first listed - sent (one clock: the same machine);
``lost`` = sent and never listed within ``--settle`` seconds of the last one.

    python benchmarks/trap_latency_bench.py                   # 500/s and 1,000/s, 5 s each
    python benchmarks/trap_latency_bench.py --rates 500 --seconds 10
    python benchmarks/trap_latency_bench.py --exporters jsonl   # also: exported, sent -> delivered

With ``--exporters`` the all-in-one queues every new alert for those alert exporters (its
dispatcher delivers them); with ``jsonl`` among them the run also counts the sequence numbers
delivered to the jsonl file (``exported``) and their sent -> delivered latency. ``--profile PATH``
records the all-in-one under py-spy for the whole run (py-spy must be installed). ``--version v3``
sends v3 authPriv (SHA/AES) traps instead, captured from ``snmptrap`` the same way: before the clock
starts, the sender decrypts the captured scoped PDU once, and gives each copy its sequence number,
encrypts it again (the captured salt kept) and signs it (HMAC-SHA-96), so every copy passes USM's
checks like the array's own traps (within USM's 150-second time window of the capture).
"""

import argparse
import datetime
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import requests

FAKE_TRAP_OID = "1.3.6.1.4.1.99999.1.1"
FIELD = "1.3.6.1.4.1.99999.1."
COMMUNITY = "bench-latency"
PLACEHOLDER = b"seq-000000000"  # the sequence varbind as captured; each copy writes its number over the digits
ENGINE_ID = "8000000001020304"
V3 = {"username": "bench-latency", "security_level": "authPriv", "auth_protocol": "SHA", "auth_key": "bench-auth-1",
      "privacy_protocol": "AES", "privacy_key": "bench-priv-1", "engine_id": ENGINE_ID}


def _free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def capture(binary: str, workdir: str, version: str = "v2c") -> bytes:
    """One datagram exactly as ``snmptrap`` sends the fake enterprise trap (v2c, or v3 authPriv SHA/AES)."""
    if version == "v3":
        security = ["-v", "3", "-e", "0x" + ENGINE_ID, "-u", V3["username"], "-l", "authPriv", "-a", "SHA",
                    "-A", V3["auth_key"], "-x", "AES", "-X", V3["privacy_key"]]
    else:
        security = ["-v", "2c", "-c", COMMUNITY]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(10)
        env = {"PATH": os.environ.get("PATH", ""), "MIBS": "", "SNMPCONFPATH": workdir, "HOME": workdir,
               "SNMP_PERSISTENT_DIR": os.path.join(workdir, "persist")}
        subprocess.run([binary, *security, f"127.0.0.1:{sock.getsockname()[1]}", "",
                        FAKE_TRAP_OID, FIELD + "1", "s", PLACEHOLDER.decode(), FIELD + "2", "s", "BENCH_LATENCY",
                        FIELD + "3", "s", "major", FIELD + "4", "s", "latency benchmark trap"],
                       env=env, check=True, timeout=10, capture_output=True)
        datagram = sock.recv(65536)
    if version == "v2c":
        assert datagram.count(PLACEHOLDER) == 1
    return datagram


def _sha_key(password: str, engine_id: bytes) -> bytes:
    """RFC 3414 A.2.2: the password stretched to 1 MiB, hashed, localized to the engine id (SHA-1)."""
    import hashlib

    raw = password.encode()
    stretched = (raw * (1048576 // len(raw) + 1))[:1048576]
    ku = hashlib.sha1(stretched).digest()
    return hashlib.sha1(ku + engine_id + ku).digest()


def v3_spec(datagram: bytes) -> dict:
    """What the sender needs to give each copy of a captured v3 authPriv (SHA/AES) trap its own sequence
    number: the decrypted scoped PDU and where the placeholder's digits lie in it, the AES-CFB key and IV
    to encrypt it again (the copies keep the captured salt), where the ciphertext and the HMAC-SHA-96
    digest lie in the datagram, and the localized auth key to compute the digest (RFC 3414, 3826)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from pyasn1.codec.ber import decoder
    from pysnmp.proto.mpmod.rfc3412 import SNMPv3Message
    from pysnmp.proto.secmod.rfc3414.service import UsmSecurityParameters

    message, _ = decoder.decode(datagram, asn1Spec=SNMPv3Message())
    usm, _ = decoder.decode(bytes(message["msgSecurityParameters"]), asn1Spec=UsmSecurityParameters())
    engine_id = bytes.fromhex(ENGINE_ID)
    auth_key = _sha_key(V3["auth_key"], engine_id)
    priv_key = _sha_key(V3["privacy_key"], engine_id)[:16]
    salt = bytes(usm["msgPrivacyParameters"])
    iv = int(usm["msgAuthoritativeEngineBoots"]).to_bytes(4, "big") + \
        int(usm["msgAuthoritativeEngineTime"]).to_bytes(4, "big") + salt
    encrypted = bytes(message["msgData"]["encryptedPDU"])
    plain = Cipher(algorithms.AES(priv_key), modes.CFB(iv)).decryptor().update(encrypted)
    assert plain.count(PLACEHOLDER) == 1, "the decrypted scoped PDU does not carry the placeholder"
    digest = bytes(usm["msgAuthenticationParameters"])
    assert len(digest) == 12 and datagram.count(digest) == 1 and datagram.count(encrypted) == 1
    return {"plain": plain.hex(), "digits": plain.index(PLACEHOLDER) + 4, "priv_key": priv_key.hex(), "iv": iv.hex(),
            "at": datagram.index(encrypted), "auth_at": datagram.index(digest), "auth_key": auth_key.hex()}


def send(port: int, datagram: bytes, first: int, count: int, rate: float, out_path: str,
         v3: dict | None = None) -> None:
    """Sender process: ``count`` traps at ``rate``/s, sequence numbers from ``first``; writes the send times.
    ``v3``: :func:`v3_spec` of a v3 datagram, whose copies are prepared before the clock starts."""
    import hashlib
    import hmac

    width = len(PLACEHOLDER) - 4
    if v3 is None:
        at = datagram.index(PLACEHOLDER) + 4
        copies = None
    else:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        plain, digits, at, auth_at = bytes.fromhex(v3["plain"]), v3["digits"], v3["at"], v3["auth_at"]
        aes = algorithms.AES(bytes.fromhex(v3["priv_key"]))
        iv, auth_key = bytes.fromhex(v3["iv"]), bytes.fromhex(v3["auth_key"])
        copies = []
        for i in range(count):
            number = str(first + i).zfill(width).encode()
            scoped = plain[:digits] + number + plain[digits + width:]
            copy = bytearray(datagram)
            copy[at:at + len(plain)] = Cipher(aes, modes.CFB(iv)).encryptor().update(scoped)
            copy[auth_at:auth_at + 12] = bytes(12)
            copy[auth_at:auth_at + 12] = hmac.new(auth_key, bytes(copy), hashlib.sha1).digest()[:12]
            copies.append(bytes(copy))
    sent = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        start = time.perf_counter()
        for i in range(count):
            due = start + i / rate
            if (wait := due - time.perf_counter()) > 0:
                time.sleep(wait)  # no spinning: the sender must not take a core from the receiver
            if copies is None:
                number = str(first + i).zfill(width).encode()
                sock.sendto(datagram[:at] + number + datagram[at + width:], ("127.0.0.1", port))
            else:
                sock.sendto(copies[i], ("127.0.0.1", port))
            sent.append(time.time())
    with open(out_path, "w") as f:
        json.dump(sent, f)


class Reader(threading.Thread):
    """Polls the newest alerts of the storage; ``seen[sequence_number]`` = when first listed (time.time())."""

    def __init__(self, api: str, storage_id: str, page: int):
        super().__init__(daemon=True)
        self.session = requests.Session()
        self.url = f"{api}/v1/alerts"
        self.params = {"storage_id": storage_id, "sort": "created_at:desc", "limit": page}
        self.seen: dict[str, float] = {}
        self.stored: dict[str, float] = {}  # first_seen of the row (when the receiver stored it)
        self.polls = 0
        self.poll_seconds: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            began = time.perf_counter()
            # only what was stored since the newest row seen (less a margin), newest first
            newest = max(self.stored.values(), default=time.time() - 2)
            since = datetime.datetime.fromtimestamp(newest - 0.5, datetime.UTC).isoformat()
            params, rows = {**self.params, "since": since}, []
            for _ in range(50):  # a full page: more were stored since than a page holds, read on (marker)
                page = self.session.get(self.url, params=params, timeout=30).json()["alerts"]
                rows.extend(page)
                if len(page) < self.params["limit"]:
                    break
                params = {**params, "marker": page[-1]["id"]}
            now = time.time()
            self.poll_seconds.append(time.perf_counter() - began)
            self.polls += 1
            for row in rows:
                if row["sequence_number"] not in self.seen:
                    self.seen[row["sequence_number"]] = now
                    stamp = datetime.datetime.fromisoformat(row["first_seen"].replace("Z", "+00:00"))
                    self.stored[row["sequence_number"]] = stamp.replace(tzinfo=stamp.tzinfo or datetime.UTC).timestamp()


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def _exported(jsonl_path: str | None, wanted: dict, settle: float) -> dict:
    """What the jsonl exporter delivered of ``wanted`` (sequence number -> sent), waiting up to ``settle``."""
    if jsonl_path is None:
        return {}
    delivered: dict[str, float] = {}
    deadline, offset = time.monotonic() + settle, 0
    while True:
        if os.path.exists(jsonl_path):
            with open(jsonl_path, "rb") as f:
                f.seek(offset)
                chunk = f.read()
            end = chunk.rfind(b"\n") + 1
            offset += end
            for line in chunk[:end].splitlines():
                item = json.loads(line)
                seq = item["alert"]["sequence_number"]
                if seq in wanted and seq not in delivered and item["status"] == "firing":
                    at = datetime.datetime.fromisoformat(item["delivered_at"].replace("Z", "+00:00"))
                    delivered[seq] = at.replace(tzinfo=at.tzinfo or datetime.UTC).timestamp()
        if wanted.keys() <= delivered.keys() or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    # delivered_at has the exporter's resolution (ms): latency floors at that
    latencies = [delivered[s] - t for s, t in wanted.items() if s in delivered]
    return {
        "exported": len(latencies),
        "export_lost": len(wanted) - len(latencies),
        "exported_p50_s": round(_quantile(latencies, 0.5), 3) if latencies else None,  # sent -> delivered
        "exported_p99_s": round(_quantile(latencies, 0.99), 3) if latencies else None,
    }


def run_rate(api: str, storage_id: str, trap_port: int, datagram: bytes, rate: float, seconds: float, first: int,
             page: int, settle: float, workdir: str, jsonl_path: str | None = None, v3: dict | None = None) -> dict:
    count = int(rate * seconds)
    reader = Reader(api, storage_id, page)
    reader.start()
    out_path = os.path.join(workdir, f"sent-{first}.json")
    subprocess.run([sys.executable, __file__, "--send", str(trap_port), datagram.hex(), str(first), str(count),
                    str(rate), out_path, json.dumps(v3) if v3 else "-"], check=True)
    with open(out_path) as f:
        sent = json.load(f)
    wanted = {PLACEHOLDER[:4].decode() + str(first + i).zfill(len(PLACEHOLDER) - 4): t for i, t in enumerate(sent)}
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline and not wanted.keys() <= reader.seen.keys():
        time.sleep(0.05)
    reader.stop.set()
    reader.join(30)
    latencies = [reader.seen[s] - t for s, t in wanted.items() if s in reader.seen]
    stored = [reader.stored[s] - t for s, t in wanted.items() if s in reader.stored]
    return {
        "rate": rate,
        "sent": count,
        "send_seconds": round(sent[-1] - sent[0], 3) if sent else 0,
        "visible": len(latencies),
        "lost": count - len(latencies),
        "latency_p50_s": round(_quantile(latencies, 0.5), 3) if latencies else None,
        "latency_p99_s": round(_quantile(latencies, 0.99), 3) if latencies else None,
        "latency_max_s": round(max(latencies), 3) if latencies else None,
        "stored_p50_s": round(_quantile(stored, 0.5), 3) if stored else None,  # sent -> row written
        "stored_p99_s": round(_quantile(stored, 0.99), 3) if stored else None,
        "reader_polls": reader.polls,
        "reader_poll_p50_s": round(_quantile(reader.poll_seconds, 0.5), 4),
        **_exported(jsonl_path, wanted, settle),
    }


def _wait_for(what: str, probe, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if probe():
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{what}: not within {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", default="500,1000")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--page", type=int, default=1000, help="rows per reader poll (newest first)")
    parser.add_argument("--settle", type=float, default=15.0, help="seconds to wait for the last traps")
    parser.add_argument("--connection", help="[database] connection of the all-in-one (default: SQLite)")
    parser.add_argument("--exporters", default="",
                        help="[alert_exporters] enabled of the all-in-one, e.g. jsonl or jsonl,log (default none)")
    parser.add_argument("--profile", help="record the all-in-one under py-spy into this file (.svg flamegraph, "
                        ".json speedscope, "
                        "else raw collapsed stacks)")
    parser.add_argument("--version", choices=("v2c", "v3"), default="v2c",
                        help="v2c, or v3 authPriv (SHA/AES): each copy re-encrypted and signed before sending")
    parser.add_argument("--send", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.send:
        port, data, first, count, rate, out_path, v3 = args.send
        send(int(port), bytes.fromhex(data), int(first), int(count), float(rate), out_path,
             None if v3 == "-" else json.loads(v3))
        return
    binary = shutil.which("snmptrap")
    if binary is None:
        sys.exit("snmptrap is not installed (apt-get install -y snmp)")
    aio_bin = os.path.join(os.path.dirname(sys.executable), "delfin-like-all-in-one")
    with tempfile.TemporaryDirectory() as workdir:
        datagram = capture(binary, workdir, args.version)
        v3 = v3_spec(datagram) if args.version == "v3" else None
        api_port, trap_port = _free_port(), _free_port(socket.SOCK_DGRAM)
        conf = os.path.join(workdir, "aio.conf")
        with open(conf, "w") as f:
            f.write(f"[DEFAULT]\nstate_path = {workdir}/state\n[api]\nport = {api_port}\n"
                    f"[all_in_one]\ndemo_storage = false\n"
                    f"[alert_receiver]\nhost = 127.0.0.1\nport = {trap_port}\npoll_interval = 0.5\n"
                    f"queue_size = 100000\n")
            if args.connection:
                f.write(f"[database]\nconnection = {args.connection}\n")
            if args.exporters:
                f.write(f"[alert_exporters]\nenabled = {args.exporters}\n")
        jsonl_path = f"{workdir}/state/alerts/alerts.jsonl" if "jsonl" in args.exporters.split(",") else None
        log = open(os.path.join(workdir, "aio.log"), "wb")
        aio = subprocess.Popen([aio_bin, "--config-file", conf], stdout=log, stderr=subprocess.STDOUT)
        api = f"http://127.0.0.1:{api_port}"
        spy = None
        try:
            _wait_for("the API", lambda: requests.get(f"{api}/healthz", timeout=5).status_code == 200)
            r = requests.post(f"{api}/v1/storages", timeout=30, json={
                "vendor": "fake_storage", "model": "fake_driver", "extra_attributes": {"pools": 1, "volumes": 2},
                "rest": {"host": "192.0.2.99", "port": 8443, "username": "admin", "password": "bench-pw"}})
            r.raise_for_status()
            storage_id = r.json()["id"]
            source = {"version": "snmpv3", **V3} if v3 else {"version": "snmpv2c", "community_string": COMMUNITY}
            requests.put(f"{api}/v1/storages/{storage_id}/snmp-config", timeout=10,
                         json={"host": "127.0.0.1", **source}).raise_for_status()
            log_path = os.path.join(workdir, "aio.log")
            _wait_for("the receiver applying the source",
                      lambda: "trap receiver: 1 alert sources applied" in open(log_path, errors="replace").read())
            if args.profile:
                fmt = {".json": "speedscope", ".svg": "flamegraph"}.get(os.path.splitext(args.profile)[1], "raw")
                # the services run in a forked worker: --subprocesses follows it; --gil: only the thread
                # holding the GIL, so the samples say where the one interpreter's time goes
                spy = subprocess.Popen(["py-spy", "record", "--pid", str(aio.pid), "--subprocesses", "--gil",
                                        "--format", fmt,
                                        "--rate", "100",
                                        "--output", os.path.abspath(args.profile)], stdout=subprocess.DEVNULL)
            result = {"load_average_before": os.getloadavg(), "cpus": os.cpu_count(),
                      "exporters": args.exporters or None, "version": args.version,
                      "database": args.connection or "sqlite (all-in-one default)", "seconds_per_rate": args.seconds,
                      "reader_page": args.page, "runs": []}
            first = 0
            for rate in (float(x) for x in args.rates.split(",")):
                result["runs"].append(run_rate(api, storage_id, trap_port, datagram, rate, args.seconds, first,
                                               args.page, args.settle, workdir, jsonl_path, v3))
                first += int(rate * args.seconds)
            result["load_average_after"] = os.getloadavg()
        finally:
            if spy is not None:
                spy.send_signal(2)  # SIGINT: py-spy writes its profile and exits
                spy.wait(60)
            aio.terminate()
            aio.wait(60)
            log.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
