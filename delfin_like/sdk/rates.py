"""Rates from counters that only grow: pure helpers for drivers.

Arrays report I/O as totals since some start (operations, bytes, summed
latency). A rate needs two readings, so the first reading of a counter yields
no rate. A total that went down either wrapped (a 32- or 64-bit counter passed
its maximum and started again from zero) or was reset (a controller reboot):
a decrease is read as a wrap when the wrapped increase is plausible (at most
``max_delta``, by default half the counter's range) and otherwise as a reset,
which yields no rate and starts again from the new reading. The math is on
integers; the only rounding is the final division by the elapsed seconds.

:class:`CounterTracker` keeps the last reading per resource. Drivers are built
afresh for every task, so the service hands each driver the tracker state of
the previous window (``StorageDriver.counters``) and stores it again after a
successful one: the rate chains from window to window, on any task manager.
"""

import dataclasses
import datetime
from collections.abc import Mapping

from delfin_like.sdk import exceptions, models


def counter_delta(previous: int, current: int, width: int | None = 64, max_delta: int | None = None) -> int | None:
    """How much a counter grew from ``previous`` to ``current``.

    :param width: bits of the counter (32 or 64) if it wraps; None if it never wraps.
    :param max_delta: the largest increase that is plausible between the two readings;
        default half the counter's range.
    :returns: the increase (>= 0), or None when the counter was reset.
    """
    if current >= previous:
        return current - previous
    if width is None:
        return None
    modulus = 1 << width
    wrapped = current + modulus - previous
    limit = max_delta if max_delta is not None else modulus >> 1
    if 0 <= current < modulus and 0 <= previous < modulus and wrapped <= limit:
        return wrapped
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class CounterDeltas:
    """The increase of each counter of one resource between two readings ``seconds`` apart.

    A counter that was reset (or missing from the previous reading) maps to None.
    """

    seconds: float
    deltas: Mapping[str, int | None]

    def rate(self, name: str, scale: float = 1.0) -> float | None:
        """Increase per second of counter ``name`` (times ``scale``), or None."""
        delta = self.deltas.get(name)
        return None if delta is None else delta * scale / self.seconds

    def sum_rate(self, *names: str) -> float | None:
        """Combined increase per second of several counters; None if any is unknown."""
        deltas = [self.deltas.get(n) for n in names]
        return None if any(d is None for d in deltas) else sum(deltas) / self.seconds

    def per(self, numerators: tuple[str, ...], denominators: tuple[str, ...], scale: float = 1.0) -> float | None:
        """``sum(numerator deltas) / sum(denominator deltas) * scale`` (e.g. latency per
        operation); None if any delta is unknown or the denominator did not grow."""
        top = [self.deltas.get(n) for n in numerators]
        bottom = [self.deltas.get(n) for n in denominators]
        if any(d is None for d in (*top, *bottom)) or sum(bottom) == 0:
            return None
        return sum(top) * scale / sum(bottom)


class CounterTracker:
    """The last reading of every resource's counters, and the deltas to the next one.

    Keys are chosen by the driver (e.g. ``"volume:vol-7"``). :meth:`state` is
    JSON-able and holds only the resources read since :meth:`load`, so a
    resource that disappeared drops out instead of growing the state forever.
    Not thread-safe: one tracker per collection.
    """

    def __init__(self, state: Mapping | None = None):
        self._last: dict[str, tuple[float, dict[str, int]]] = {}
        self._seen: set[str] = set()
        self.load(state)

    def load(self, state: Mapping | None) -> None:
        """Replace the remembered readings with ``state`` (as returned by :meth:`state`)."""
        self._last = {}
        self._seen = set()
        for key, entry in (state or {}).items():
            try:
                at, values = entry
                self._last[str(key)] = (float(at), {str(k): int(v) for k, v in values.items()})
            except (TypeError, ValueError, AttributeError):
                continue  # a malformed entry only costs one missing rate

    def state(self) -> dict:
        """``{key: [at, {counter: value}]}`` of the resources read since :meth:`load`."""
        return {k: [self._last[k][0], dict(self._last[k][1])] for k in self._seen if k in self._last}

    def observe(
        self, key: str, at: float, counters: Mapping[str, int], width: int | None = 64, max_delta: int | None = None
    ) -> CounterDeltas | None:
        """Record a reading of ``key``'s counters taken at ``at`` (seconds, the array's clock).

        :returns: the deltas since the previous reading, or None on the first
            reading or when the clock did not move forward (the reading then
            becomes the baseline for the next one).
        """
        reading = {name: int(value) for name, value in counters.items()}
        previous = self._last.get(key)
        self._last[key] = (at, reading)
        self._seen.add(key)
        if previous is None:
            return None
        before_at, before = previous
        seconds = at - before_at
        if seconds <= 0:
            return None
        deltas = {}
        for name, value in reading.items():
            old = before.get(name)
            deltas[name] = None if old is None else counter_delta(old, value, width, max_delta)
        return CounterDeltas(seconds, deltas)


