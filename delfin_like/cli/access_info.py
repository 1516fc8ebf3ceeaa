"""``storage access-info show|set``: how a storage is reached (secrets are write-only)."""

import json

from delfin_like.cli import access, access_secrets, common, errors, formatting

ACCESS_COLUMNS = ("storage_id", "vendor", "model", "rest", "ssh", "snmp", "extra_attributes", "created_at",
                  "updated_at")


def _short(value):
    """A PEM option (``ca_cert``) as the count of its certificates: a table cell stays one line."""
    if isinstance(value, str) and "-----BEGIN CERTIFICATE-----" in value:
        return f"<PEM, {value.count('-----BEGIN CERTIFICATE-----')} certificate(s)>"
    return value


def _flatten(info: dict, formatter: str) -> dict:
    """Blocks as ``user@host:port`` strings for tables; as they are for machine formats."""
    if formatter in formatting.MACHINE_FORMATS:
        return info
    row = dict(info)
    for proto in access.PROTOCOLS:
        block = info.get(proto)
        if block:
            user = f"{block['username']}@" if block.get("username") else ""
            options = {k: _short(v) for k, v in block.items() if k not in ("host", "port", "username")}
            row[proto] = f"{user}{block['host']}:{block['port']}" + (f" {json.dumps(options)}" if options else "")
    row["extra_attributes"] = json.dumps(info.get("extra_attributes") or {}, sort_keys=True)
    return row


class ShowAccessInfo(common.ShowOne):
    """Show how a storage is reached, without its secrets."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("storage_id", help="storage id")
        return parser

    def take_action(self, parsed_args):
        info = self.client.get(f"/v1/storages/{parsed_args.storage_id}/access-info")["access_info"]
        return self.show(parsed_args, _flatten(info, parsed_args.formatter), ACCESS_COLUMNS)


class SetAccessInfo(common.ShowOne):
    """Change how a storage is reached; flags not given keep their stored values, the password included.

    The API probes the back end again: it must be the same array.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("storage_id", help="storage id")
        access.add_arguments(parser, ask_flag=True)
        return parser

    def take_action(self, parsed_args):
        path = f"/v1/storages/{parsed_args.storage_id}/access-info"
        stored = self.client.get(path)["access_info"]
        reader = access_secrets.SecretReader(self.app.stdin, self.app.stderr)
        body = access.body_blocks(parsed_args, reader, stored, required=False)
        extra = access.parse_extra(parsed_args.extra)
        if extra:
            body["extra_attributes"] = {**(stored.get("extra_attributes") or {}), **extra}
        if not body:
            raise errors.CliError("nothing to change: give --rest-*, --ssh-*, --snmp-* or --extra options")
        info = self.client.put(path, body)["access_info"]
        return self.show(parsed_args, _flatten(info, parsed_args.formatter), ACCESS_COLUMNS)
