"""``alert list|show|clear|sync`` and ``snmp-config set|show|delete`` (a storage's alert source).

The snmp-config secrets (community string, SNMPv3 auth and privacy keys) never come from argv: each
has a file flag (its first line) and a stdin flag (stdin lines in the order community, auth key,
privacy key); what a version and security level need and no flag gives is asked for on a terminal,
or is an error naming the flags before any request is sent. ``snmp-config show`` prints no secret:
the API never returns them.
"""

from cliff import lister

from delfin_like.api.schemas.v1 import alert_source as schema
from delfin_like.cli import access_secrets, common, errors, formatting, storages

ALERT_COLUMNS = ("id", "storage_id", "sequence_number", "alert_id", "alert_name", "severity", "category", "type",
                 "description", "resource_type", "native_resource_id", "resource_row_id", "location",
                 "recovery_advice", "source", "state", "cleared_at", "cleared_by", "first_seen", "last_seen",
                 "occur_time", "repeat_count", "created_at", "updated_at")
ALERT_DEFAULT_COLUMNS = ("id", "storage_id", "sequence_number", "alert_name", "severity", "state", "resource_type",
                         "native_resource_id", "last_seen", "repeat_count")
SNMP_CONFIG_COLUMNS = ("storage_id", "version", "username", "security_level", "auth_protocol", "privacy_protocol",
                       "engine_id", "context_name", "host", "port", "retry_num", "expiration", "created_at",
                       "updated_at")
# (list flag, API filter) of alert list; each an exact match
_FILTERS = (("--storage", "storage_id"), ("--severity", "severity"), ("--state", "state"),
            ("--category", "category"), ("--type", "type"), ("--source", "source"),
            ("--resource-type", "resource_type"), ("--native-resource-id", "native_resource_id"),
            ("--alert-id", "alert_id"))
# (body key, stdin flag, file flag, what it is), in their stdin order
_SECRETS = (
    ("community_string", "--community-stdin", "--community-file", "SNMP community"),
    ("auth_key", "--auth-key-stdin", "--auth-key-file", "SNMPv3 auth key"),
    ("privacy_key", "--privacy-key-stdin", "--privacy-key-file", "SNMPv3 privacy key"),
)
_AUTH_LEVELS = ("authNoPriv", "authPriv")


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


class ListAlerts(common.Lister):
    """List stored alerts, newest last_seen first (filters are exact; --since/--until a time window)."""

    path, key = "/v1/alerts", "alerts"
    columns = ALERT_COLUMNS
    default_columns = ALERT_DEFAULT_COLUMNS

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        for flag, key in _FILTERS:
            parser.add_argument(flag, dest=f"filter_{key}", metavar=key.upper(), help=f"exact {key}")
        parser.add_argument("--since", help="seen at or after this ISO 8601 time (last_seen)")
        parser.add_argument("--until", help="seen at or before this ISO 8601 time (first_seen)")
        return parser

    def filters(self, parsed_args):
        found = {key: getattr(parsed_args, f"filter_{key}") for _flag, key in _FILTERS}
        return {**found, "since": parsed_args.since, "until": parsed_args.until}


class ShowAlert(common.ShowOne):
    """Show one stored alert."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("alert_id", help="alert id (the id column of alert list)")
        return parser

    def take_action(self, parsed_args):
        return self.show(parsed_args, self.client.get(f"/v1/alerts/{parsed_args.alert_id}"), ALERT_COLUMNS)


class SyncAlerts(storages._TaskCommand):
    """Sync a storage's alerts from the array now (urgent lane); shows the alert_sync task."""

    def start(self, storage_id):
        return self.client.post(f"/v1/storages/{storage_id}/alerts/sync")["task"]


class ClearAlert(common.ClientMixin, lister.Lister):
    """Clear an alert on the array by its sequence number; lists the stored alerts it cleared."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("storage_id", help="storage id")
        parser.add_argument("sequence_number", help="the alert's sequence number on the array")
        parser.add_argument("--long", action="store_true", help="every column in table format")
        return parser

    def take_action(self, parsed_args):
        body = self.client.delete(f"/v1/storages/{parsed_args.storage_id}/alerts/{parsed_args.sequence_number}")
        columns = formatting.select_columns(ALERT_COLUMNS, ALERT_DEFAULT_COLUMNS + ("cleared_by",),
                                            parsed_args.formatter, parsed_args.long, parsed_args.columns)
        return columns, [tuple(row.get(c) for c in columns) for row in body["alerts"]]


def _storage_argument(parser):
    parser.add_argument("storage_id", help="storage id")


class ShowSnmpConfig(common.ShowOne):
    """Show a storage's snmp-config (its secrets are write-only: never shown)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _storage_argument(parser)
        return parser

    def take_action(self, parsed_args):
        config = self.client.get(f"/v1/storages/{parsed_args.storage_id}/snmp-config")
        return self.show(parsed_args, config, SNMP_CONFIG_COLUMNS)


