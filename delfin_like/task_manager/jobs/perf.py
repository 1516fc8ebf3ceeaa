"""The perf job: collect one window of one resource type of a storage, commit it, export it.

A perf task (type ``perf_<resource type>``, fired by the scheduler on the
metrics-config interval) collects the window ``(last_end, now]``, where
``last_end`` is where the previous successful window of the series ended, so
windows neither overlap nor leave holes and each sample is collected once.
The driver gets its counter readings of ``last_end`` back (the first window
of a series has totals but no rates). Then ONE transaction (a compare-and-set
on ``last_end`` and on the task's lease) stores the window's batches in the
outbox and moves ``last_end`` on; only after that are the batches handed to
the exporters, and each exporter that took a batch is struck off it. What a
crash or a failing exporter left in the outbox goes out first in the next
task of the series (at-least-once, in order).

A window whose collection fails is recorded (consecutive failures, last
error), its task FAILED, and the series retried with exponential back-off
(``interval * 2**(failures-1)``, at most ``[exporters] max_backoff``). The
next attempt still starts at ``last_end``; once that is older than
``[exporters] retention_seconds`` the stretch is given up and recorded as a
gap (``perf_gaps``, logged, counted on /metrics) and the chain restarts.
Collection never takes the storage's sync lock: the window bookkeeping is
what keeps two collections of a series apart.
"""

import json
import math
import threading
import time

from oslo_log import log as logging

from delfin_like import driver_manager
from delfin_like.alert_manager import platform as platform_alerts
from delfin_like.common import exception
from delfin_like.common.constants import TaskStatus, TaskType
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.exporters import base as exporters_base
from delfin_like.sdk import cancel, perf
from delfin_like.task_manager import jobs

LOG = logging.getLogger(__name__)

_exporters: exporters_base.ExporterSet | None = None
_exporters_names: tuple[str, ...] | None = None
_exporters_lock = threading.Lock()


def get_exporters() -> exporters_base.ExporterSet:
    """The process's exporters (``[exporters] enabled``), loaded once; reloaded if the option changed."""
    global _exporters, _exporters_names
    names = tuple(CONF.exporters.enabled)
    with _exporters_lock:
        if _exporters is None or _exporters_names != names:
            if _exporters is not None:
                _exporters.close()
            _exporters = exporters_base.ExporterSet(names)
            _exporters_names = names
        return _exporters


def close_exporters() -> None:
    """Close the process's exporters (service stop, tests)."""
    global _exporters, _exporters_names
    with _exporters_lock:
        if _exporters is not None:
            _exporters.close()
        _exporters, _exporters_names = None, None


def resource_type_of(task_type: str) -> str:
    """``perf_volume`` -> ``volume``."""
    if task_type not in TaskType.PERF:
        raise ValueError(f"not a perf task type: {task_type!r}")
    return task_type[len(TaskType.PERF_PREFIX) :]


def now_us() -> int:
    return time.time_ns() // 1000


class CollectionFailed(exception.DelfinLikeException):
    """A window could not be collected (the user-facing reason is ``msg``)."""

    _msg_fmt = "%s"


def _wanted(state: dict, resource_type: str) -> tuple[list[str], dict[str, perf.MetricSpec]]:
    caps = state["storage"]["capabilities"]
    declared = perf.parse(json.loads(caps) if caps else None)
    if resource_type not in declared:
        raise CollectionFailed(f"the driver no longer collects {resource_type} metrics")
    cap, specs = declared[resource_type]
    metrics = [m for m in (state["metrics"] or cap.metrics) if m in specs]
    if not metrics:
        raise CollectionFailed(f"none of the configured {resource_type} metrics is declared by the driver")
    return metrics, specs


def _collect(
    storage_id: str,
    resource_type: str,
    metrics: list[str],
    start_us: int,
    end_us: int,
    counter_state: str | None,
    historic: bool,
) -> tuple[list, str]:
    """Ask the driver for the window; returns (valid samples, the driver's new counter state as JSON)."""
    driver = jobs.driver_for(storage_id)
    try:
        driver.counters.load(json.loads(counter_state) if counter_state else None)
        start, end = start_us / 1_000_000, end_us / 1_000_000

        def collect():
            # iterating a generator runs the driver: it belongs inside the deadline, and stops at it
            return list(cancel.checked(driver.collect_perf_metrics({resource_type: list(metrics)}, start, end)))

        samples = driver_manager.call_with_deadline(
            collect, CONF.exporters.collect_timeout, what="collect_perf_metrics"
        )
        state = json.dumps(driver.counters.state(), separators=(",", ":"))
    finally:
        driver_manager.close_quietly(driver, f"storage {storage_id}")
    wanted = set(metrics)
    valid = [
        s
        for s in samples
        if s.resource_type == resource_type
        and s.metric in wanted
        and isinstance(s.value, (int, float))
        and math.isfinite(s.value)
        and (not historic or start < s.timestamp <= end)
    ]
    if len(valid) != len(samples):
        LOG.warning(
            "Storage %s: dropped %d of %d %s samples (wrong type, metric, value or time)",
            storage_id,
            len(samples) - len(valid),
            len(samples),
            resource_type,
        )
    return valid, state


