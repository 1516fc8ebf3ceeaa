"""Every access field of the API has a flag; secrets come from files, stdin lines or a prompt, never argv."""

import io

import pytest

from delfin_like.cli import access, access_info, access_secrets, errors, shell, storages

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def _parser(command=storages.RegisterStorage):
    app = shell.DelfinLikeApp(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO())
    return command(app, None).get_parser("delfin-like")


def _body(argv, stdin="", stored=None, required=True, command=storages.RegisterStorage):
    args = _parser(command).parse_args(["--vendor", "v", "--model", "m", *argv] if required else ["sid", *argv])
    return access.body_blocks(args, access_secrets.SecretReader(io.StringIO(stdin), io.StringIO()), stored, required)


def _file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_rest_tls_options_and_a_password_file(tmp_path):
    body = _body(["--rest-host", "h", "--rest-port", "8443", "--rest-user", "admin", "--rest-scheme", "https",
                  "--rest-ca-cert-file", _file(tmp_path, "ca.pem", PEM), "--rest-verify",
                  "--rest-option", "page_size=500", "--rest-password-file", _file(tmp_path, "pw", "s3cret\nignored\n")])
    assert body == {"rest": {"host": "h", "port": 8443, "username": "admin", "scheme": "https", "verify": True,
                             "ca_cert": PEM, "page_size": 500, "password": "s3cret"}}
    body = _body(["--rest-host", "h", "--rest-port", "80", "--rest-user", "a", "--rest-scheme", "http",
                  "--no-rest-verify", "--password-stdin"], stdin="pw\n")
    assert body["rest"]["verify"] is False and body["rest"]["scheme"] == "http" and body["rest"]["password"] == "pw"


def test_a_file_that_is_no_certificate_or_an_empty_secret_is_refused(tmp_path):
    with pytest.raises(errors.CliError, match="holds no PEM certificate"):
        _body(["--rest-host", "h", "--rest-port", "1", "--rest-user", "a",
               "--rest-ca-cert-file", _file(tmp_path, "ca.pem", "not a cert")])
    with pytest.raises(errors.CliError, match="--rest-password-file: .* is empty"):
        _body(["--rest-host", "h", "--rest-port", "1", "--rest-user", "a",
               "--rest-password-file", _file(tmp_path, "pw", "\n")])


def test_csd_agent_tls_and_credentials(tmp_path):
    body = _body(["--rest-host", "10.0.0.5", "--rest-port", "50051", "--rest-user", "ops", "--csd-tls",
                  "--csd-ca-path", "/etc/delfin_like/agent-ca.pem", "--csd-server-name", "node1",
                  "--rest-password-file", _file(tmp_path, "pw", "agent-pw")])
    assert body["rest"] == {"host": "10.0.0.5", "port": 50051, "username": "ops", "tls": True,
                            "ca_file": "/etc/delfin_like/agent-ca.pem", "server_name": "node1",
                            "password": "agent-pw"}


def test_snmp_v2c_community_from_a_file_or_stdin(tmp_path):
    body = _body(["--snmp-host", "s", "--snmp-version", "2c", "--snmp-community-file", _file(tmp_path, "c", "pub\n")])
    assert body == {"snmp": {"host": "s", "port": 161, "version": "2c", "community": "pub"}}
    assert _body(["--snmp-host", "s", "--snmp-community-stdin"], stdin="c2\n")["snmp"]["community"] == "c2"
    # a v2c block needs its community: no terminal to ask on is an error that names the flags
    with pytest.raises(errors.CliError, match="no SNMP community: .*--snmp-community-stdin or --snmp-community-file"):
        _body(["--snmp-host", "s"])


def test_snmp_v3_user_protocols_and_keys_in_stdin_order(tmp_path):
    body = _body(["--rest-host", "h", "--rest-port", "1", "--rest-user", "a", "--password-stdin",
                  "--snmp-host", "s", "--snmp-port", "1161", "--snmp-user", "monitor", "--snmp-version", "3",
                  "--snmp-auth-protocol", "SHA256", "--snmp-privacy-protocol", "AES256",
                  "--snmp-auth-key-stdin", "--snmp-privacy-key-stdin", "--snmp-option", "retries=2"],
                 stdin="rest-pw\nauth-key-1\npriv-key-1\n")
    assert body["rest"]["password"] == "rest-pw"
    assert body["snmp"] == {"host": "s", "port": 1161, "username": "monitor", "version": "3",
                            "auth_protocol": "SHA256", "privacy_protocol": "AES256", "retries": 2,
                            "auth_key": "auth-key-1", "privacy_key": "priv-key-1"}
    body = _body(["--snmp-host", "s", "--snmp-user", "u", "--snmp-auth-key-file", _file(tmp_path, "a", "k1k1k1k1"),
                  "--snmp-privacy-key-file", _file(tmp_path, "p", "k2k2k2k2")])
    assert (body["snmp"]["auth_key"], body["snmp"]["privacy_key"]) == ("k1k1k1k1", "k2k2k2k2")
    # a v3 user without key flags and no terminal: no keys (noAuthNoPriv), no community asked
    assert _body(["--snmp-host", "s", "--snmp-user", "u"]) == {"snmp": {"host": "s", "port": 161, "username": "u"}}


def test_no_flag_takes_a_secret_value():
    parser = _parser()
    for flag in ("--rest-password", "--ssh-password", "--snmp-community", "--snmp-auth-key", "--snmp-privacy-key",
                 "--password"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--vendor", "v", "--model", "m", flag, "x"])
    with pytest.raises(SystemExit):  # one source per secret
        parser.parse_args(["--vendor", "v", "--model", "m", "--snmp-community-stdin", "--snmp-community-file", "f"])
    with pytest.raises(errors.CliError, match="secrets never go on the command line"):
        _body(["--snmp-host", "s", "--snmp-option", "community=public"])
    with pytest.raises(errors.CliError, match="--snmp-community-file needs the --snmp-\\* options"):
        _body(["--rest-host", "h", "--rest-port", "1", "--rest-user", "a", "--password-stdin",
               "--snmp-community-file", "/nonexistent"], stdin="pw\n")


def test_access_info_set_changes_one_secret_or_option_of_a_stored_block(tmp_path):
    stored = {"rest": {"host": "h", "port": 8443, "username": "admin", "ca_cert": PEM},
              "snmp": {"host": "s", "port": 161, "version": "2c"}}
    body = _body(["--snmp-community-file", _file(tmp_path, "c", "new-community")], stored=stored, required=False,
                 command=access_info.SetAccessInfo)
    assert body == {"snmp": {"host": "s", "port": 161, "version": "2c", "community": "new-community"}}
    # a new port keeps the stored CA certificate and (no password flag) the stored password
    body = _body(["--rest-port", "8444"], stored=stored, required=False, command=access_info.SetAccessInfo)
    assert body == {"rest": {"host": "h", "port": 8444, "username": "admin", "ca_cert": PEM}}
    body = _body(["--no-rest-verify"], stored=stored, required=False, command=access_info.SetAccessInfo)
    assert body["rest"]["verify"] is False and body["rest"]["ca_cert"] == PEM


def test_access_info_show_prints_a_certificate_as_one_line():
    info = {"rest": {"host": "h", "port": 1, "username": "a", "ca_cert": PEM + PEM}, "extra_attributes": {}}
    assert access_info._flatten(info, "table")["rest"] == 'a@h:1 {"ca_cert": "<PEM, 2 certificate(s)>"}'
    assert access_info._flatten(info, "json")["rest"]["ca_cert"] == PEM + PEM
