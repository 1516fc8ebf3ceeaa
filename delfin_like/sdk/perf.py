"""Performance capabilities: which metrics a driver collects for each resource type.

A driver that collects metrics returns :func:`capabilities` from
``get_capabilities()``. The service stores that dict with the storage, shows it
at ``GET /v1/storages/{id}/capabilities`` and validates metrics-config against
it. Its shape keeps Delfin's ``resource_metrics`` and adds ``collection``::

    {"is_historic": false,
     "resource_metrics": {"volume": {"iops": {"unit": "ops/s", "type": "gauge",
                                              "description": "Read and write operations per second"}, ...}},
     "collection": {"volume": {"min_interval": 10, "is_historic": false}}}

Units are base units (bytes, seconds, ratios 0..1), so every consumer converts
the same way. A ``gauge`` is a rate, an average or a level measured over the
sample's interval; a ``counter`` is a raw total that only grows (until the
array resets or wraps it).
"""

import dataclasses
import re
from collections.abc import Iterable, Mapping

from delfin_like.sdk.models import ResourceType


class Unit:
    OPS_PER_SECOND = "ops/s"
    BYTES_PER_SECOND = "bytes/s"
    SECONDS = "s"
    RATIO = "ratio"
    OPS = "ops"
    BYTES = "bytes"
    ALL = (OPS_PER_SECOND, BYTES_PER_SECOND, SECONDS, RATIO, OPS, BYTES)


class MetricType:
    GAUGE = "gauge"  # a rate, an average or a level
    COUNTER = "counter"  # a raw total that only grows
    ALL = (GAUGE, COUNTER)


@dataclasses.dataclass(frozen=True, slots=True)
class MetricSpec:
    """What one metric means: its name, base unit, type and a one-line description."""

    name: str
    unit: str
    type: str
    description: str

    def as_dict(self) -> dict:
        return {"unit": self.unit, "type": self.type, "description": self.description}


def _spec(name, unit, type_, description):
    return MetricSpec(name, unit, type_, description)


_G, _C = MetricType.GAUGE, MetricType.COUNTER
STANDARD_METRICS: dict[str, MetricSpec] = {
    s.name: s
    for s in (
        _spec("iops", Unit.OPS_PER_SECOND, _G, "Read and write operations per second"),
        _spec("read_iops", Unit.OPS_PER_SECOND, _G, "Read operations per second"),
        _spec("write_iops", Unit.OPS_PER_SECOND, _G, "Write operations per second"),
        _spec("throughput", Unit.BYTES_PER_SECOND, _G, "Bytes read and written per second"),
        _spec("read_throughput", Unit.BYTES_PER_SECOND, _G, "Bytes read per second"),
        _spec("write_throughput", Unit.BYTES_PER_SECOND, _G, "Bytes written per second"),
        _spec("response_time", Unit.SECONDS, _G, "Average time per operation"),
        _spec("read_response_time", Unit.SECONDS, _G, "Average time per read operation"),
        _spec("write_response_time", Unit.SECONDS, _G, "Average time per write operation"),
        _spec("cache_hit_ratio", Unit.RATIO, _G, "Share of operations served from cache (0..1)"),
        _spec("utilization", Unit.RATIO, _G, "Share of the interval the resource was busy (0..1)"),
        _spec("read_ops_total", Unit.OPS, _C, "Read operations since the counter started"),
        _spec("write_ops_total", Unit.OPS, _C, "Write operations since the counter started"),
        _spec("read_bytes_total", Unit.BYTES, _C, "Bytes read since the counter started"),
        _spec("write_bytes_total", Unit.BYTES, _C, "Bytes written since the counter started"),
    )
}

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class InvalidCapabilities(ValueError):
    """A capability declaration that does not follow this module's format."""


@dataclasses.dataclass(frozen=True, slots=True)
class ResourceCapability:
    """What a driver collects for one resource type.

    :param metrics: metric names: keys of :data:`STANDARD_METRICS` or of the ``custom`` specs.
    :param min_interval: the finest collection interval in seconds the back end supports.
    :param is_historic: the driver can return samples of a past window (not only "now").
    """

    metrics: tuple[str, ...]
    min_interval: int
    is_historic: bool = False


