"""delfin_like.sdk.rates: counter deltas with wraps and resets, and the tracker that chains readings."""

import json

import pytest

from delfin_like.sdk import rates


@pytest.mark.parametrize(
    "previous, current, width, expected",
    [
        (100, 250, 64, 150),
        (7, 7, 32, 0),
        # a 32-bit counter passed 2**32 - 1 and went on from zero
        (2**32 - 10, 5, 32, 15),
        (2**32 - 1, 0, 32, 1),
        # a 64-bit counter wraps too
        (2**64 - 3, 4, 64, 7),
        # a large fall is a reset, not a wrap: no delta
        (1_000_000, 10, 32, None),
        (2**40, 3, 64, None),
        # a counter that never wraps can only have been reset
        (10, 9, None, None),
    ],
)
def test_counter_delta(previous, current, width, expected):
    assert rates.counter_delta(previous, current, width) == expected


def test_max_delta_decides_between_wrap_and_reset():
    # wrapped increase 2**31: plausible by default (half the range), not with a tighter bound
    assert rates.counter_delta(2**31 + 5, 5, 32) == 2**31
    assert rates.counter_delta(2**31 + 5, 5, 32, max_delta=10**6) is None
    assert rates.counter_delta(2**32 - 100, 50, 32, max_delta=150) == 150


def test_readings_outside_the_width_are_a_reset():
    assert rates.counter_delta(2**33, 5, 32) is None


def test_first_reading_yields_nothing_then_exact_rates():
    tracker = rates.CounterTracker()
    assert tracker.observe("vol-1", 100.0, {"ops": 1000, "bytes": 4096}) is None
    d = tracker.observe("vol-1", 102.5, {"ops": 1750, "bytes": 4096 + 10 * 1024})
    assert d.seconds == 2.5
    assert d.deltas == {"ops": 750, "bytes": 10240}
    assert d.rate("ops") == 750 / 2.5
    assert d.rate("bytes", scale=0.5) == 10240 * 0.5 / 2.5
    assert d.sum_rate("ops", "bytes") == (750 + 10240) / 2.5
    assert d.per(("bytes",), ("ops",)) == 10240 / 750


def test_a_reset_counter_has_no_rate_and_starts_again():
    tracker = rates.CounterTracker()
    tracker.observe("c", 0.0, {"ops": 5_000_000, "lat": 9})
    d = tracker.observe("c", 10.0, {"ops": 100, "lat": 19})
    assert d.deltas == {"ops": None, "lat": 10}
    assert d.rate("ops") is None and d.sum_rate("ops", "lat") is None
    assert d.per(("lat",), ("ops",)) is None
    # the reading after the reset is the new baseline
    assert tracker.observe("c", 20.0, {"ops": 600, "lat": 29}).rate("ops") == 50.0


def test_wrap_through_the_tracker():
    tracker = rates.CounterTracker()
    tracker.observe("p", 1.0, {"octets": 2**32 - 1000}, width=32)
    assert tracker.observe("p", 3.0, {"octets": 3000}, width=32).rate("octets") == 2000.0


def test_clock_that_did_not_move_forward_gives_no_rate():
    tracker = rates.CounterTracker()
    tracker.observe("x", 5.0, {"ops": 1})
    assert tracker.observe("x", 5.0, {"ops": 2}) is None
    assert tracker.observe("x", 4.0, {"ops": 3}) is None
    assert tracker.observe("x", 6.0, {"ops": 5}).rate("ops") == (5 - 3) / (6.0 - 4.0)


def test_per_with_a_denominator_that_did_not_grow():
    tracker = rates.CounterTracker()
    tracker.observe("x", 0.0, {"ops": 1, "lat": 1})
    assert tracker.observe("x", 1.0, {"ops": 1, "lat": 1}).per(("lat",), ("ops",)) is None


def test_state_survives_json_and_keeps_only_resources_read_since_load():
    first = rates.CounterTracker()
    first.observe("a", 1.0, {"ops": 10})
    first.observe("b", 1.0, {"ops": 20})
    state = json.loads(json.dumps(first.state()))
    second = rates.CounterTracker(state)
    assert second.observe("a", 3.0, {"ops": 30}).rate("ops") == 10.0
    assert second.state() == {"a": [3.0, {"ops": 30}]}  # "b" was not read: it drops out


def test_a_counter_new_since_the_last_reading_has_no_delta():
    tracker = rates.CounterTracker()
    tracker.observe("a", 1.0, {"ops": 10})
    assert tracker.observe("a", 2.0, {"ops": 11, "bytes": 5}).deltas == {"ops": 1, "bytes": None}


def test_malformed_state_entries_are_ignored():
    tracker = rates.CounterTracker({"a": "junk", "b": [1.0, {"ops": 1}]})
    assert tracker.observe("a", 2.0, {"ops": 2}) is None
    assert tracker.observe("b", 2.0, {"ops": 2}).rate("ops") == 1.0
