"""``alert list|show|sync|clear`` and ``snmp-config set|show|delete`` run through the cliff app against the real
API served on loopback (SQLite, the fake:// bus, the fake driver's alerts); secrets from stdin or a file only."""

import io
import json
import logging
import re
import uuid

import pytest

from delfin_like import coordination
from delfin_like.cli import client, shell
from delfin_like.common.constants import Lane, TaskStatus
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.task_manager.jobs import alert_sync
from tests.perf_outputs import serve_api
from tests.unit.api.conftest import api, fake_bus, register_body, rpcapi, task_manager  # noqa: F401 - fixtures

_ACCESS_LOG = re.compile(r"^(GET|POST|PUT|DELETE|PATCH) /\S* -> \d{3} in ")
COMMUNITY, AUTH_KEY, PRIV_KEY = "comm-s3cret", "auth-s3cret-key", "priv-s3cret-key"


@pytest.fixture
def file_locks(tmp_path):
    CONF.set_override("backend_url", f"file://{tmp_path}/locks", group="coordination")
    yield
    coordination.stop()


@pytest.fixture
def served(api, file_locks):  # noqa: F811 - the fixture imported above
    """The API on a loopback port over two fake storages, the first with its 6 alerts synced;
    yields ``(base URL, [storage ids], [request URLs seen])``."""
    sids = []
    for n in (6, 2):
        body = register_body(port=9000 + n, alerts=n, serial_number=f"ALCLI{uuid.uuid4().hex[:12]}")
        sids.append(api.post_json("/v1/storages", body, status=201).json["id"])
    task, _ = db_api.task_create_alert_sync(sids[0], Lane.URGENT)
    assert db_api.task_claim(task["id"], "cli-tests", 60) is not None
    assert alert_sync.run(db_api.task_get(task["id"]), "cli-tests")["added"] == 6
    with serve_api() as base:
        yield base, sids, []


def _run(served, *argv, stdin="") -> tuple[int, str, str]:
    """``(exit code, stdout, stderr)`` of one ``delfin-like`` command line, the API client on ``served``."""
    base, _, urls = served
    out, err = io.StringIO(), io.StringIO()
    app = shell.DelfinLikeApp(stdin=io.StringIO(stdin), stdout=out, stderr=err)
    app._client = client.ApiClient(base)
    app._client.session.hooks["response"].append(lambda response, **_: urls.append(response.request.method))
    handlers = list(logging.getLogger().handlers)
    try:
        code = app.run(list(argv))
    except SystemExit as e:  # argparse refused the command line
        code = e.code
    finally:  # the app's console handler: not kept past this run
        for handler in logging.getLogger().handlers:
            if handler not in handlers:
                logging.getLogger().removeHandler(handler)
    # the API serves in this process: its access log lines go to the same stderr; keep the client's lines
    lines = [line for line in err.getvalue().splitlines(True) if not _ACCESS_LOG.match(line)]
    return code, out.getvalue(), "".join(lines)


def _json(served, *argv, stdin=""):
    code, out, err = _run(served, *argv, "-f", "json", stdin=stdin)
    assert code == 0, err
    return json.loads(out)


def _file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_alert_list_filters_and_show(served):
    _, (sid, other), _ = served
    everything = _json(served, "alert", "list", "--all")
    assert len(everything) == 6 and {a["storage_id"] for a in everything} == {sid}
    assert _json(served, "alert", "list", "--storage", other) == []
    # the fake driver's severities follow the storage's (random) serial, and every fifth alert is cleared
    first = next(a for a in everything if a["state"] == "open")
    same = _json(served, "alert", "list", "--severity", first["severity"], "--state", "open", "--limit", "100")
    assert same and all(a["severity"] == first["severity"] and a["state"] == "open" for a in same)
    assert len(same) == sum(a["severity"] == first["severity"] and a["state"] == "open" for a in everything)
    by_resource = _json(served, "alert", "list", "--native-resource-id", first["native_resource_id"],
                        "--resource-type", first["resource_type"], "--alert-id", first["alert_id"])
    assert first["id"] in {a["id"] for a in by_resource}
    assert _json(served, "alert", "list", "--since", "9999-01-01T00:00:00Z") == []
    assert len(_json(served, "alert", "list", "--until", "9999-01-01T00:00:00Z")) == 6
    paged = _json(served, "alert", "list", "--all", "--limit", "4", "--sort", "id:asc")
    assert [a["id"] for a in paged] == sorted(a["id"] for a in everything)
    shown = _json(served, "alert", "show", first["id"])
    assert shown["id"] == first["id"] and shown["sequence_number"] == first["sequence_number"]
    code, table, _ = _run(served, "alert", "list")
    assert code == 0 and first["id"] in table and "| severity" in table


