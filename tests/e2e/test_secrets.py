"""Secrets never leave in clear: the all-in-one with verbose logging, known passwords, every route.

Registers a storage with known secrets (REST and SSH passwords, an SNMP community)
behind HTTP basic auth, syncs it, reads every collection, changes its access info,
puts snmp-configs (a v2c community, v3 auth and privacy keys) and sends the trap receiver
traps with the right and a wrong community (net-snmp's snmptrap),
provokes the errors a client can cause, then greps every log line of the run
(debug, oslo.messaging / kombu / SQL at DEBUG) and every response for each secret
in every encoding a leak could take; the database file must hold only Fernet tokens.
Also: ``delfin-like-db-manage rotate-keys`` on the same kind of database.
"""

import base64
import glob
import json
import sqlite3
import subprocess
import time
import urllib.parse
import uuid

import bcrypt
from cryptography.fernet import Fernet

from tests.alert_helpers import require_snmptrap
from tests.e2e.conftest import Client, Proc, free_port, script

API_USER = "e2e-operator"
# the loggers oslo.log keeps at INFO/WARN by default, all made verbose for this run
VERBOSE_LOGGERS = ("oslo_messaging", "oslo.messaging", "kombu", "amqp", "stevedore", "oslo_middleware",
                   "delfin_like", "delfin_like_drivers", "tooz", "urllib3", "requests", "sqlalchemy.engine")


def _secret(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:12]}!&%"


def _encodings(secret: str) -> set[str]:
    """The forms a leaked secret could take in a log line or a response body."""
    forms = {secret, json.dumps(secret)[1:-1], urllib.parse.quote(secret), urllib.parse.quote_plus(secret),
             base64.b64encode(secret.encode()).decode(), repr(secret)[1:-1], secret.encode().hex()}
    return {f for f in forms if f}


class RecordingClient(Client):
    """The e2e client, authenticated, keeping every response (status line, headers, body)."""

    def __init__(self, base: str, auth: tuple[str, str]):
        super().__init__(base)
        self.session.auth = auth
        self.seen: list[str] = []
        self.session.hooks["response"].append(self._record)

    def _record(self, r, *args, **kwargs):
        self.seen.append(f"{r.status_code} {r.url}\n{dict(r.headers)}\n{r.text}")

    def put(self, path, body):
        return self.session.put(self.base + path, json=body, timeout=30)


def _config(tmp_path, port: int, fernet_key: str, api_password: str, trap_port: int) -> str:
    users = tmp_path / "htpasswd"
    users.write_text(f"{API_USER}:" + bcrypt.hashpw(api_password.encode(), bcrypt.gensalt(rounds=4)).decode() + "\n")
    levels = ",".join(f"{name}=DEBUG" for name in VERBOSE_LOGGERS)
    conf = tmp_path / "aio.conf"
    conf.write_text(f"""
[DEFAULT]
debug = true
default_log_levels = {levels}
state_path = {tmp_path / 'state'}
[api]
host = 127.0.0.1
port = {port}
auth_strategy = http_basic
http_basic_auth_user_file = {users}
[security]
fernet_keys = {fernet_key}
[coordination]
lock_wait_timeout = 5
[alert_receiver]
host = 127.0.0.1
port = {trap_port}
poll_interval = 0.5
""")
    return str(conf)


