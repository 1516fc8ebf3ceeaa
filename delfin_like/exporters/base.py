"""The exporter contract and the fan-out that feeds every enabled exporter.

A metric exporter receives :class:`MetricBatch` objects (the samples of one window
of one resource type of one storage, at most ``[exporters] batch_size`` of
them) and either returns (the batch is delivered) or raises. Exporters are
stevedore plugins in the namespace ``delfin_like.exporters``; ``[exporters]
enabled`` names the ones loaded.

:class:`ExporterSet` runs each exporter in its own worker thread, so one
failing or slow exporter never blocks another or the task: each call has
``[exporters] timeout`` seconds; a late, failing or still-busy exporter
counts as not delivered for that batch (the outbox keeps it for a later
attempt), its error is logged and counted in :attr:`ExporterSet.stats`.
:class:`Fanout` is that machinery for any plugin family: the alert exporters
(namespace ``delfin_like.alert_exporters``) use it too.
"""

import abc
import concurrent.futures
import dataclasses
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping

import stevedore
from oslo_log import log as logging

from delfin_like.conf import CONF
from delfin_like.conf import exporters as exporters_conf
from delfin_like.sdk import models, perf

LOG = logging.getLogger(__name__)

NAMESPACE = "delfin_like.exporters"
PAYLOAD_VERSION = 1
_BATCH_NAMESPACE = uuid.UUID("9d3bd7e4-5f0c-4d5c-9a57-7d4d1f6c2f10")


def register_opts() -> None:
    """Register ``[exporters]`` on the global CONF (idempotent)."""
    exporters_conf.register_opts(CONF)


register_opts()


def batch_id(storage_id: str, resource_type: str, window_end_us: int, part: int) -> str:
    """The id of one batch: the same window always gets the same id, so a consumer can drop a redelivery."""
    return str(uuid.uuid5(_BATCH_NAMESPACE, f"{storage_id}/{resource_type}/{window_end_us}/{part}"))


@dataclasses.dataclass(frozen=True, slots=True)
class MetricBatch:
    """The samples of one window ``(window_start, window_end]`` (epoch seconds) of one resource type.

    ``specs`` gives the unit and type of every metric in ``samples`` as the driver declared them;
    a window with more samples than ``[exporters] batch_size`` is split in parts ``0..parts-1``.
    """

    batch_id: str
    storage_id: str
    storage_name: str
    serial_number: str
    resource_type: str
    window_start: float
    window_end: float
    samples: tuple[models.MetricSample, ...]
    specs: Mapping[str, perf.MetricSpec]
    part: int = 0
    parts: int = 1

    def to_payload(self) -> dict:
        """A JSON-able dict: the notification payload and the outbox record.

        Samples are compact rows ``[resource_id, resource_name, metric, value, timestamp, interval]``.
        """
        return {
            "version": PAYLOAD_VERSION,
            "batch_id": self.batch_id,
            "storage_id": self.storage_id,
            "storage_name": self.storage_name,
            "serial_number": self.serial_number,
            "resource_type": self.resource_type,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "part": self.part,
            "parts": self.parts,
            "metrics": {name: spec.as_dict() for name, spec in self.specs.items()},
            "samples": [
                [s.resource_id, s.resource_name, s.metric, s.value, s.timestamp, s.interval] for s in self.samples
            ],
        }

    @classmethod
    def from_payload(cls, payload: Mapping) -> "MetricBatch":
        """The inverse of :meth:`to_payload`."""
        rt = payload["resource_type"]
        specs = {
            name: perf.MetricSpec(name, d["unit"], d["type"], d["description"])
            for name, d in payload["metrics"].items()
        }
        samples = tuple(
            models.MetricSample(rt, rid, metric, value, ts, rname, interval)
            for rid, rname, metric, value, ts, interval in payload["samples"]
        )
        return cls(
            payload["batch_id"],
            payload["storage_id"],
            payload["storage_name"],
            payload["serial_number"],
            rt,
            payload["window_start"],
            payload["window_end"],
            samples,
            specs,
            payload["part"],
            payload["parts"],
        )

    def dumps(self) -> str:
        return json.dumps(self.to_payload(), separators=(",", ":"))


class Exporter(abc.ABC):
    """One destination of samples. Constructed without arguments; reads CONF at call time."""

    #: the stevedore name, set by :class:`ExporterSet` when it loads the plugin
    name = "exporter"

    @abc.abstractmethod
    def export(self, batch: MetricBatch) -> None:
        """Deliver ``batch``; return only once it is delivered, raise on any failure.

        Must be safe to repeat: a batch may come again after a crash (at-least-once).
        """

    def close(self) -> None:  # noqa: B027 - optional hook; most exporters hold nothing
        """Release connections and files."""


@dataclasses.dataclass
class Outcome:
    ok: bool
    error: str | None = None
    seconds: float = 0.0


@dataclasses.dataclass
class ExporterStats:
    """Per exporter: ``batches`` delivery calls that succeeded and the ``samples`` (items) in them."""

    batches: int = 0
    samples: int = 0
    failures: int = 0
    timeouts: int = 0
    last_error: str | None = None


class _Worker:
    """One plugin, its single thread and whether a call is still in flight there."""

    def __init__(self, name: str, plugin):
        self.name = name
        self.exporter = plugin
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"exporter-{name}")
        self.busy = threading.Lock()
        self.stats = ExporterStats()

    def run(self, call: Callable) -> None:
        try:
            call(self.exporter)
        finally:
            self.busy.release()


