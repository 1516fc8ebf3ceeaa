"""Argument parsing of the app and its commands (no HTTP: nothing here reaches take_action)."""

import io

import pytest

from delfin_like.cli import access, access_secrets, errors, shell, storages


def _app():
    return shell.DelfinLikeApp(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO())


def test_global_options():
    app = _app()
    opts, rest = app.parser.parse_known_args(["--url", "http://h:1", "--user", "u", "--insecure", "--timeout",
                                              "5", "--no-human", "storage", "list"])
    assert (opts.url, opts.user, opts.insecure, opts.timeout, opts.human) == ("http://h:1", "u", True, 5.0, False)
    assert rest == ["storage", "list"]
    assert app.parser.parse_known_args([])[0].human is None


def test_every_command_is_registered():
    names = {name for name, _ in _app().command_manager}
    for name in ("storage register", "storage list", "storage show", "storage delete", "storage sync",
                 "storage access-info show", "storage access-info set", "pool list", "volume list",
                 "controller list", "port list", "disk list", "task list", "task show", "task cancel",
                 "capabilities show", "task-manager list", "storage sync-policy show", "storage sync-policy set",
                 "storage sync-policy clear", "metrics-config show", "metrics-config set", "job submit", "job list",
                 "job show", "job cancel"):
        assert name in names


def _no_stdin():
    return access_secrets.SecretReader(io.StringIO(""), io.StringIO())


def _register_parser():
    return storages.RegisterStorage(_app(), None).get_parser("delfin-like storage register")


def test_register_has_no_password_argument():
    parser = _register_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["--vendor", "v", "--model", "m", "--rest-password", "x"])
    args = parser.parse_args(["--vendor", "v", "--model", "m", "--rest-host", "h", "--rest-port", "1",
                              "--rest-user", "u", "--extra", "pools=2", "--password-stdin", "--wait"])
    assert args.password_stdin and args.wait and not args.no_progress and args.extra == ["pools=2"]


def test_blocks_default_ports_and_required_fields():
    parser = _register_parser()
    args = parser.parse_args(["--vendor", "v", "--model", "m", "--ssh-host", "h", "--ssh-user", "u",
                              "--snmp-host", "s"])
    assert access.blocks(args) == {"ssh": {"host": "h", "port": 22, "username": "u"},
                                   "snmp": {"host": "s", "port": 161}}
    args = parser.parse_args(["--vendor", "v", "--model", "m", "--rest-host", "h", "--rest-user", "u"])
    with pytest.raises(errors.CliError, match="--rest-port"):
        access.blocks(args)


def test_blocks_merge_over_stored():
    parser = _register_parser()
    args = parser.parse_args(["--vendor", "v", "--model", "m", "--rest-port", "8444"])
    stored = {"rest": {"host": "h", "port": 8443, "username": "u"}, "ssh": None}
    assert access.blocks(args, stored) == {"rest": {"host": "h", "port": 8444, "username": "u"}}


def test_secrets_from_stdin_lines():
    parser = _register_parser()
    args = parser.parse_args(["--vendor", "v", "--model", "m", "--password-stdin", "--snmp-community-stdin"])
    body = {"rest": {}, "ssh": {}, "snmp": {}}
    reader = access_secrets.SecretReader(io.StringIO("pw one\ncommunity\n"), io.StringIO())
    access_secrets.add_secrets(body, args, reader, True)
    assert body == {"rest": {"password": "pw one"}, "ssh": {"password": "pw one"}, "snmp": {"community": "community"}}


def test_prompt_refuses_a_non_terminal():
    parser = _register_parser()
    args = parser.parse_args(["--vendor", "v", "--model", "m"])
    with pytest.raises(errors.CliError, match="--password-stdin"):
        access_secrets.add_secrets({"rest": {}}, args, _no_stdin(), True)


def test_extra_parsing_error():
    with pytest.raises(errors.CliError, match="--extra"):
        access.parse_extra(["novalue"])


def test_ssh_private_key_file_and_host_key(tmp_path):
    key = tmp_path / "id_ed25519"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n")
    parser = _register_parser()
    args = parser.parse_args(["--vendor", "ibm", "--model", "svc_ssh", "--ssh-host", "h", "--ssh-user", "u",
                              "--ssh-host-key", "ssh-ed25519 AAAA", "--ssh-private-key-file", str(key)])
    body = access.blocks(args)
    assert body == {"ssh": {"host": "h", "port": 22, "username": "u", "host_key": "ssh-ed25519 AAAA"}}
    # a key and no --password-stdin: no prompt (stdin is not a terminal here, a prompt would raise)
    access_secrets.add_secrets(body, args, access_secrets.SecretReader(io.StringIO(""), io.StringIO()), True)
    assert body["ssh"]["private_key"] == key.read_text() and "password" not in body["ssh"]
    # with --password-stdin the password goes along (it may unlock an encrypted key)
    args = parser.parse_args(["--vendor", "ibm", "--model", "svc_ssh", "--ssh-host", "h", "--ssh-user", "u",
                              "--ssh-private-key-file", str(key), "--password-stdin"])
    body = access.blocks(args)
    access_secrets.add_secrets(body, args, access_secrets.SecretReader(io.StringIO("unlock\n"), io.StringIO()), True)
    assert body["ssh"]["password"] == "unlock"


def test_ssh_options_need_an_ssh_block_and_a_readable_key(tmp_path):
    parser = _register_parser()
    args = parser.parse_args(["--vendor", "v", "--model", "m", "--rest-host", "h", "--rest-port", "1",
                              "--rest-user", "u", "--ssh-known-hosts", "/etc/ssh/ssh_known_hosts"])
    with pytest.raises(errors.CliError, match="--ssh-\\*"):
        access.blocks(args)
    args = parser.parse_args(["--vendor", "v", "--model", "m", "--ssh-host", "h", "--ssh-user", "u",
                              "--ssh-private-key-file", str(tmp_path / "missing")])
    with pytest.raises(errors.CliError, match="cannot read"):
        access_secrets.add_secrets(access.blocks(args), args, _no_stdin(), True)