class DeleteSnmpConfig(common.Command):
    """Delete a storage's snmp-config (its traps are then no longer accepted)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _storage_argument(parser)
        return parser

    def take_action(self, parsed_args):
        self.client.request("DELETE", f"/v1/storages/{parsed_args.storage_id}/snmp-config")


def needed_secrets(version: str, security_level: str | None) -> tuple[str, ...]:
    """The secret body keys a version and security level need."""
    if version != "snmpv3":
        return ("community_string",)
    if security_level == "authPriv":
        return ("auth_key", "privacy_key")
    if security_level == "authNoPriv":
        return ("auth_key",)
    return ()


class SetSnmpConfig(common.ShowOne):
    """Create or replace a storage's snmp-config (the whole config: what is not given is not kept).

    Secrets are read from a prompt (not echoed), stdin lines or files, never from arguments.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _storage_argument(parser)
        parser.add_argument("--host", required=True, help="the array's SNMP address (traps come from it)")
        # not --version: the app's global --version would take it
        parser.add_argument("--snmp-version", dest="version", required=True, choices=schema.VERSIONS,
                            help="SNMP version")
        parser.add_argument("--port", type=int, help=f"agent port (default {schema.DEFAULT_PORT})")
        parser.add_argument("--retry-num", type=int, help=f"retries (default {schema.DEFAULT_RETRY_NUM})")
        parser.add_argument("--expiration", type=int, help=f"timeout in ms (default {schema.DEFAULT_EXPIRATION})")
        v3 = parser.add_argument_group("SNMPv3")
        v3.add_argument("--username", help="SNMPv3 user")
        v3.add_argument("--security-level", choices=schema.SECURITY_LEVELS, help="SNMPv3 security level")
        v3.add_argument("--auth-protocol", choices=sorted(schema.AUTH_PROTOCOLS), metavar="PROTOCOL",
                        help="authNoPriv/authPriv: one of " + ", ".join(sorted(schema.AUTH_PROTOCOLS)))
        v3.add_argument("--privacy-protocol", choices=sorted(schema.PRIVACY_PROTOCOLS), metavar="PROTOCOL",
                        help="authPriv: one of " + ", ".join(sorted(schema.PRIVACY_PROTOCOLS)))
        v3.add_argument("--engine-id", help="the array's engine id (hex)")
        v3.add_argument("--context-name", help="SNMPv3 context name")
        group = parser.add_argument_group("secrets (never on the command line; stdin lines in the order below)")
        for _key, stdin_flag, file_flag, what in _SECRETS:
            sources = group.add_mutually_exclusive_group()
            sources.add_argument(stdin_flag, action="store_true", help=f"read the {what} from a line of stdin")
            sources.add_argument(file_flag, metavar="PATH", help=f"read the {what} from the first line of this file")
        return parser

    def body(self, parsed_args) -> dict:
        """The PUT body. :raises CliError: a field or secret the version/level needs is missing (no request)."""
        args = parsed_args
        body = {"host": args.host, "version": args.version}
        for name in ("port", "retry_num", "expiration", "username", "security_level", "auth_protocol",
                     "privacy_protocol", "engine_id", "context_name"):
            if getattr(args, name) is not None:
                body[name] = getattr(args, name)
        needed = needed_secrets(args.version, args.security_level)
        if args.version == "snmpv3":
            missing = [f"--{n.replace('_', '-')}" for n in ("username", "security_level") if n not in body]
            if args.security_level in _AUTH_LEVELS and "auth_protocol" not in body:
                missing.append("--auth-protocol")
            if args.security_level == "authPriv" and "privacy_protocol" not in body:
                missing.append("--privacy-protocol")
            if missing:
                level = args.security_level or "snmpv3"
                raise errors.CliError(f"{level} needs " + ", ".join(missing))
        reader = access_secrets.SecretReader(self.app.stdin, self.app.stderr)
        for key, stdin_flag, file_flag, what in _SECRETS:
            from_stdin, path = getattr(args, _dest(stdin_flag)), getattr(args, _dest(file_flag))
            if (from_stdin or path) and key not in needed:
                setting = args.version + (f" {args.security_level}" if args.security_level else "")
                raise errors.CliError(f"{stdin_flag if from_stdin else file_flag}: {setting} takes no {what}")
            if from_stdin:
                body[key] = reader.from_stdin(what)
            elif path:
                body[key] = access_secrets.read_file(path, file_flag)
        for key, stdin_flag, file_flag, what in _SECRETS:
            if key in needed and key not in body:
                body[key] = reader.prompt(what, f"{stdin_flag} or {file_flag}")
        return body

    def take_action(self, parsed_args):
        body = self.body(parsed_args)
        config = self.client.put(f"/v1/storages/{parsed_args.storage_id}/snmp-config", body)
        return self.show(parsed_args, config, SNMP_CONFIG_COLUMNS)
