"""``GET/PUT /v1/storages/{id}/metrics-config``: which metrics are collected, per resource type, how often.

The body is Delfin's, one entry per resource type (``array_polling``,
``pool_polling``, ``volume_polling``, ``controller_polling``, ``port_polling``,
``disk_polling``). A PUT is checked against the storage's capabilities (what
its driver declared at registration or the last sync): a resource type or
metric the driver does not collect, history it cannot give, or an interval
shorter than the finest it supports is a 400 and nothing changes. Entries
in the body replace those resource types' settings; the others stay. An
enabled entry is collected at once and then every ``interval`` seconds; a
disabled one stops (its queued task is cancelled, its series leave /metrics).
"""

import pecan
from oslo_log import log as logging

from delfin_like.api import utils, validation
from delfin_like.api.schemas.v1 import metrics_config as schema
from delfin_like.common import exception
from delfin_like.db import api as db_api
from delfin_like.sdk import perf

LOG = logging.getLogger(__name__)


def view(config: dict) -> dict:
    """resource type -> settings (as db.api.perf_config_get returns) -> the response body."""
    out = {}
    for rt, entry in config.items():
        key = schema.RESOURCE_TYPE_KEYS.get(rt)
        if key is not None:
            out[key] = {
                "perf_collection": entry["perf_collection"],
                "interval": entry["interval"],
                "is_historic": entry["is_historic"],
                "metrics": entry["metrics"],
            }
    return out


def check_against_capabilities(body: dict, capabilities: dict | None) -> dict:
    """Turn a schema-valid body into db changes, refusing what the driver cannot do.

    :returns: resource type -> ``{"perf_collection", "interval", "is_historic", "metrics"}``.
    :raises InvalidInput: naming the entry and the rule it broke (never echoing submitted strings).
    """
    declared = perf.parse(capabilities)
    changes = {}
    for key, entry in body.items():
        rt = schema.POLLING_KEYS[key]
        if rt not in declared:
            raise exception.InvalidInput(f"{key}: the storage's driver collects no {rt} metrics")
        cap, specs = declared[rt]
        if entry["interval"] < cap.min_interval:
            raise exception.InvalidInput(
                f"{key}.interval: must be at least {cap.min_interval} s, the finest the driver supports"
            )
        if entry["is_historic"] and not cap.is_historic:
            raise exception.InvalidInput(f"{key}.is_historic: the driver cannot collect past {rt} samples")
        metrics = entry.get("metrics")
        if metrics is not None and any(m not in specs for m in metrics):
            raise exception.InvalidInput(f"{key}.metrics: the driver collects only {', '.join(sorted(specs))}")
        changes[rt] = {
            "perf_collection": entry["perf_collection"],
            "interval": entry["interval"],
            "is_historic": entry["is_historic"],
            "metrics": metrics,
        }
    return changes


def configure(storage_id: str, body) -> dict:
    """Apply a metrics-config body (as ``PUT /v1/storages/{id}/metrics-config`` takes it).

    :returns: the storage's whole config, as ``db.api.perf_config_get`` gives it.
    :raises InvalidInput: a bad body, or one beyond the capabilities (nothing changes).
    """
    validation.validate(schema.update, body)
    capabilities = db_api.storage_capabilities_get(storage_id)["capabilities"]
    changes = check_against_capabilities(body, capabilities)
    config = db_api.perf_config_set(storage_id, changes)
    summary = (f"{rt} every {c['interval']} s" if c["perf_collection"] else f"{rt} off" for rt, c in changes.items())
    LOG.info("Metrics-config of storage %s changed: %s", storage_id, ", ".join(summary))
    return config


class StorageMetricsConfigController(utils.StorageSubresource):
    """``/v1/storages/{id}/metrics-config``."""

    @pecan.expose("json")
    def get_all(self, storage_id, **_query):
        """-> the configured entries (``{}`` when nothing was ever configured); 404 StorageNotFound."""
        return view(db_api.perf_config_get(storage_id))

    @pecan.expose("json")
    def put(self, storage_id, **_form):
        """Change what is collected -> 200 with the whole config.

        400 bad body or beyond the capabilities; 404 unknown storage; 409 being deleted. Nothing
        changes on any error.
        """
        config = configure(storage_id, validation.json_body(pecan.request))
        return view(config)
