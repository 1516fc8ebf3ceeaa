"""``metrics-config show|set``: which performance metrics a storage collects, and how often."""

from delfin_like.cli import common, errors

# CLI resource name -> the polling key of the API body (Delfin's names)
RESOURCES = {
    "array": "array_polling",
    "pool": "pool_polling",
    "volume": "volume_polling",
    "controller": "controller_polling",
    "port": "port_polling",
    "disk": "disk_polling",
}
COLUMNS = ("resource", "perf_collection", "interval", "is_historic", "metrics")


def _rows(config: dict, formatter: str) -> list[dict]:
    """One row per resource type of the API's config body, in a fixed order."""
    rows = []
    for name, key in RESOURCES.items():
        entry = config.get(key)
        if entry is None:
            continue
        metrics = entry.get("metrics")
        if formatter not in ("json", "yaml") and metrics is not None:
            metrics = ",".join(metrics)
        rows.append({"resource": name, **entry, "metrics": metrics})
    return rows


class _MetricsConfigLister(common.Lister):
    """Shows a storage's metrics-config as one row per resource type."""

    columns = default_columns = COLUMNS

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("storage_id", help="storage id")
        return parser

    def path(self, parsed_args) -> str:
        return f"/v1/storages/{parsed_args.storage_id}/metrics-config"

    def config(self, parsed_args) -> dict:
        raise NotImplementedError

    def take_action(self, parsed_args):
        return self.rows(parsed_args, _rows(self.config(parsed_args), parsed_args.formatter))


class ShowMetricsConfig(_MetricsConfigLister):
    """Show which resource types of a storage have performance collection, at what interval."""

    def config(self, parsed_args):
        return self.client.get(self.path(parsed_args))


class SetMetricsConfig(_MetricsConfigLister):
    """Switch performance collection of one resource type on or off (checked against the capabilities)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("resource", choices=sorted(RESOURCES), help="resource type")
        state = parser.add_mutually_exclusive_group(required=True)
        state.add_argument("--enable", dest="enabled", action="store_const", const=True, help="collect")
        state.add_argument("--disable", dest="enabled", action="store_const", const=False, help="stop collecting")
        parser.add_argument("--interval", type=int, help="seconds between collections (default: the current "
                            "one, else the driver's finest)")
        parser.add_argument("--metrics", help="comma-separated metric names (default: every declared one)")
        parser.add_argument("--historic", action="store_true", help="ask the driver for past samples too")
        return parser

    def _default_interval(self, parsed_args, current: dict | None) -> int:
        if current:
            return current["interval"]
        caps = self.client.get(f"/v1/storages/{parsed_args.storage_id}/capabilities")["capabilities"]
        resource_type = {"array": "storage", "pool": "storage_pool"}.get(parsed_args.resource, parsed_args.resource)
        collection = (caps.get("collection") or {}).get(resource_type)
        if not collection:
            raise errors.CliError(f"the driver of this storage collects no {parsed_args.resource} metrics")
        return collection["min_interval"]

    def config(self, parsed_args):
        key = RESOURCES[parsed_args.resource]
        current = self.client.get(self.path(parsed_args)).get(key)
        interval = parsed_args.interval
        if interval is None:
            interval = self._default_interval(parsed_args, current)
        entry = {"perf_collection": parsed_args.enabled, "interval": interval, "is_historic": parsed_args.historic}
        if parsed_args.metrics:
            entry["metrics"] = [m.strip() for m in parsed_args.metrics.split(",") if m.strip()]
        return self.client.put(self.path(parsed_args), {key: entry})
