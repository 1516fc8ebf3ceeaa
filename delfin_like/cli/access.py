"""Access flags shared by ``storage register`` and ``storage access-info set``: one flag per access field.

Each access block (rest, ssh, snmp) takes its host, port and user, the driver options the API passes
through (REST ``scheme``/``verify``/``ca_cert``, the CSD agent's ``tls``/``ca_file``/``server_name``,
SSH ``host_key``/``known_hosts``, SNMP ``version``/``auth_protocol``/``privacy_protocol``) and any other
option as ``--<proto>-option KEY=VALUE``. Secrets never come from an argument: see :mod:`access_secrets`.
"""

import argparse

from delfin_like.cli import access_secrets, errors, formatting

PROTOCOLS = ("rest", "ssh", "snmp")
DEFAULT_PORTS = {"rest": None, "ssh": 22, "snmp": 161}
_LABELS = {"rest": "REST", "ssh": "SSH", "snmp": "SNMP"}

# (protocol, block key, flag, argparse keywords): the named driver options of each block
_OPTIONS = (
    ("rest", "scheme", "--rest-scheme", {"choices": ("https", "http"),
                                         "help": "netapp ontap_rest: https (default) or http for lab arrays"}),
    ("rest", "verify", "--rest-verify", {"action": argparse.BooleanOptionalAction, "default": None,
                                         "help": "netapp ontap_rest: verify the array's TLS certificate (default "
                                         "yes; --no-rest-verify turns it off for this array only)"}),
    ("rest", "tls", "--csd-tls", {"action": argparse.BooleanOptionalAction, "default": None,
                                  "help": "csd nvme: reach the agent over TLS (in the rest block)"}),
    ("rest", "ca_file", "--csd-ca-path", {"metavar": "PATH",
                                          "help": "csd nvme: a CA file on the task managers that signed the "
                                          "agent's TLS certificate (not read here)"}),
    ("rest", "server_name", "--csd-server-name", {"metavar": "NAME",
                                                  "help": "csd nvme: the name the agent's certificate carries, "
                                                  "when it is not the host"}),
    ("ssh", "host_key", "--ssh-host-key", {"metavar": "LINE",
                                           "help": "the array's SSH host key, an OpenSSH public key line "
                                           "(ssh-keyscan prints it)"}),
    ("ssh", "known_hosts", "--ssh-known-hosts", {"metavar": "PATH",
                                                 "help": "a known_hosts file on the task managers that holds the "
                                                 "array's SSH host key"}),
    ("snmp", "version", "--snmp-version", {"choices": ("2c", "3"),
                                           "help": "2c (a community) or 3 (a user); default 3 with --snmp-user"}),
    ("snmp", "auth_protocol", "--snmp-auth-protocol", {"metavar": "NAME",
                                                       "help": "SNMPv3 authentication: SHA (default), SHA224, "
                                                       "SHA256, SHA384, SHA512, MD5"}),
    ("snmp", "privacy_protocol", "--snmp-privacy-protocol", {"metavar": "NAME",
                                                             "help": "SNMPv3 privacy: AES (default), AES192, "
                                                             "AES256, DES, 3DES"}),
)


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def add_arguments(parser, ask_flag: bool = False) -> None:
    """Every access flag: per protocol host/port/user, the named options, --<proto>-option, --extra, secrets."""
    # no prefix matching: "--rest-password SECRET" must be refused, not read as --rest-password-file
    parser.allow_abbrev = False
    for proto in PROTOCOLS:
        group = parser.add_argument_group(f"{_LABELS[proto]} access")
        label = _LABELS[proto]
        group.add_argument(f"--{proto}-host", help=f"{label} host")
        default = DEFAULT_PORTS[proto]
        group.add_argument(f"--{proto}-port", type=int,
                           help=f"{label} port" + (f" (default {default})" if default else ""))
        group.add_argument(f"--{proto}-user", help=f"{label} user name" + (" (SNMPv3)" if proto == "snmp" else ""))
        for option_proto, _key, flag, kwargs in _OPTIONS:
            if option_proto == proto:
                group.add_argument(flag, **kwargs)
        if proto == "rest":
            group.add_argument("--rest-ca-cert-file", metavar="PATH",
                               help="netapp ontap_rest: trust this CA (PEM file, read here and stored with the "
                               "access info) for the array's TLS certificate")
        group.add_argument(f"--{proto}-option", action="append", default=[], metavar="KEY=VALUE",
                           help=f"another {label} block option for the driver, repeatable (VALUE parsed as JSON "
                           "when it is JSON), e.g. " + {"rest": "page_size=500", "ssh": "timeout=30",
                                                        "snmp": "retries=2"}[proto])
    parser.add_argument("--extra", action="append", default=[], metavar="KEY=VALUE",
                        help="extra attribute for the driver, repeatable; VALUE parsed as JSON when it is JSON")
    access_secrets.add_arguments(parser, ask_flag)