# Standard I/O metrics of a resource whose counters use the standard names below
IO_METRICS = (
    "iops",
    "read_iops",
    "write_iops",
    "throughput",
    "read_throughput",
    "write_throughput",
    "response_time",
    "read_response_time",
    "write_response_time",
    "read_ops_total",
    "write_ops_total",
    "read_bytes_total",
    "write_bytes_total",
)
_RW_OPS = ("read_ops", "write_ops")
_RW_LATENCY = ("read_latency_us", "write_latency_us")


def io_metric_value(metric: str, counters: Mapping[str, int], d: "CounterDeltas | None") -> float | None:
    """One standard metric from counters named ``read_ops``, ``write_ops``, ``read_bytes``,
    ``write_bytes``, ``read_latency_us``, ``write_latency_us`` (and ``busy_us`` for ``utilization``)
    now, and their deltas since the previous reading.

    :returns: the value, or None when it cannot be told (no previous reading, a reset, a counter
        this resource does not have, no operation in the interval for a response time).
    """
    if metric.endswith("_total"):
        return counters.get(metric[: -len("_total")])
    if d is None:
        return None
    if metric == "iops":
        return d.sum_rate(*_RW_OPS)
    if metric == "throughput":
        return d.sum_rate("read_bytes", "write_bytes")
    if metric in ("read_iops", "write_iops"):
        return d.rate(f"{metric[:-5]}_ops")
    if metric in ("read_throughput", "write_throughput"):
        return d.rate(f"{metric[:-11]}_bytes")
    if metric == "response_time":
        return d.per(_RW_LATENCY, _RW_OPS, 1e-6)
    if metric in ("read_response_time", "write_response_time"):
        side = metric[: -len("_response_time")]
        return d.per((f"{side}_latency_us",), (f"{side}_ops",), 1e-6)
    if metric == "utilization":
        return d.rate("busy_us", 1e-6)
    return None


def io_samples(
    tracker: "CounterTracker",
    resource_type: str,
    resource_id: str,
    name: str | None,
    at: float,
    counters: Mapping[str, int],
    metrics,
    width: int | None = 64,
):
    """Observe one resource's standard counters in ``tracker`` and yield the MetricSamples of
    ``metrics`` that have a value (totals with interval None, rates over the seconds since the
    previous reading). ``width``: the counters' bits, None if they never wrap."""
    deltas = tracker.observe(f"{resource_type}:{resource_id}", at, counters, width=width)
    for metric in metrics:
        value = io_metric_value(metric, counters, deltas)
        if value is not None:
            interval = None if metric.endswith("_total") else deltas.seconds
            yield models.MetricSample(resource_type, resource_id, metric, value, at, name, interval)


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_US = datetime.timedelta(microseconds=1)


def parse_timestamp(text: object, what: str) -> float:
    """Seconds since the epoch of an array's ISO-8601 counter time (``2024-05-01T10:00:00.5Z``,
    ``...+02:00``; UTC if no offset), computed from whole microseconds so two readings a whole
    number of seconds apart differ by exactly that number.

    :raises BackendError: ``text`` is not such a time (``what`` names the resource in the message).
    """
    try:
        moment = datetime.datetime.fromisoformat(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise exceptions.BackendError(
            f"the array's {what} statistics have a malformed timestamp", detail=f"{what}: {str(text)[:60]!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return ((moment - _EPOCH) // _US) / 1_000_000
