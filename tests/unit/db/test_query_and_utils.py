import uuid

import pytest

from delfin_like.common import exception
from delfin_like.db.sqlalchemy import query, utils


def test_parse_sort_accepts_string_and_pairs():
    assert query.parse_sort("name:desc, created_at") == [("name", "desc"), ("created_at", "asc")]
    assert query.parse_sort([("name", "DESC")]) == [("name", "desc")]
    assert query.parse_sort(None) == []


@pytest.mark.parametrize("bad", ["name:up", "name:asc,,id", ","])
def test_parse_sort_rejects_garbage(bad):
    with pytest.raises(exception.InvalidInput):
        query.parse_sort(bad)


def test_new_ids_are_ascending_rfc_version_7_uuids():
    ids = utils.new_ids(5000)
    assert ids == sorted(ids) and len(set(ids)) == 5000
    for value in ids[:50]:
        parsed = uuid.UUID(value)
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122 and str(parsed) == value


def test_finish_values_clear_the_lease():
    values = utils.finish_values("COMPLETED", {"a": 1}, None, utils.utcnow())
    assert values["lease_expires_at"] is None and values["result"] == '{"a": 1}'


def test_integer_filters_outside_64_bits_are_invalid_input():
    import sqlalchemy as sa

    column = sa.Column("total_capacity", sa.BigInteger)
    assert query._coerce(column, "total_capacity", str(2**63 - 1)) == 2**63 - 1
    with pytest.raises(exception.InvalidInput):
        query._coerce(column, "total_capacity", str(2**63))