def parse_extra(items, flag: str = "--extra") -> dict:
    """KEY=VALUE items as a dict. :raises CliError: on an item without '='."""
    try:
        return dict(formatting.parse_key_value(item) for item in items)
    except ValueError as e:
        raise errors.CliError(f"{flag}: {e}")


def read_ca_cert(path: str) -> str:
    """The PEM text of the CA file at ``path``. :raises CliError: unreadable or not a PEM certificate."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise errors.CliError(f"--rest-ca-cert-file: cannot read {path}: {e}")
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise errors.CliError(f"--rest-ca-cert-file: {path} holds no PEM certificate")
    return text


def _given(parsed_args, proto: str) -> dict:
    """The fields and options of ``proto``'s block that the flags name."""
    given = {"host": getattr(parsed_args, f"{proto}_host"), "port": getattr(parsed_args, f"{proto}_port"),
             "username": getattr(parsed_args, f"{proto}_user")}
    for option_proto, key, flag, _kwargs in _OPTIONS:
        if option_proto == proto:
            given[key] = getattr(parsed_args, _dest(flag))
    if proto == "rest" and parsed_args.rest_ca_cert_file:
        given["ca_cert"] = read_ca_cert(parsed_args.rest_ca_cert_file)
    given = {k: v for k, v in given.items() if v is not None}
    options = parse_extra(getattr(parsed_args, f"{proto}_option"), f"--{proto}-option")
    for key in options:
        if key in ("host", "port", "username") or key in access_secrets.SECRET_FIELDS:
            raise errors.CliError(f"--{proto}-option {key}: use the flag for it (secrets never go on the command line)")
    return {**options, **given}


def blocks(parsed_args, stored=None) -> dict:
    """The rest/ssh/snmp blocks named by the flags, merged over the ``stored`` blocks (access-info set).

    :returns: {"rest": {"host", "port", "username", options...}, ...} for each protocol a flag names.
    :raises CliError: when a block lacks its host, port or (rest, ssh) user.
    """
    result = {}
    for proto in PROTOCOLS:
        given = _given(parsed_args, proto)
        if not given:
            continue
        block = {**dict((stored or {}).get(proto) or {}), **given}
        if "port" not in block and DEFAULT_PORTS[proto]:
            block["port"] = DEFAULT_PORTS[proto]
        for needed in ("host", "port") + (("username",) if proto != "snmp" else ()):
            if needed not in block:
                flag = {"host": "host", "port": "port", "username": "user"}[needed]
                raise errors.CliError(f"--{proto}-{flag} is needed with the other --{proto}-* options")
        result[proto] = block
    return result


def body_blocks(parsed_args, reader, stored=None, required: bool = True) -> dict:
    """The access blocks of a request, secrets included (see :func:`access_secrets.add_secrets`)."""
    body = blocks(parsed_args, stored)
    access_secrets.add_secrets(body, parsed_args, reader, required=required, stored=stored)
    return body