def test_alert_sync_shows_the_queued_task(served):
    _, (_sid, other), _ = served
    task = _json(served, "alert", "sync", other)
    # the alert sync the registration queued (normal lane) is still PENDING: it is the one shown
    assert (task["type"], task["status"], task["priority"]) == ("alert_sync", TaskStatus.PENDING, Lane.NORMAL)
    assert task["storage_id"] == other
    assert _json(served, "alert", "sync", other)["id"] == task["id"]  # a PENDING one is reused


def test_alert_sync_wait_follows_the_task_to_its_end(api, task_manager):  # noqa: F811 - fixtures imported above
    body = register_body(port=9100, alerts=3, serial_number=f"ALCLI{uuid.uuid4().hex[:12]}")
    sid = api.post_json("/v1/storages", body, status=201).json["id"]
    with serve_api() as base:
        task = _json((base, [sid], []), "alert", "sync", sid, "--wait", "--no-progress", "--wait-timeout", "60")
        assert (task["type"], task["status"]) == ("alert_sync", TaskStatus.COMPLETED)
        # the registration's own alert sync may have stored them first: then this one finds them unchanged
        assert task["result"]["added"] + task["result"]["unchanged"] == 3
        assert len(_json((base, [sid], []), "alert", "list", "--storage", sid)) == 3


def test_alert_clear_on_the_array(served):
    _, (sid, _other), _ = served
    before = _json(served, "alert", "list", "--storage", sid, "--state", "cleared")
    assert "3" not in {a["sequence_number"] for a in before}
    cleared = _json(served, "alert", "clear", sid, "3")
    assert [(a["sequence_number"], a["state"], a["cleared_by"]) for a in cleared] == [("3", "cleared", "api")]
    after = _json(served, "alert", "list", "--storage", sid, "--state", "cleared")
    assert sorted(a["id"] for a in after) == sorted([a["id"] for a in before] + [cleared[0]["id"]])


def test_api_errors_are_one_line_with_exit_1(served):
    _, (sid, _other), _ = served
    code, out, err = _run(served, "alert", "clear", sid, "99")
    assert code == 1 and out == ""
    assert err.startswith("Error: AlertNotFound: ") and err.count("\n") == 1, err
    code, _, err = _run(served, "alert", "show", "no-such-alert")
    assert code == 1 and err.startswith("Error: AlertNotFound: ")
    code, _, err = _run(served, "snmp-config", "show", sid)
    assert code == 1 and err.startswith("Error: AlertSourceNotFound: ")
    code, _, err = _run(served, "alert", "list", "--since", "yesterday")
    assert code == 1 and err == "Error: InvalidInput: Invalid input: since must be an ISO 8601 date-time\n"


def test_snmp_config_v2c_from_stdin_show_and_delete(served):
    _, (sid, _other), urls = served
    config = _json(served, "snmp-config", "set", sid, "--host", "127.0.0.1", "--snmp-version", "snmpv2c",
                   "--community-stdin", stdin=COMMUNITY + "\n")
    assert (config["version"], config["host"], config["port"]) == ("snmpv2c", "127.0.0.1", 161)
    assert db_api.alert_source_get(sid, reveal=True)["community_string"] == COMMUNITY
    code, table, err = _run(served, "snmp-config", "show", sid)
    assert code == 0 and "snmpv2c" in table and COMMUNITY not in table + err
    shown = _json(served, "snmp-config", "show", sid)
    assert shown == config and not {"community_string", "auth_key", "privacy_key"} & set(shown)
    code, out, err = _run(served, "snmp-config", "delete", sid)
    assert (code, out) == (0, ""), err
    assert "DELETE" in urls
    assert _run(served, "snmp-config", "show", sid)[0] == 1
    code, _, err = _run(served, "snmp-config", "delete", sid)
    assert code == 1 and err.startswith("Error: AlertSourceNotFound: ") and err.count("\n") == 1, err


