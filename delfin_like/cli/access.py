"""Access flags shared by ``storage register`` and ``storage access-info set``, and how secrets are read.

Secrets never come from an argument (argv is visible to every local user): a prompt that does not echo,
or --password-stdin / --snmp-community-stdin (the password line first, then the community line).
"""

import getpass

from delfin_like.cli import errors, formatting

PROTOCOLS = ("rest", "ssh", "snmp")
DEFAULT_PORTS = {"rest": None, "ssh": 22, "snmp": 161}


def add_arguments(parser, ask_flag: bool = False) -> None:
    """--rest-host/--rest-port/--rest-user, the same for ssh and snmp, --extra and the secret options."""
    for proto in PROTOCOLS:
        label = proto.upper() if proto != "ssh" else "SSH"
        parser.add_argument(f"--{proto}-host", help=f"{label} host")
        default = DEFAULT_PORTS[proto]
        parser.add_argument(f"--{proto}-port", type=int,
                            help=f"{label} port" + (f" (default {default})" if default else ""))
        if proto != "snmp":
            parser.add_argument(f"--{proto}-user", help=f"{label} user name")
    parser.add_argument("--ssh-host-key", metavar="LINE",
                        help="the array's SSH host key, an OpenSSH public key line (ssh-keyscan prints it)")
    parser.add_argument("--ssh-known-hosts", metavar="PATH",
                        help="a known_hosts file on the task managers that holds the array's SSH host key")
    parser.add_argument("--ssh-private-key-file", metavar="PATH",
                        help="log in over SSH with this private key (read here, sent to the API, stored "
                        "encrypted); no password is asked for SSH unless --password-stdin is given")
    parser.add_argument("--extra", action="append", default=[], metavar="KEY=VALUE",
                        help="extra attribute for the driver, repeatable; VALUE parsed as JSON when it is JSON")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the back end's REST/SSH password from the first line of stdin")
    parser.add_argument("--snmp-community-stdin", action="store_true",
                        help="read the SNMP community from stdin (the line after the password, if both)")
    if ask_flag:
        parser.add_argument("--ask-password", action="store_true",
                            help="prompt for a new REST/SSH password (otherwise the stored one is kept)")


def parse_extra(items) -> dict:
    """--extra KEY=VALUE items as a dict. :raises CliError: on an item without '='."""
    try:
        return dict(formatting.parse_key_value(item) for item in items)
    except ValueError as e:
        raise errors.CliError(f"--extra: {e}")


def blocks(parsed_args, stored=None) -> dict:
    """The rest/ssh/snmp blocks named by the flags, merged over ``stored`` blocks (for access-info set).

    :returns: {"rest": {"host", "port", "username"}, ...} for each protocol with any flag (or stored).
    """
    result = {}
    for proto in PROTOCOLS:
        given = {"host": getattr(parsed_args, f"{proto}_host"), "port": getattr(parsed_args, f"{proto}_port"),
                 "username": getattr(parsed_args, f"{proto}_user", None)}
        given = {k: v for k, v in given.items() if v is not None}
        if not given:
            continue
        base = dict((stored or {}).get(proto) or {})
        block = {**base, **given}
        if "port" not in block and DEFAULT_PORTS[proto]:
            block["port"] = DEFAULT_PORTS[proto]
        for needed in ("host", "port") + (("username",) if proto != "snmp" else ()):
            if needed not in block:
                flag = {"host": "host", "port": "port", "username": "user"}[needed]
                raise errors.CliError(f"--{proto}-{flag} is needed with the other --{proto}-* options")
        result[proto] = block
    ssh_options = {"host_key": getattr(parsed_args, "ssh_host_key", None),
                   "known_hosts": getattr(parsed_args, "ssh_known_hosts", None)}
    ssh_options = {k: v for k, v in ssh_options.items() if v}
    if ssh_options:
        if "ssh" not in result:
            raise errors.CliError("--ssh-host-key and --ssh-known-hosts need the --ssh-* options")
        result["ssh"].update(ssh_options)
    return result


def read_private_key(path: str) -> str:
    """The text of the private key file at ``path``. :raises CliError: if it cannot be read."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise errors.CliError(f"--ssh-private-key-file: cannot read {path}: {e}")


class SecretReader:
    """Reads secrets from stdin lines or a non-echoing prompt; never from argv."""

    def __init__(self, stdin, stderr):
        self.stdin, self.stderr = stdin, stderr

    def from_stdin(self, what: str) -> str:
        line = self.stdin.readline()
        if not line:
            raise errors.CliError(f"expected the {what} on stdin, got end of input")
        return line.rstrip("\r\n")

    def prompt(self, what: str) -> str:
        if not self.stdin.isatty():
            raise errors.CliError(f"no {what}: stdin is not a terminal; use --password-stdin")
        return getpass.getpass(f"{what}: ", stream=self.stderr)


def add_secrets(body: dict, parsed_args, reader: SecretReader, required: bool) -> None:
    """Put the password into the rest/ssh blocks and the community into snmp, in place.

    :param required: registration needs a password for rest/ssh; access-info set keeps the stored one.
    """
    key_file = getattr(parsed_args, "ssh_private_key_file", None)
    if key_file:
        if "ssh" not in body:
            raise errors.CliError("--ssh-private-key-file needs the --ssh-* options")
        body["ssh"]["private_key"] = read_private_key(key_file)
    # with a private key, ssh needs no password (one on stdin still goes to it: it may unlock the key)
    needs_password = [p for p in ("rest", "ssh") if p in body and not (p == "ssh" and key_file)]
    if parsed_args.password_stdin and "ssh" in body and key_file:
        needs_password.append("ssh")
    password = None
    if parsed_args.password_stdin:
        password = reader.from_stdin("password")
    elif needs_password and (required or getattr(parsed_args, "ask_password", False)):
        password = reader.prompt("Back-end password (" + ", ".join(needs_password) + ")")
    if password is not None:
        for proto in needs_password:
            body[proto]["password"] = password
    if parsed_args.snmp_community_stdin:
        if "snmp" not in body:
            raise errors.CliError("--snmp-community-stdin needs --snmp-host")
        body["snmp"]["community"] = reader.from_stdin("SNMP community")
