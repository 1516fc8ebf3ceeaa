"""``capabilities show``: what performance data a storage's driver can collect, and how often at most."""

from delfin_like.cli import common, formatting


def _metrics_text(resource_metrics: dict) -> str:
    """One line per resource type: its metric names and units."""
    lines = []
    for resource, metrics in sorted((resource_metrics or {}).items()):
        names = ", ".join(f"{name} ({(spec or {}).get('unit', '')})".replace(" ()", "")
                          if isinstance(spec, dict) else name for name, spec in sorted(metrics.items()))
        lines.append(f"{resource}: {names}")
    return "\n".join(lines)


def _min_interval(collection: dict) -> dict:
    """Per resource type, the finest collection interval in seconds."""
    return {resource: (spec or {}).get("min_interval") for resource, spec in sorted((collection or {}).items())}


def _min_interval_text(collection: dict) -> str:
    """One line per resource type: ``volume: 60 s`` (``, historic`` when past samples can be read)."""
    lines = []
    for resource, spec in sorted((collection or {}).items()):
        spec = spec or {}
        lines.append(f"{resource}: {spec.get('min_interval')} s" + (", historic" if spec.get("is_historic") else ""))
    return "\n".join(lines)


class ShowCapabilities(common.ShowOne):
    """Show a storage's performance capabilities."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("storage_id", help="storage id")
        return parser

    def take_action(self, parsed_args):
        caps = self.client.get(f"/v1/storages/{parsed_args.storage_id}/capabilities")["capabilities"]
        if parsed_args.formatter in formatting.MACHINE_FORMATS:
            caps = {**caps, "min_interval": _min_interval(caps.get("collection"))}
            return self.show(parsed_args, caps, ("storage_id", "is_historic", "min_interval", "resource_metrics",
                                                 "collection", "updated_at"))
        caps = {**caps, "resource_metrics": _metrics_text(caps.get("resource_metrics")),
                "min_interval": _min_interval_text(caps.get("collection"))}
        return self.show(parsed_args, caps, ("storage_id", "is_historic", "min_interval", "resource_metrics",
                                             "updated_at"))