def _batches(
    state: dict, storage_id: str, resource_type: str, start_us: int, end_us: int, samples: list, specs: dict
) -> list[exporters_base.MetricBatch]:
    size = CONF.exporters.batch_size
    parts = max(1, math.ceil(len(samples) / size)) if samples else 0
    used = {s.metric for s in samples}
    specs = {m: spec for m, spec in specs.items() if m in used}
    storage = state["storage"]
    return [
        exporters_base.MetricBatch(
            exporters_base.batch_id(storage_id, resource_type, end_us, part),
            storage_id,
            storage["name"],
            storage["serial_number"],
            resource_type,
            start_us / 1_000_000,
            end_us / 1_000_000,
            tuple(samples[part * size : (part + 1) * size]),
            specs,
            part,
            parts,
        )
        for part in range(parts)
    ]


def deliver(
    exporters: exporters_base.ExporterSet,
    batches,
    pending: dict[str, list[str]] | None = None,
    skip: set[str] | None = None,
) -> dict[str, dict]:
    """Hand batches to the exporters still owed them and settle the outbox.

    :param pending: batch id -> exporters owed (default: every exporter for every batch).
    :param skip: exporters not to try (they failed earlier in this task); grows with new failures.
    :returns: exporter -> ``{"delivered": batches, "failed": batches, "error": last error}``.
    """
    skip = set() if skip is None else skip
    summary: dict[str, dict] = {}
    for batch in batches:
        owed = [n for n in (pending or {}).get(batch.batch_id, exporters.names) if n not in skip]
        if not owed:
            continue
        outcomes = exporters.export(batch, only=owed)
        failed = {n: o.error or "failed" for n, o in outcomes.items() if not o.ok}
        db_api.perf_batch_settle(batch.batch_id, [n for n, o in outcomes.items() if o.ok], failed)
        for name, outcome in outcomes.items():
            entry = summary.setdefault(name, {"delivered": 0, "failed": 0, "error": None})
            entry["delivered" if outcome.ok else "failed"] += 1
            if not outcome.ok:
                entry["error"] = outcome.error
        skip.update(failed)  # later batches wait for the next task, keeping their order
    return summary


def _deliver_backlog(exporters, storage_id: str, resource_type: str, before_us: int, skip: set[str]) -> dict:
    """Deliver what earlier windows left in the outbox (oldest first); give up what is past retention."""
    expired = db_api.perf_batches_expire(storage_id, resource_type, before_us, exporters.names)
    for gap in expired:
        LOG.warning(
            "Storage %s %s: gave up (%d, %d] for exporter %s: %s",
            storage_id,
            resource_type,
            gap["start_us"],
            gap["end_us"],
            gap["exporter"],
            gap["reason"],
        )
    pending = db_api.perf_batches_pending(storage_id, resource_type)
    batches = [exporters_base.MetricBatch.from_payload(json.loads(p["payload"])) for p in pending]
    summary = deliver(exporters, batches, {p["id"]: p["exporters"] for p in pending}, skip)
    return {"batches": len(batches), "exporters": summary, "expired": len(expired)}


def _failed(task: dict, owner: str, state: dict, resource_type: str, error: str, at_us: int) -> None:
    interval = state["interval"] or 60
    failures = state["failures"] + 1
    backoff = min(interval * 2 ** min(failures - 1, 30), max(interval, CONF.exporters.max_backoff))
    last = state["last_end_us"]
    gap = None
    if last is not None and at_us - last > CONF.exporters.retention_seconds * 1_000_000:
        gap = {
            "start_us": last,
            "end_us": at_us,
            "reason": f"collection failed for longer than the retention ({failures} attempts): {error}",
        }
        LOG.warning(
            "Storage %s %s: gave up (%d, %d]: %s", task["storage_id"], resource_type, last, at_us, gap["reason"]
        )
    LOG.warning(
        "Perf task %s: %s window of storage %s failed (%d in a row; retry in %d s): %s",
        task["id"],
        resource_type,
        task["storage_id"],
        failures,
        backoff,
        error,
    )
    db_api.perf_window_failed(task["id"], owner, task["storage_id"], resource_type, error, backoff, gap)