def test_snmp_config_v3_keys_from_files_and_stdin(served, tmp_path):
    _, (sid, _other), _ = served
    v3 = ["snmp-config", "set", sid, "--host", "127.0.0.1", "--snmp-version", "snmpv3", "--username", "trapuser",
          "--security-level", "authPriv", "--auth-protocol", "SHA", "--privacy-protocol", "AES",
          "--engine-id", "800000020109840301", "--port", "1162"]
    config = _json(served, *v3, "--auth-key-file", _file(tmp_path, "a", AUTH_KEY + "\nignored\n"),
                   "--privacy-key-file", _file(tmp_path, "p", PRIV_KEY))
    assert (config["username"], config["security_level"], config["port"]) == ("trapuser", "authPriv", 1162)
    stored = db_api.alert_source_get(sid, reveal=True)
    assert (stored["auth_key"], stored["privacy_key"]) == (AUTH_KEY, PRIV_KEY)
    # stdin lines in their order: auth key, then privacy key
    _json(served, *v3, "--auth-key-stdin", "--privacy-key-stdin", stdin="other-auth-key\nother-priv-key\n")
    stored = db_api.alert_source_get(sid, reveal=True)
    assert (stored["auth_key"], stored["privacy_key"]) == ("other-auth-key", "other-priv-key")
    code, out, err = _run(served, "snmp-config", "show", sid, "-f", "json")
    assert code == 0 and not any(s in out + err for s in ("other-auth-key", "other-priv-key"))


@pytest.mark.parametrize("argv, stdin, message", [
    (["--snmp-version", "snmpv2c"], "", "no SNMP community: stdin is not a terminal; use --community-stdin or "
                                   "--community-file"),
    (["--snmp-version", "snmpv1", "--community-stdin"], "", "expected the SNMP community on stdin, got end of input"),
    (["--snmp-version", "snmpv3", "--username", "u", "--security-level", "authPriv", "--auth-protocol", "SHA",
      "--privacy-protocol", "AES", "--auth-key-stdin"], "auth-key-1\n",
     "no SNMPv3 privacy key: stdin is not a terminal; use --privacy-key-stdin or --privacy-key-file"),
    (["--snmp-version", "snmpv3", "--security-level", "authNoPriv"], "",
     "authNoPriv needs --username, --auth-protocol"),
    (["--snmp-version", "snmpv3", "--username", "u"], "", "snmpv3 needs --security-level"),
    (["--snmp-version", "snmpv2c", "--auth-key-stdin", "--community-stdin"], "a\nb\n",
     "--auth-key-stdin: snmpv2c takes no SNMPv3 auth key"),
    (["--snmp-version", "snmpv2c", "--community-file", "/nonexistent/c"], "", "--community-file: cannot read"),
])
def test_snmp_config_missing_or_misplaced_secret_fails_before_any_request(served, argv, stdin, message):
    _, (sid, _other), urls = served
    code, out, err = _run(served, "snmp-config", "set", sid, "--host", "127.0.0.1", *argv, stdin=stdin)
    assert code == 1 and out == "" and err.startswith("Error: " + message), err
    assert urls == []  # nothing was sent


def test_no_snmp_config_flag_takes_a_secret_value(served):
    _, (sid, _other), urls = served
    for flag in ("--community-string", "--community", "--auth-key", "--privacy-key"):
        code, out, _ = _run(served, "snmp-config", "set", sid, "--host", "h", "--snmp-version", "snmpv2c", flag, "x")
        assert code != 0 and out == ""
    assert urls == []


def test_sync_policy_shows_and_sets_the_periodic_alert_sync(served):
    _, (sid, _other), _ = served
    shown = _json(served, "storage", "sync-policy", "show", sid)
    assert (shown["alert_sync_interval"], shown["alert_sync_enabled"]) == (CONF.alert_sync.interval, True)
    changed = _json(served, "storage", "sync-policy", "set", sid, "--alert-sync-interval", "900")
    assert (changed["alert_sync_interval"], changed["alert_sync_enabled"]) == (900, True)
    assert changed["next_alert_sync_at"]
    off = _json(served, "storage", "sync-policy", "set", sid, "--alert-sync-interval", "0")
    assert (off["alert_sync_interval"], off["alert_sync_enabled"], off["next_alert_sync_at"]) == (None, False, None)