def test_no_secret_in_any_log_line_response_or_database_column(tmp_path, procs):
    port = free_port()
    key = Fernet.generate_key().decode()
    secrets = {name: _secret(name) for name in ("rest-pw", "ssh-pw", "snmp-community", "new-rest-pw",
                                                "bad-creds-pw", "dup-pw", "sync-fail-pw", "bad-body-pw",
                                                "api-pw", "trap-community", "wrong-community", "v3-auth-key",
                                                "v3-priv-key", "bad-v3-key")}
    snmptrap = require_snmptrap()
    trap_port = free_port()
    conf = _config(tmp_path, port, key, secrets["api-pw"], trap_port)
    aio = Proc("delfin-like-all-in-one", ["--config-file", conf], tmp_path / "aio.log")
    procs.append(aio)
    api = RecordingClient(f"http://127.0.0.1:{port}", (API_USER, secrets["api-pw"]))
    api.wait_ready(60)

    def body(password, host="192.0.2.50", **attrs):
        return {"vendor": "fake_storage", "model": "fake_driver",
                "rest": {"host": host, "port": 8443, "username": "admin", "password": password},
                "extra_attributes": {"pools": 2, "volumes": 5, **attrs}}

    # register with every kind of secret, sync, read everything
    main = body(secrets["rest-pw"])
    main["ssh"] = {"host": "192.0.2.50", "port": 22, "username": "root", "password": secrets["ssh-pw"]}
    main["snmp"] = {"host": "192.0.2.50", "port": 161, "community": secrets["snmp-community"]}
    r = api.post("/v1/storages", main)
    assert r.status_code == 201, r.text
    storage_id = r.json()["id"]
    assert api.wait_task(r.json()["last_sync_task_id"])["status"] == "COMPLETED"
    r = api.post(f"/v1/storages/{storage_id}/sync")
    assert r.status_code == 202, r.text
    assert api.wait_task(r.json()["task"]["id"])["status"] == "COMPLETED"
    for path in ("/v1/storages", f"/v1/storages/{storage_id}", "/v1/storage-pools", "/v1/volumes",
                 "/v1/controllers", "/v1/ports", "/v1/disks", "/v1/tasks", "/v1/access-infos",
                 f"/v1/storages/{storage_id}/capabilities", "/readyz", "/v1/openapi.json"):
        api.get(path)
    r = api.get(f"/v1/storages/{storage_id}/access-info")
    assert r.status_code == 200, r.text
    assert r.json()["access_info"]["rest"]["username"] == "admin"

    # change the REST password (same array), then sync with it
    r = api.put(f"/v1/storages/{storage_id}/access-info",
                {"rest": {"host": "192.0.2.50", "port": 8443, "username": "admin",
                          "password": secrets["new-rest-pw"]}})
    assert r.status_code == 200, r.text
    r = api.post(f"/v1/storages/{storage_id}/sync")
    assert api.wait_task(r.json()["task"]["id"])["status"] == "COMPLETED"

    # the errors a client can provoke, each carrying a secret
    r = api.post("/v1/storages", body(secrets["bad-creds-pw"], host="192.0.2.51", error="invalid_credentials"))
    assert r.status_code == 400 and r.json()["error_code"] == "InvalidCredentials", r.text
    r = api.post("/v1/storages", body(secrets["dup-pw"]))
    assert r.status_code == 409, r.text
    bad = body(secrets["bad-body-pw"], host="192.0.2.52")
    bad["rest"]["port"] = "not-a-port"
    bad["rest"]["colour"] = "red"
    assert api.post("/v1/storages", bad).status_code == 400
    bad = body(secrets["bad-body-pw"], host="192.0.2.52")
    bad["rest"]["password"] = secrets["bad-body-pw"] * 400  # over maxLength
    assert api.post("/v1/storages", bad).status_code == 400
    r = api.post("/v1/storages", body(secrets["sync-fail-pw"], host="192.0.2.53", sync_error="invalid_credentials",
                                      serial_number="SYNC-FAIL"))
    assert r.status_code == 201, r.text
    failing_id = r.json()["id"]
    assert api.wait_task(r.json()["last_sync_task_id"])["status"] == "FAILED"
    r = api.put(f"/v1/storages/{storage_id}/access-info",
                {"rest": {"host": "192.0.2.50", "port": 8443, "username": "admin",
                          "password": secrets["bad-creds-pw"]}, "extra_attributes": {"error": "invalid_credentials"}})
    assert r.status_code == 400, r.text
    # the wrong API password
    wrong = Client(api.base)
    wrong.session.auth = (API_USER, secrets["rest-pw"])
    r = wrong.get("/v1/storages")
    assert r.status_code == 401 and r.json()["error_code"] == "Unauthorized"
    api.seen.append(r.text)
    assert api.get(f"/v1/storages/{failing_id}").json()["sync_status"] == "FAILED"

    # snmp-configs: a v2c community and v3 keys, written, read back, refused, used by the receiver
    r = api.put(f"/v1/storages/{storage_id}/snmp-config",
                {"host": "127.0.0.1", "version": "snmpv2c", "community_string": secrets["trap-community"]})
    assert r.status_code in (200, 201), r.text
    r = api.put(f"/v1/storages/{failing_id}/snmp-config",
                {"host": "192.0.2.53", "version": "snmpv3", "username": "e2e-trapper", "security_level": "authPriv",
                 "auth_protocol": "SHA", "auth_key": secrets["v3-auth-key"], "privacy_protocol": "AES",
                 "privacy_key": secrets["v3-priv-key"], "engine_id": "800000020109840301"})
    assert r.status_code in (200, 201), r.text
    r = api.put(f"/v1/storages/{failing_id}/snmp-config",  # a bad protocol name: refused, the stored one stays
                {"host": "192.0.2.53", "version": "snmpv3", "username": "e2e-trapper", "security_level": "authPriv",
                 "auth_protocol": "not-a-protocol", "auth_key": secrets["bad-v3-key"], "privacy_protocol": "AES",
                 "privacy_key": secrets["bad-v3-key"]})
    assert r.status_code == 400, r.text
    for path in (f"/v1/storages/{storage_id}/snmp-config", f"/v1/storages/{failing_id}/snmp-config",
                 "/v1/snmp-configs"):
        assert api.get(path).status_code == 200
    aio.wait_for_log("trap receiver: 2 alert sources applied")
    env = {"PATH": "/usr/bin:/bin", "MIBS": "", "HOME": str(tmp_path), "SNMPCONFPATH": str(tmp_path),
           "SNMP_PERSISTENT_DIR": str(tmp_path / "snmp")}
    for community, sequence in ((secrets["trap-community"], "secret-seq-1"), (secrets["wrong-community"], "x")):
        subprocess.run([snmptrap, "-v", "2c", "-c", community, f"127.0.0.1:{trap_port}", "",
                        "1.3.6.1.4.1.99999.1.1", "1.3.6.1.4.1.99999.1.1", "s", sequence,
                        "1.3.6.1.4.1.99999.1.2", "s", "E2E_SECRET", "1.3.6.1.4.1.99999.1.3", "s", "minor"],
                       env=env, check=True, timeout=30, capture_output=True)
    deadline = time.monotonic() + 30
    while not api.get("/v1/alerts", storage_id=storage_id).json()["alerts"]:
        assert time.monotonic() < deadline, "the trap with the right community was not stored"
        time.sleep(0.2)
    aio.wait_for_log("authentication/decryption failed")  # the wrong community, refused

    # the database holds Fernet tokens that decrypt to the secrets, never the secrets
    db_path = tmp_path / "state" / "delfin_like.sqlite"
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT storage_id, rest, ssh, snmp FROM access_infos").fetchall()
    by_id = {row[0]: row[1:] for row in rows}
    fernet = Fernet(key.encode())
    rest, ssh, snmp = (json.loads(block) for block in by_id[storage_id])
    assert fernet.decrypt(rest["password"].encode()).decode() == secrets["new-rest-pw"]
    assert fernet.decrypt(ssh["password"].encode()).decode() == secrets["ssh-pw"]
    assert fernet.decrypt(snmp["community"].encode()).decode() == secrets["snmp-community"]
    with sqlite3.connect(db_path) as db:
        sources = dict((row[0], row[1:]) for row in db.execute(
            "SELECT storage_id, community_string, auth_key, privacy_key FROM alert_sources"))
    assert fernet.decrypt(sources[storage_id][0].encode()).decode() == secrets["trap-community"]
    assert [fernet.decrypt(t.encode()).decode() for t in sources[failing_id][1:]] == [
        secrets["v3-auth-key"], secrets["v3-priv-key"]]

    assert aio.terminate() == 0, aio.log[-3000:]
    log = aio.log
    assert "DEBUG oslo_messaging" in log or "DEBUG oslo.messaging" in log, "RPC debug logging was not on"
    assert "Traceback" not in log, log[-3000:]
    database_bytes = b"".join(open(p, "rb").read() for p in glob.glob(f"{db_path}*"))
    responses = "\n".join(api.seen)
    assert len(api.seen) > 20
    for name, secret in secrets.items():
        for form in _encodings(secret):
            assert form not in log, f"{name} ({form!r}) in the log"
            assert form not in responses, f"{name} ({form!r}) in a response"
            assert form.encode() not in database_bytes, f"{name} ({form!r}) in the database file"
    basic = base64.b64encode(f"{API_USER}:{secrets['api-pw']}".encode()).decode()
    assert basic not in log
    assert key not in log, "the Fernet key was logged"