def run(task: dict, owner: str) -> dict | None:
    """Collect, commit and export the next window of the task's series; complete the task.

    :param task: the claimed task dict (``id``, ``storage_id``, ``type`` ``perf_<resource type>``).
    :param owner: this task manager's lease owner id.
    :returns: the task result, or None when the task ended otherwise (cancelled, failed and
        recorded for a retry, or no longer this owner's).
    :raises DatabaseUnavailable: transient; the task is handed back.
    """
    storage_id, resource_type = task["storage_id"], resource_type_of(task["type"])
    state = db_api.perf_window_state(storage_id, resource_type)
    if state is None or state["storage"]["deleting"]:
        jobs.cancel(task, owner, "the storage or its metrics-config is gone")
        return None
    if not state["enabled"]:
        jobs.cancel(task, owner, "performance collection disabled")
        return None
    started = time.monotonic()
    exporters = get_exporters()
    end_us = now_us()
    retention_us = CONF.exporters.retention_seconds * 1_000_000
    skip: set[str] = set()
    backlog = _deliver_backlog(exporters, storage_id, resource_type, end_us - retention_us, skip)

    interval_us = (state["interval"] or 60) * 1_000_000
    last = state["last_end_us"]
    start_us, counter_state, gap = (last if last is not None else end_us - interval_us), state["counter_state"], None
    if last is not None and end_us - last > retention_us:
        start_us, counter_state = end_us - interval_us, None
        gap = {"start_us": last, "end_us": start_us, "reason": "window older than the retention (no task ran)"}
        LOG.warning("Storage %s %s: gave up (%d, %d]: %s", storage_id, resource_type, last, start_us, gap["reason"])
    if end_us <= start_us:
        # the clock is behind the last window (a step back): nothing new to collect yet
        result = {"resource_type": resource_type, "samples": 0, "window_start_us": start_us, "window_end_us": None}
        db_api.task_finish(task["id"], TaskStatus.COMPLETED, result=result, owner=owner)
        return result
    try:
        metrics, specs = _wanted(state, resource_type)
        samples, new_state = _collect(
            storage_id, resource_type, metrics, start_us, end_us, counter_state, state["is_historic"]
        )
    except exception.DatabaseUnavailable:
        raise
    except exception.DelfinLikeException as e:
        _failed(task, owner, state, resource_type, e.msg, now_us())
        # the task manager does not see this error: tell the platform alerts here (never raises)
        platform_alerts.note_outcome(storage_id, task["type"], e)
        return None

    # no exporter enabled: the window is still collected (the chain goes on) but nothing is kept for delivery
    batches = _batches(state, storage_id, resource_type, start_us, end_us, samples, specs) if exporters.names else []
    rows = [
        {
            "id": b.batch_id,
            "window_start_us": start_us,
            "part": b.part,
            "sample_count": len(b.samples),
            "payload": b.dumps(),
        }
        for b in batches
    ]
    outcome = db_api.perf_window_commit(
        task["id"], owner, storage_id, resource_type, last, end_us, new_state, rows, exporters.names, gap
    )
    if outcome == "disabled":
        jobs.cancel(task, owner, "performance collection disabled during the window")
        return None
    if outcome != "committed":
        LOG.warning(
            "Perf task %s: the %s window of storage %s was committed elsewhere or the task is no longer "
            "ours; nothing written",
            task["id"],
            resource_type,
            storage_id,
        )
        return None
    exported = deliver(exporters, batches, skip=skip)
    result = {
        "resource_type": resource_type,
        "window_start_us": start_us,
        "window_end_us": end_us,
        "samples": len(samples),
        "batches": len(batches),
        "exporters": exported,
        "backlog": backlog,
        "gap": gap,
    }
    db_api.task_finish(task["id"], TaskStatus.COMPLETED, result=result, owner=owner)
    LOG.info(
        "Collected %d %s samples of storage %s for (%d, %d] in %.2f s",
        len(samples),
        resource_type,
        storage_id,
        start_us,
        end_us,
        time.monotonic() - started,
    )
    return result