class Fanout:
    """Plugins of one stevedore namespace, each in its own worker thread (see the module docstring).

    The metric exporters (:class:`ExporterSet`) and the alert exporters
    (:class:`delfin_like.exporters.alerts.AlertExporterSet`) are the two families built on it.
    """

    #: the stevedore namespace the plugins are loaded from
    namespace = NAMESPACE
    #: what the log lines call one plugin
    kind = "Exporter"

    def __init__(self, names: Iterable[str] | None = None, plugins: Mapping | None = None):
        """:param names: stevedore names to load (default :meth:`default_names`).
        :param plugins: ready instances by name instead of loading (benchmarks, tests of the fan-out)."""
        self._workers: dict[str, _Worker] = {}
        if plugins is None:
            plugins = self._load(list(self.default_names() if names is None else names))
        for name, plugin in plugins.items():
            plugin.name = name
            self._workers[name] = _Worker(name, plugin)

    def default_names(self) -> list[str]:
        return list(CONF.exporters.enabled)

    def _load(self, names: list[str]) -> dict:
        if not names:
            return {}

        def failed(_manager, entrypoint, error):
            LOG.error("%s %s could not be loaded: %s", self.kind, entrypoint.name, error)

        mgr = stevedore.NamedExtensionManager(
            self.namespace,
            names,
            invoke_on_load=True,
            name_order=True,
            on_load_failure_callback=failed,
            on_missing_entrypoints_callback=None,
        )
        loaded = {ext.name: ext.obj for ext in mgr.extensions}
        for name in names:
            if name not in loaded:
                LOG.error("%s %r is enabled but not available; nothing is exported to it", self.kind, name)
        return loaded

    @property
    def names(self) -> list[str]:
        return list(self._workers)

    @property
    def stats(self) -> dict[str, ExporterStats]:
        return {name: w.stats for name, w in self._workers.items()}

    def plugin(self, name: str):
        """The loaded instance of ``name`` (KeyError when it is not loaded)."""
        return self._workers[name].exporter

    def call_each(self, calls: Mapping[str, Callable], timeout: float, items: int, what: str) -> dict[str, Outcome]:
        """Run ``calls[name](plugin)`` in every named plugin's thread at once and wait for each up to
        ``timeout`` seconds in all; a plugin still busy with an earlier call, failing or late fails
        this call (logged as not taking ``what``, ``items`` items, and counted in :attr:`stats`).

        :returns: name -> :class:`Outcome`; a name that is not loaded fails.
        """
        started = time.monotonic()
        outcomes: dict[str, Outcome] = {}
        futures = {}
        for name, call in calls.items():
            worker = self._workers.get(name)
            if worker is None:
                outcomes[name] = Outcome(False, "exporter not enabled")
                continue
            if not worker.busy.acquire(blocking=False):
                outcomes[name] = self._failed(worker, what, items, "still busy with an earlier batch", timed_out=True)
                continue
            futures[name] = worker.pool.submit(worker.run, call)
        for name, future in futures.items():
            worker = self._workers[name]
            try:
                future.result(timeout=max(0.0, started + timeout - time.monotonic()))
            except concurrent.futures.TimeoutError:
                outcomes[name] = self._failed(worker, what, items, f"no answer within {timeout:g} s", timed_out=True)
                continue
            except Exception as e:  # noqa: BLE001 - an exporter's failure is its own, never the caller's
                outcomes[name] = self._failed(worker, what, items, f"{type(e).__name__}: {e}"[:500])
                continue
            worker.stats.batches += 1
            worker.stats.samples += items
            outcomes[name] = Outcome(True, None, time.monotonic() - started)
        return outcomes

    def _failed(self, worker: _Worker, what: str, items: int, error: str, timed_out: bool = False) -> Outcome:
        worker.stats.failures += 1
        worker.stats.timeouts += int(timed_out)
        worker.stats.last_error = error
        self.log_failure(worker.name, what, items, error)
        return Outcome(False, error)

    def log_failure(self, name: str, what: str, items: int, error: str) -> None:
        LOG.warning("%s %s did not take %s (%d items): %s", self.kind, name, what, items, error)

    def close(self) -> None:
        """Close every plugin; a call still in flight is left to finish on its own."""
        for worker in self._workers.values():
            worker.pool.shutdown(wait=False, cancel_futures=True)
            try:
                worker.exporter.close()
            except Exception:  # noqa: BLE001 - close the others
                LOG.warning("Closing %s %s failed", self.kind.lower(), worker.name, exc_info=True)


class ExporterSet(Fanout):
    """The enabled metric exporters, each in its own worker thread; see the module docstring."""

    def __init__(self, names: Iterable[str] | None = None, exporters: Mapping[str, Exporter] | None = None):
        """:param names: stevedore names to load (default ``[exporters] enabled``).
        :param exporters: ready instances by name instead of loading (benchmarks, tests of the fan-out)."""
        super().__init__(names, exporters)

    def export(self, batch: MetricBatch, only: Iterable[str] | None = None) -> dict[str, Outcome]:
        """Hand ``batch`` to every exporter (or those in ``only``) at once and wait for each
        up to ``[exporters] timeout`` seconds.

        :returns: name -> :class:`Outcome`; an exporter named in ``only`` that is not loaded fails.
        """
        targets = list(self._workers) if only is None else list(only)
        what = f"batch {batch.batch_id} ({batch.resource_type} of storage {batch.storage_id})"
        return self.call_each({name: (lambda e: e.export(batch)) for name in targets}, CONF.exporters.timeout,
                              len(batch.samples), what)

    def log_failure(self, name: str, what: str, items: int, error: str) -> None:
        LOG.warning("Exporter %s did not take %s, %d samples: %s", name, what, items, error)
