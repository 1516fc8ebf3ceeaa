"""Reading SVC CLI output: escapes, columns by name, capacities and the errors for what does not fit."""

import pytest

from delfin_like.sdk import exceptions
from delfin_like_drivers.ibm import svc_output as out


@pytest.mark.parametrize(
    "line, fields",
    [
        ("a:b:c", ["a", "b", "c"]),
        ("a::", ["a", "", ""]),
        (r"02\:00\:5e:x", ["02:00:5e", "x"]),
        (r"back\\slash:x", ["back\\slash", "x"]),
        (r"iqn.1986-03.com.ibm\:2145.a:1", ["iqn.1986-03.com.ibm:2145.a", "1"]),
        ("trailing\\", ["trailing\\"]),
    ],
)
def test_split_honours_backslash_escapes(line, fields):
    assert out.split(line) == fields


def test_table_reads_columns_by_name_whatever_their_order_and_extra_columns():
    old = ["id:name:capacity", "0:pool_a:1024", "1:pool_b:2048"]
    new = ["capacity:site_name:name:id:data_reduction", "1024:site1:pool_a:0:no", "2048::pool_b:1:yes"]
    pick = [(r["id"], r["name"], r["capacity"]) for r in out.table(old, "lsmdiskgrp")]
    assert pick == [(r["id"], r["name"], r["capacity"]) for r in out.table(new, "lsmdiskgrp")]
    assert pick == [("0", "pool_a", "1024"), ("1", "pool_b", "2048")]


def test_table_skips_blank_lines_and_yields_nothing_for_a_header_only():
    assert list(out.table(["id:name", "", "  "], "lsvdisk")) == []
    assert list(out.table([], "lsvdisk")) == []


@pytest.mark.parametrize(
    "lines, what",
    [
        (["id:name:capacity", "0:a"], "line 2 has 2 fields, the header 3"),
        (["id:name", "0:a:b"], "line 2 has 3 fields, the header 2"),
        (["id:id", "0:1"], "empty or repeated column names"),
        (["id::name", "0:1:2"], "empty or repeated column names"),
    ],
)
def test_table_refuses_rows_that_do_not_fit_the_header(lines, what):
    with pytest.raises(exceptions.BackendError) as e:
        list(out.table(lines, "lsvdisk"))
    assert str(e.value).startswith("malformed output of lsvdisk: ") and str(e.value).endswith(what)


def test_detail_reads_name_value_lines_and_the_first_of_repeated_names_wins():
    lines = ["id:000002006C40A278", r"console_IP:192.0.2.11\:443", "partnership:", "", "tier:ssd", "tier:hdd"]
    assert out.detail(lines, "lssystem") == {
        "id": "000002006C40A278",
        "console_IP": "192.0.2.11:443",
        "partnership": "",
        "tier": "ssd",
    }


@pytest.mark.parametrize("lines", [["id 0001"], ["name with space:x"], [], ["", " "], [":value"]])
def test_detail_refuses_lines_without_a_name_and_empty_output(lines):
    with pytest.raises(exceptions.BackendError, match="malformed output of lssystem"):
        out.detail(lines, "lssystem")


@pytest.mark.parametrize(
    "text, value",
    [
        ("1073741824", 1073741824),
        ("0", 0),
        ("", 0),
        (None, 0),
        ("1.00GB", 1024**3),
        ("704.00MB", 704 * 1024**2),
        ("29.43TB", round(29.43 * 1024**4)),
        ("2PB", 2 * 1024**5),
        ("512B", 512),
        ("16.00 tb", 16 * 1024**4),
    ],
)
def test_capacity_in_bytes_from_bytes_or_cli_units(text, value):
    assert out.capacity(text, "capacity", "lsvdisk") == value


@pytest.mark.parametrize("text", ["abc", "1.0.0GB", "-5", "12XB", "1e9"])
def test_capacity_that_is_not_one_is_malformed(text):
    with pytest.raises(exceptions.BackendError) as e:
        out.capacity(text, "capacity", "lsvdisk")
    assert str(e.value) == "malformed output of lsvdisk: capacity is not a capacity"
    assert text not in str(e.value)


def test_integer_column():
    assert out.integer("12", "rpm", "lsdrive") == 12 and out.integer("", "rpm", "lsdrive") is None
    with pytest.raises(exceptions.BackendError, match="rpm is not an integer"):
        out.integer("fast", "rpm", "lsdrive")


@pytest.mark.parametrize(
    "text, bps",
    [
        ("16Gb", 16 * 10**9),
        ("10Gb/s", 10 * 10**9),
        ("100Mb/s", 10**8),
        ("1Gbps", 10**9),
        ("8Gb", 8 * 10**9),
        ("N/A", None),
        ("", None),
        (None, None),
        ("fast", None),
    ],
)
def test_speed_in_bits_per_second(text, bps):
    assert out.speed(text) == bps


@pytest.mark.parametrize(
    "text, wwn",
    [
        ("500507680B218FF6", "50:05:07:68:0b:21:8f:f6"),
        ("50:05:07:68:0B:21:8F:F6", "50:05:07:68:0b:21:8f:f6"),
        ("", None),
        ("XYZ", "xyz"),  # not hex: kept as it came, lower-cased
    ],
)
def test_wwn_normalised_to_colon_separated_lower_case(text, wwn):
    assert out.wwn(text) == wwn


def test_version_drops_the_build():
    assert out.version("8.5.0.6 (build 157.12.2206091456000)") == "8.5.0.6"
    assert out.version("9.1.0.0") == "9.1.0.0" and out.version("") is None and out.version(None) is None


def test_need_names_the_missing_column():
    with pytest.raises(exceptions.BackendError, match="malformed output of lsvdisk: no 'capacity' column"):
        out.need({"id": "1"}, "capacity", "lsvdisk")
