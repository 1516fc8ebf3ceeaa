"""``task-manager list`` and ``storage sync-policy show|set|clear``: who runs tasks, and when syncs happen."""

from delfin_like.cli import common, errors

SYNC_POLICY_COLUMNS = ("storage_id", "interval", "enabled", "next_periodic_sync_at", "next_sync_at",
                       "last_fired_at", "last_task_id", "alert_sync_interval", "alert_sync_enabled",
                       "next_alert_sync_at", "last_alert_sync_task_id")


class ListTaskManagers(common.Lister):
    """List the task managers that run or ran tasks, with their lanes, counters and up/down status."""

    path, key = "/v1/task-managers", "task_managers"
    columns = ("id", "host", "pid", "lanes", "status", "started_at", "last_heartbeat", "stopped_at",
               "tasks_running", "tasks_done", "tasks_failed")
    default_columns = ("id", "host", "lanes", "status", "tasks_running", "tasks_done", "tasks_failed",
                       "last_heartbeat")

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--host", help="only the task managers of this host")
        return parser

    def filters(self, parsed_args):
        return {"host": parsed_args.host}

    def rows(self, parsed_args, rows):
        if parsed_args.formatter not in ("json", "yaml"):
            rows = [{**r, "lanes": ",".join(r.get("lanes") or [])} for r in rows]
        return super().rows(parsed_args, rows)


class _SyncPolicyCommand(common.ShowOne):
    """A command on one storage's sync policy that shows the policy the API answers with."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("storage_id", help="storage id")
        return parser

    def path(self, parsed_args) -> str:
        return f"/v1/storages/{parsed_args.storage_id}/sync-policy"

    def call(self, parsed_args) -> dict:
        raise NotImplementedError

    def take_action(self, parsed_args):
        policy = self.call(parsed_args)["sync_policy"]
        return self.show(parsed_args, policy, SYNC_POLICY_COLUMNS)


class ShowSyncPolicy(_SyncPolicyCommand):
    """Show when a storage is synced: its periodic interval and any one-shot sync."""

    def call(self, parsed_args):
        return self.client.get(self.path(parsed_args))


class SetSyncPolicy(_SyncPolicyCommand):
    """Change a storage's periodic sync interval, pause or resume it, set a one-shot sync, or set its
    periodic alert sync interval."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--interval", type=int, help="seconds between periodic syncs")
        enabled = parser.add_mutually_exclusive_group()
        enabled.add_argument("--enable", dest="enabled", action="store_const", const=True,
                             help="resume periodic syncs")
        enabled.add_argument("--disable", dest="enabled", action="store_const", const=False,
                             help="pause periodic syncs")
        once = parser.add_mutually_exclusive_group()
        once.add_argument("--sync-at", metavar="TIME", help="one-shot sync at this ISO 8601 time (UTC unless "
                          "it carries an offset)")
        once.add_argument("--cancel-sync-at", action="store_true", help="cancel the pending one-shot sync")
        parser.add_argument("--alert-sync-interval", type=int, metavar="SECONDS",
                            help="seconds between periodic alert syncs (0: none)")
        return parser

    def call(self, parsed_args):
        body = {}
        if parsed_args.interval is not None:
            body["interval"] = parsed_args.interval
        if parsed_args.enabled is not None:
            body["enabled"] = parsed_args.enabled
        if parsed_args.sync_at:
            body["next_sync_at"] = parsed_args.sync_at
        elif parsed_args.cancel_sync_at:
            body["next_sync_at"] = None
        if parsed_args.alert_sync_interval is not None:
            body["alert_sync_interval"] = parsed_args.alert_sync_interval
        if not body:
            raise errors.CliError("nothing to change: give --interval, --enable/--disable, --sync-at, "
                                  "--cancel-sync-at or --alert-sync-interval")
        return self.client.put(self.path(parsed_args), body)


class ClearSyncPolicy(_SyncPolicyCommand):
    """Clear every schedule of a storage: no more periodic or one-shot syncs until set again."""

    def call(self, parsed_args):
        return self.client.delete(self.path(parsed_args))