def test_rotate_keys_command(tmp_path):
    """``delfin-like-db-manage rotate-keys``: rows written with key A are readable with key B alone."""
    from delfin_like.common import crypto
    from delfin_like.conf import CONF
    from delfin_like.db import api as db_api
    from delfin_like.db import migration
    from tests import db_helpers

    key_a, key_b = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    url = f"sqlite:///{tmp_path / 'rotate.sqlite'}"
    migration.upgrade("head", url=url)
    db_api.configure(url)
    CONF.set_override("fernet_keys", [key_a], group="security")
    crypto.reset()
    try:
        ids = [db_helpers.register(db_helpers.registration_body(port=9100 + i, serial_number=f"R{i}"))[0]["id"]
               for i in range(3)]
        for i, storage_id in enumerate(ids[:2]):
            db_api.alert_source_put(storage_id, {"version": "snmpv3", "username": "trapper", "host": "127.0.0.1",
                                                 "port": 162, "retry_num": 1, "expiration": 10,
                                                 "security_level": "authPriv", "auth_protocol": "SHA",
                                                 "auth_key": f"rotate-auth-{i}", "privacy_protocol": "AES",
                                                 "privacy_key": f"rotate-priv-{i}"})
    finally:
        db_api.dispose()

    conf = tmp_path / "rotate.conf"

    def run(*keys):
        conf.write_text(f"[database]\nconnection = {url}\n[security]\nfernet_keys = {','.join(keys)}\n")
        return subprocess.run([script("delfin-like-db-manage"), "--config-file", str(conf), "rotate-keys"],
                              capture_output=True, text=True, timeout=120)

    out = run(Fernet.generate_key().decode())  # A unknown: refused, nothing written
    assert out.returncode == 1 and "CryptoError" in out.stderr, out.stderr
    out = run(key_b, key_a)
    assert out.returncode == 0, out.stderr
    assert "Re-encrypted the secrets of 3 storage(s) and 2 snmp-config(s)" in out.stdout

    db_api.configure(url)
    CONF.set_override("fernet_keys", [key_b], group="security")
    crypto.reset()
    try:
        for storage_id in ids:
            stored = db_api.access_info_get(storage_id)
            assert crypto.decrypt_block(stored["rest"])["password"] == db_helpers.PASSWORD
        for i, storage_id in enumerate(ids[:2]):
            source = db_api.alert_source_get(storage_id, reveal=True)
            assert (source["auth_key"], source["privacy_key"]) == (f"rotate-auth-{i}", f"rotate-priv-{i}")
    finally:
        db_api.dispose()
        crypto.reset()