def capabilities(resources: Mapping[str, ResourceCapability], custom: Iterable[MetricSpec] = ()) -> dict:
    """Build the capabilities dict a driver returns from ``get_capabilities()``.

    :param resources: resource type (:class:`~delfin_like.sdk.models.ResourceType`) -> what is collected.
    :param custom: specs of metrics beyond :data:`STANDARD_METRICS`.
    :returns: the JSON-able dict described in the module docstring.
    :raises InvalidCapabilities: unknown resource type or metric, bad unit, type or interval.
    """
    specs = dict(STANDARD_METRICS)
    for spec in custom:
        _check_spec(spec)
        specs[spec.name] = spec
    out = {"is_historic": False, "resource_metrics": {}, "collection": {}}
    for resource_type, cap in resources.items():
        if resource_type not in ResourceType.ALL:
            raise InvalidCapabilities(f"unknown resource type {resource_type!r}")
        if not isinstance(cap.min_interval, int) or cap.min_interval < 1:
            raise InvalidCapabilities(f"{resource_type}: min_interval must be a positive integer")
        unknown = [m for m in cap.metrics if m not in specs]
        if unknown or not cap.metrics:
            raise InvalidCapabilities(f"{resource_type}: unknown or no metrics {unknown}")
        out["resource_metrics"][resource_type] = {m: specs[m].as_dict() for m in cap.metrics}
        out["collection"][resource_type] = {"min_interval": cap.min_interval, "is_historic": bool(cap.is_historic)}
        out["is_historic"] = out["is_historic"] or bool(cap.is_historic)
    return out


def _check_spec(spec: MetricSpec) -> None:
    if not _NAME.match(spec.name):
        raise InvalidCapabilities(f"metric name {spec.name!r} must be lower snake_case")
    if spec.unit not in Unit.ALL:
        raise InvalidCapabilities(f"metric {spec.name}: unit must be one of {', '.join(Unit.ALL)}")
    if spec.type not in MetricType.ALL:
        raise InvalidCapabilities(f"metric {spec.name}: type must be gauge or counter")
    if spec.type == MetricType.COUNTER and not spec.name.endswith("_total"):
        raise InvalidCapabilities(f"counter {spec.name} must end in _total")


# the finest interval assumed for a declaration without "collection" (Delfin's drivers poll every 15 min at best)
DEFAULT_MIN_INTERVAL = 60


def parse(caps: Mapping | None) -> dict[str, tuple[ResourceCapability, dict[str, MetricSpec]]]:
    """Read a stored capabilities dict back: resource type -> (capability, metric name -> spec).

    Tolerates Delfin-style declarations without ``collection`` (finest interval
    :data:`DEFAULT_MIN_INTERVAL`) and metrics without ``type`` (gauge) or with an
    unknown unit (kept as declared). Unknown resource types are skipped.
    """
    out = {}
    caps = caps or {}
    collection = caps.get("collection") or {}
    for resource_type, metrics in (caps.get("resource_metrics") or {}).items():
        if resource_type not in ResourceType.ALL or not isinstance(metrics, Mapping) or not metrics:
            continue
        specs = {}
        for name, decl in metrics.items():
            decl = decl if isinstance(decl, Mapping) else {}
            std = STANDARD_METRICS.get(name)
            specs[name] = MetricSpec(
                name=name,
                unit=str(decl.get("unit") or (std.unit if std else "")),
                type=decl.get("type") if decl.get("type") in MetricType.ALL else (std.type if std else _G),
                description=str(decl.get("description") or (std.description if std else name)),
            )
        info = collection.get(resource_type) or {}
        try:
            min_interval = max(1, int(info.get("min_interval", DEFAULT_MIN_INTERVAL)))
        except (TypeError, ValueError):
            min_interval = DEFAULT_MIN_INTERVAL
        historic = bool(info.get("is_historic", caps.get("is_historic", False)))
        out[resource_type] = (ResourceCapability(tuple(specs), min_interval, historic), specs)
    return out
