import decimal

import pytest

from delfin_like_drivers.csd.agent import quantity


@pytest.mark.parametrize(
    ("text", "expected"),
    [("500m", "0.5"), ("2", "2"), ("0.1", "0.1"), ("1e3", "1000"), ("1.5k", "1500"), ("100n", "1.00E-7")],
)
def test_cpu_exact(text, expected):
    assert quantity.cpu_cores(text, "resources.requests.cpu") == decimal.Decimal(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("4Gi", 4 * 2**30), ("512Mi", 512 * 2**20), ("1.5Gi", 3 * 2**29), ("1G", 10**9), ("128974848", 128974848)],
)
def test_memory_bytes(text, expected):
    assert quantity.memory_bytes(text, "resources.limits.memory") == expected


@pytest.mark.parametrize("text", ["", "abc", "4GiB", "-1", "1.2.3", "Gi", "5 m"])
def test_malformed_names_field(text):
    with pytest.raises(quantity.QuantityError, match=r"resources\.requests\.cpu"):
        quantity.cpu_cores(text, "resources.requests.cpu")
