"""IEC sizes, size display choice, column selection, task summaries, KEY=VALUE parsing."""

import pytest

from delfin_like.cli import formatting


@pytest.mark.parametrize("size, text", [
    (0, "0 B"), (1023, "1023 B"), (1024, "1 KiB"), (1536, "1.5 KiB"), (512 * 1024 ** 2, "512 MiB"),
    (1024 ** 3, "1 GiB"), (141 * 1024 ** 4, "141 TiB"), (int(433.5 * 1024 ** 3), "433.5 GiB"),
])
def test_iec(size, text):
    assert formatting.iec(size) == text


@pytest.mark.parametrize("value", [None, "12", 1.5, True])
def test_iec_leaves_non_integers(value):
    assert formatting.iec(value) == value


@pytest.mark.parametrize("formatter, flag, human", [
    ("table", None, True), ("json", None, False), ("yaml", None, False), ("csv", None, False),
    ("value", None, False), ("table", False, False), ("json", True, True),
])
def test_want_human(formatter, flag, human):
    assert formatting.want_human(formatter, flag) is human


def test_humanize_touches_byte_fields_only():
    row = {"name": "v", "total_capacity": 1024 ** 3, "speed": 16000000000, "capacity": 2048}
    assert formatting.humanize(row, True) == {"name": "v", "total_capacity": "1 GiB", "speed": 16000000000,
                                              "capacity": "2 KiB"}
    assert formatting.humanize(row, False) == row


ALL = ("id", "name", "status", "wwn")
SHORT = ("id", "name")


@pytest.mark.parametrize("formatter, long, requested, expected", [
    ("table", False, [], SHORT),
    ("table", True, [], ALL),
    ("table", False, ["wwn"], ALL),  # cliff picks -c columns out of all of them
    ("json", False, [], ALL),
    ("value", False, [], ALL),
])
def test_select_columns(formatter, long, requested, expected):
    assert formatting.select_columns(ALL, SHORT, formatter, long, requested) == expected


def test_task_summary():
    result = {"volumes": {"added": 5, "updated": 1, "deleted": 2, "unchanged": 3}, "rows_written": 8}
    assert formatting.task_summary(result) == "volumes +5 ~1 -2 =3\nrows written 8"
    assert formatting.task_summary(None) == ""


@pytest.mark.parametrize("text, pair", [
    ("pools=2", ("pools", 2)), ("name=abc", ("name", "abc")), ("ok=true", ("ok", True)),
    ("list=[1,2]", ("list", [1, 2])), ("eq=a=b", ("eq", "a=b")), ("empty=", ("empty", "")),
])
def test_parse_key_value(text, pair):
    assert formatting.parse_key_value(text) == pair


@pytest.mark.parametrize("text", ["novalue", "=1"])
def test_parse_key_value_rejects(text):
    with pytest.raises(ValueError):
        formatting.parse_key_value(text)


@pytest.mark.parametrize("rate, text", [
    (0, "0 bit/s"), (999, "999 bit/s"), (100_000_000, "100 Mbit/s"), (1_000_000_000, "1 Gbit/s"),
    (32_000_000_000, "32 Gbit/s"), (25_781_250_000, "25.78 Gbit/s"), (400 * 10 ** 12, "400 Tbit/s"),
    (None, None), ("fast", "fast"),
])
def test_bit_rate(rate, text):
    assert formatting.bit_rate(rate) == text


def test_port_speeds_are_rates_for_people_and_bits_for_scripts():
    row = {"name": "0a", "speed": 32_000_000_000, "max_speed": 10_000_000_000, "total_capacity": 1024}
    rates = frozenset({"speed", "max_speed"})
    assert formatting.humanize(row, True, rates) == {"name": "0a", "speed": "32 Gbit/s", "max_speed": "10 Gbit/s",
                                                     "total_capacity": "1 KiB"}
    assert formatting.humanize(row, False, rates) == row
