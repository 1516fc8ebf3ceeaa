"""Every list query pages through an index, by EXPLAIN QUERY PLAN (SQLite): for each documented
sort, with and without storage_id, with a marker, no full table scan and no temp B-tree sort."""

import pytest
import sqlalchemy as sa

from delfin_like.db.sqlalchemy import inventory, query

_MARKER = {"id": "m", "storage_id": "s1", "created_at": "2026-01-01 00:00:00", "name": "n"}


def _plan(conn, table, filters, sort, marker):
    stmt = query.build_list(
        table, inventory.visible_columns(table), filter_keys=inventory.filter_keys(table),
        sort_keys=inventory.sort_keys(table), default_sort=[("created_at", "asc")], filters=filters,
        limit=1000, offset=None, marker_values=marker, sort=sort,
    )
    sql = stmt.compile(conn, compile_kwargs={"literal_binds": True})
    return " | ".join(row[-1] for row in conn.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}")))


@pytest.mark.parametrize("resource_type", list(inventory.RESOURCE_TABLES))
@pytest.mark.parametrize("sort", [None, "created_at:desc", "name:asc", "name:desc"])
@pytest.mark.parametrize("filters", [None, {"storage_id": "s1"}])
@pytest.mark.parametrize("marker", [None, _MARKER])
def test_inventory_lists_use_an_index(tmp_path, resource_type, sort, filters, marker):
    from delfin_like.db.sqlalchemy import models

    table = inventory.RESOURCE_TABLES[resource_type]
    engine = sa.create_engine("sqlite://")
    models.Base.metadata.create_all(engine, tables=[models.Storage.__table__, table])
    with engine.connect() as conn:
        plan = _plan(conn, table, filters, sort, marker)
    assert "TEMP B-TREE" not in plan, plan
    assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
