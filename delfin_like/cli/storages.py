"""``storage register|list|show|delete|sync``."""

from delfin_like.cli import access, access_secrets, common, errors, tasks, waiting

STORAGE_COLUMNS = ("id", "name", "vendor", "model", "serial_number", "status", "firmware_version", "location",
                   "description", "raw_capacity", "total_capacity", "used_capacity", "free_capacity",
                   "subscribed_capacity", "created_at", "updated_at", "sync_status", "sync_error",
                   "last_sync_task_id")


def _storage_id_argument(parser):
    parser.add_argument("storage_id", help="storage id")


class ListStorages(common.Lister):
    """List registered storages (--long adds the driver they were registered with)."""

    path, key = "/v1/storages", "storages"
    columns = STORAGE_COLUMNS
    default_columns = ("id", "name", "vendor", "model", "status", "sync_status", "total_capacity",
                       "used_capacity", "free_capacity")

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--vendor", help="exact vendor")
        parser.add_argument("--model", help="exact model")
        return parser

    def filters(self, parsed_args):
        return {"vendor": parsed_args.vendor, "model": parsed_args.model}

    def rows(self, parsed_args, rows):
        """With --long (or -c driver): a ``driver`` column, the vendor and model registered, beside what the
        array reports (one access-info request per storage shown)."""
        if not (parsed_args.long or "driver" in (parsed_args.columns or ())):
            return super().rows(parsed_args, rows)
        for row in rows:
            try:
                info = self.client.get(f"/v1/storages/{row['id']}/access-info")["access_info"]
            except errors.ApiError as e:
                if e.status != 404:
                    raise
                continue  # deleted since the listing: no driver to show
            row["driver"] = f"{info['vendor']} {info['model']}"
        self.columns = STORAGE_COLUMNS[:4] + ("driver",) + STORAGE_COLUMNS[4:]
        return super().rows(parsed_args, rows)


class ShowStorage(common.ShowOne):
    """Show one storage."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _storage_id_argument(parser)
        return parser

    def take_action(self, parsed_args):
        return self.show(parsed_args, self.client.get(f"/v1/storages/{parsed_args.storage_id}"), STORAGE_COLUMNS)


class RegisterStorage(common.ShowOne):
    """Register a storage: the API probes it and starts its first sync (--wait follows that sync).

    Secrets are read from a prompt (not echoed), stdin lines or files, never from arguments.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--vendor", required=True, help="driver vendor, e.g. fake_storage")
        parser.add_argument("--model", required=True, help="driver model, e.g. fake_driver")
        access.add_arguments(parser)
        waiting.wait_arguments(parser)
        return parser

    def take_action(self, parsed_args):
        reader = access_secrets.SecretReader(self.app.stdin, self.app.stderr)
        blocks = access.body_blocks(parsed_args, reader, required=True)
        if not blocks:
            raise errors.CliError("give at least one of --rest-host, --ssh-host, --snmp-host")
        body = {"vendor": parsed_args.vendor, "model": parsed_args.model, **blocks}
        extra = access.parse_extra(parsed_args.extra)
        if extra:
            body["extra_attributes"] = extra
        storage = self.client.post("/v1/storages", body)
        if parsed_args.wait and storage.get("last_sync_task_id"):
            waiting.follow(self.client, storage["last_sync_task_id"], parsed_args.wait_timeout,
                           waiting.progress_stream(self.app, parsed_args))
            storage = self.client.get(f"/v1/storages/{storage['id']}")
        return self.show(parsed_args, storage, STORAGE_COLUMNS)


class _TaskCommand(common.ShowOne):
    """A storage action answered with a task, shown (and followed with --wait)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _storage_id_argument(parser)
        waiting.wait_arguments(parser)
        return parser

    def start(self, storage_id: str) -> dict:
        raise NotImplementedError

    def take_action(self, parsed_args):
        task = self.start(parsed_args.storage_id)
        if parsed_args.wait:
            task = waiting.follow(self.client, task["id"], parsed_args.wait_timeout,
                                  waiting.progress_stream(self.app, parsed_args))
        return self.show(parsed_args, tasks.task_row(task, parsed_args.formatter), tasks.TASK_COLUMNS)


class SyncStorage(_TaskCommand):
    """Sync a storage now (urgent lane); shows the sync task."""

    def start(self, storage_id):
        return self.client.post(f"/v1/storages/{storage_id}/sync")["task"]


class DeleteStorage(_TaskCommand):
    """Remove a storage and its inventory; shows the remove task."""

    def start(self, storage_id):
        return self.client.delete(f"/v1/storages/{storage_id}")["task"]
