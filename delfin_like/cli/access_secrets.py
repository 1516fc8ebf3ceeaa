"""How the secrets of access blocks are read: a prompt that does not echo, stdin lines or files; never argv.

argv is visible to every local user, so no flag takes a secret's value. Each secret has a file flag
(its first line; the whole file for an SSH private key) and a stdin flag; the stdin lines come in this
order, one for each stdin flag given: the REST/SSH password, the SNMP community, the SNMPv3 auth key,
the SNMPv3 privacy key. ``storage register`` prompts on a terminal for what a block needs and no flag
gives: the password of rest and ssh (ssh with a key file needs none), the community of an SNMPv2c
block, and the keys of an SNMPv3 user (empty for none). ``access-info set`` keeps every stored secret
that no flag replaces (``--ask-password`` prompts for a new password).
"""

import getpass

from delfin_like.cli import errors

SECRET_FIELDS = ("password", "community", "auth_key", "privacy_key", "private_key")
# (block key, stdin flag, file flag, what it is), SNMP ones in their stdin order after the password
_SNMP_SECRETS = (
    ("community", "--snmp-community-stdin", "--snmp-community-file", "SNMP community"),
    ("auth_key", "--snmp-auth-key-stdin", "--snmp-auth-key-file", "SNMPv3 auth key"),
    ("privacy_key", "--snmp-privacy-key-stdin", "--snmp-privacy-key-file", "SNMPv3 privacy key"),
)


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def add_arguments(parser, ask_flag: bool) -> None:
    """The secret flags: --password-stdin, --<proto>-password-file, the SNMP ones, --ssh-private-key-file."""
    group = parser.add_argument_group("secrets (never on the command line; stdin lines in the order below)")
    group.add_argument("--password-stdin", action="store_true",
                       help="read the REST/SSH password from a line of stdin (the first)")
    for proto in ("rest", "ssh"):
        group.add_argument(f"--{proto}-password-file", metavar="PATH",
                           help=f"read the {proto.upper()} password from the first line of this file")
    group.add_argument("--ssh-private-key-file", metavar="PATH",
                       help="log in over SSH with this private key (read here, sent to the API, stored "
                       "encrypted); no password is asked for SSH unless --password-stdin is given")
    for _key, stdin_flag, file_flag, what in _SNMP_SECRETS:
        sources = group.add_mutually_exclusive_group()
        sources.add_argument(stdin_flag, action="store_true", help=f"read the {what} from a line of stdin")
        sources.add_argument(file_flag, metavar="PATH", help=f"read the {what} from the first line of this file")
    if ask_flag:
        group.add_argument("--ask-password", action="store_true",
                           help="prompt for a new REST/SSH password (otherwise the stored one is kept)")


def read_file(path: str, flag: str, first_line: bool = True) -> str:
    """The secret in the file at ``path``. :raises CliError: unreadable or empty (never shows the content)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise errors.CliError(f"{flag}: cannot read {path}: {e}")
    if first_line:
        text = text.split("\n", 1)[0].rstrip("\r")
    if not text:
        raise errors.CliError(f"{flag}: {path} is empty")
    return text


class SecretReader:
    """Reads secrets from stdin lines or a non-echoing prompt; never from argv."""

    def __init__(self, stdin, stderr):
        self.stdin, self.stderr = stdin, stderr

    def from_stdin(self, what: str) -> str:
        line = self.stdin.readline()
        if not line:
            raise errors.CliError(f"expected the {what} on stdin, got end of input")
        return line.rstrip("\r\n")

    def can_prompt(self) -> bool:
        return self.stdin.isatty()

    def prompt(self, what: str, hint: str = "--password-stdin") -> str:
        if not self.can_prompt():
            raise errors.CliError(f"no {what}: stdin is not a terminal; use {hint}")
        return getpass.getpass(f"{what}: ", stream=self.stderr)


def _snmp_v3(block: dict) -> bool:
    version = str(block.get("version") or "").lower().lstrip("v")
    return version == "3" or (not version and bool(block.get("username")))


def _ensure_block(body: dict, proto: str, flag: str, stored) -> None:
    """A secret flag for a block no flag names: the stored block takes it (access-info set), else an error."""
    if proto in body:
        return
    if stored and stored.get(proto):
        body[proto] = dict(stored[proto])
        return
    raise errors.CliError(f"{flag} needs the --{proto}-* options (--{proto}-host ...)")


def _add_passwords(body: dict, parsed_args, reader: SecretReader, required: bool, stored) -> None:
    files = {p: getattr(parsed_args, f"{p}_password_file", None) for p in ("rest", "ssh")}
    key_file = parsed_args.ssh_private_key_file
    if key_file:
        _ensure_block(body, "ssh", "--ssh-private-key-file", stored)
        body["ssh"]["private_key"] = read_file(key_file, "--ssh-private-key-file", first_line=False)
    for proto, path in files.items():
        if path:
            _ensure_block(body, proto, f"--{proto}-password-file", stored)
            body[proto]["password"] = read_file(path, f"--{proto}-password-file")
    # with a private key, ssh needs no password (one on stdin still goes to it: it may unlock the key)
    needs = [p for p in ("rest", "ssh") if p in body and not files[p]]
    if not parsed_args.password_stdin:
        needs = [p for p in needs if not (p == "ssh" and key_file)]
    password = None
    if parsed_args.password_stdin:
        if not needs:
            raise errors.CliError("--password-stdin: no rest or ssh block takes it")
        password = reader.from_stdin("password")
    elif needs and (required or getattr(parsed_args, "ask_password", False)):
        password = reader.prompt("Back-end password (" + ", ".join(needs) + ")",
                                 "--password-stdin or --rest-password-file/--ssh-password-file")
    if password is not None:
        for proto in needs:
            body[proto]["password"] = password


def _add_snmp(body: dict, parsed_args, reader: SecretReader, required: bool, stored) -> None:
    for key, stdin_flag, file_flag, what in _SNMP_SECRETS:
        from_stdin, path = getattr(parsed_args, _dest(stdin_flag)), getattr(parsed_args, _dest(file_flag))
        if from_stdin or path:
            _ensure_block(body, "snmp", stdin_flag if from_stdin else file_flag, stored)
            body["snmp"][key] = reader.from_stdin(what) if from_stdin else read_file(path, file_flag)
    block = body.get("snmp")
    if block is None or not required:
        return
    if not _snmp_v3(block):
        if "community" not in block:
            block["community"] = reader.prompt("SNMP community", "--snmp-community-stdin or --snmp-community-file")
        return
    # a v3 user may have no keys (noAuthNoPriv): ask on a terminal, send none otherwise
    if "auth_key" not in block and reader.can_prompt():
        auth_key = reader.prompt("SNMPv3 auth key (empty for none)")
        if auth_key:
            block["auth_key"] = auth_key
    if "auth_key" in block and "privacy_key" not in block and reader.can_prompt():
        privacy_key = reader.prompt("SNMPv3 privacy key (empty for none)")
        if privacy_key:
            block["privacy_key"] = privacy_key


def add_secrets(body: dict, parsed_args, reader: SecretReader, required: bool, stored=None) -> None:
    """Put the secrets the flags (or prompts) give into the blocks of ``body``, in place.

    :param required: registration asks for what a block needs; access-info set keeps the stored secrets.
    :param stored: the stored blocks (access-info set): a secret flag alone changes that block's secret.
    """
    _add_passwords(body, parsed_args, reader, required, stored)
    _add_snmp(body, parsed_args, reader, required, stored)
