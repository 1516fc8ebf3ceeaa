"""Every list route pages through an index, by the databases' own EXPLAIN, not by time.

For each route (``db.sqlalchemy.api.listings()``: storages, access infos, the five inventory
types, tasks, jobs, task managers, alerts), each documented sort (the default and every indexed sort key,
ascending and descending), without a filter and with each exact filter the route takes, without and
with a marker, the statement the route runs must read an index that delivers the order (no sort step):

- SQLite: ``EXPLAIN QUERY PLAN`` names an index and no ``USE TEMP B-TREE``; with a marker, the index
  search starts right past it (a range that reaches the unique key, such as ``(created_at,id)>(?,?)``),
  not at the first tie of its leading key (a sync's rows share one ``created_at``).
- PostgreSQL: ``EXPLAIN`` with ``enable_sort``, ``enable_seqscan`` and ``enable_bitmapscan`` off has an
  Index (Only) Scan on one of the sort key's list indexes and no Sort node; with sorting priced out,
  a Sort left in the plan means no index can deliver the order.
MariaDB is not asserted here: over the few thousand rows a test can load, its optimizer prices a
full scan and filesort below any index walk of these wide rows (``EXPLAIN`` said so for every route,
even unfiltered ``ORDER BY created_at, id LIMIT 100``), and it has no switch that prices sorting out;
benchmarks/list_bench.py --databases mysql measures it at size.

The one exception is a filter on a unique column (a row's ``id``, a storage's ``serial_number``): it matches at most one
row, and sorting one row is not a sort the index needs to spare.
"""

import datetime
import json
import re

import sqlalchemy as sa

from delfin_like.db.sqlalchemy import (
    api,
    jobs,  # noqa: F401 - its table joins models.Base.metadata
    metrics,  # noqa: F401 - its tables join models.Base.metadata
    models,
)
from delfin_like.db.sqlalchemy import engine as db_engine

LISTINGS = api.listings()
_WHEN = datetime.datetime(2026, 1, 1, 12, 0, 0)


def _value(column: sa.Column):
    """A value of ``column``'s Python type, as a filter or a marker holds it."""
    python_type = column.type.python_type
    if python_type is datetime.datetime:
        return _WHEN
    if python_type is bool:
        return True
    if python_type is int:
        return 7
    return "x1"


def _unique_columns(table: sa.Table) -> set[str]:
    single = [c.columns for c in table.constraints if isinstance(c, (sa.UniqueConstraint, sa.PrimaryKeyConstraint))]
    single += [i.columns for i in table.indexes if i.unique]
    return {cols[0].name for cols in (list(c) for c in single) if len(cols) == 1}


def _sorts(listing):
    """``(sort parameter, its leading key)``: the default order and each indexed key both ways."""
    yield None, listing.default_sort[0][0]
    for key in listing.indexed_sorts:
        for direction in ("asc", "desc"):
            yield f"{key}:{direction}", key


def _order(listing, lead: str) -> list[str]:
    """The columns a sort by ``lead`` orders by: ``lead``, its tie-breakers, the unique key."""
    if listing.sort_ties:
        return list(models.list_index_columns(lead, listing.unique_key))
    return list(dict.fromkeys([lead, listing.unique_key]))


def _cases(listing):
    """``(description, filters, sort, marker values, leading sort key)`` for every documented combination."""
    marker = {c.name: _value(c) for c in listing.table.c}
    filter_sets = [None] + [{key: _value(listing.table.c[key])} for key in listing.filter_keys]
    for sort, lead in _sorts(listing):
        for filters in filter_sets:
            for marker_values in (None, marker):
                description = f"sort={sort} filters={filters and list(filters)} marker={marker_values is not None}"
                yield description, filters, sort, marker_values, lead


def _statement(listing, filters, sort, marker_values, dialect, limit=1000):
    """The statement the route runs on ``dialect`` (the marker's predicate takes that database's form)."""
    return listing.select(filters=filters, limit=limit, offset=None, marker_values=marker_values, sort=sort,
                          dialect=dialect)


def _sql(conn, stmt) -> str:
    return str(stmt.compile(conn, compile_kwargs={"literal_binds": True}))


def _serving_indexes(listing, filters, lead: str) -> set[str]:
    """The indexes that deliver ``lead``'s order under ``filters``: their columns, past those the
    filters fix by equality, begin with the order's first unfixed column (``(storage_id, created_at,
    id)`` for ``storage_id=`` in created_at order, ``(name, created_at, id)`` for ``name=`` by name)."""
    fixed = set(filters or ())
    order = [c for c in _order(listing, lead) if c not in fixed]
    out = set()
    for index in (*listing.table.indexes, listing.table.primary_key):  # the key's own order is the PK's
        columns = [c.name for c in index.columns]
        while columns and columns[0] in fixed:
            columns.pop(0)
        if columns and columns[0] == order[0]:
            out.add(index.name)
    return out


def _sqlite_plan(conn, stmt) -> str:
    return " | ".join(row[-1] for row in conn.execute(sa.text(f"EXPLAIN QUERY PLAN {_sql(conn, stmt)}")))


def _postgresql_plan(conn, stmt) -> list[dict]:
    """Every node of the JSON plan, flattened."""
    (document,) = conn.execute(sa.text(f"EXPLAIN (FORMAT JSON) {_sql(conn, stmt)}")).scalar_one()
    nodes, todo = [], [document["Plan"]]
    while todo:
        node = todo.pop()
        nodes.append(node)
        todo.extend(node.get("Plans", []))
    return nodes


def _each_case(check):
    """Run ``check(name, listing, description, filters, sort, marker, lead)`` on every case; the failures."""
    failures = []
    for name, listing in LISTINGS.items():
        uniques = _unique_columns(listing.table)
        for description, filters, sort, marker, lead in _cases(listing):
            unique_filter = bool(filters) and set(filters) <= uniques
            problem = check(listing, filters, sort, marker, lead, unique_filter)
            if problem:
                failures.append(f"{name} {description}: {problem}")
    return failures


def test_every_listing_declares_what_its_indexes_serve():
    """Each indexed sort has its list indexes in the models (and so in the migrations: no drift)."""
    for name, listing in LISTINGS.items():
        indexes = {i.name: tuple(c.name for c in i.columns) for i in listing.table.indexes}
        for key in listing.indexed_sorts:
            if key == listing.unique_key:  # its order is the primary key's (snmp-configs by storage id)
                assert [c.name for c in listing.table.primary_key.columns] == [key], name
                continue
            columns = models.list_index_columns(key, listing.unique_key)
            assert indexes.get(f"ix_{listing.table.name}_{'_'.join(columns)}") == columns, (name, key)
            if "storage_id" in listing.filter_keys and listing.unique_key != "storage_id":
                led = f"ix_{listing.table.name}_storage_id_{'_'.join(columns)}"
                assert indexes.get(led) == ("storage_id", *columns), (name, key)
        assert listing.default_sort[0][0] in listing.indexed_sorts, name


def test_sqlite_plans_use_an_index_and_never_a_temp_btree():
    engine = sa.create_engine("sqlite://")
    models.Base.metadata.create_all(engine)
    with engine.connect() as conn:

        def check(listing, filters, sort, marker, lead, unique_filter):
            plan = _sqlite_plan(conn, _statement(listing, filters, sort, marker, conn.dialect.name))
            if "USING INDEX" not in plan and "USING COVERING INDEX" not in plan and "USING PRIMARY KEY" not in plan:
                return f"no index: {plan}"
            if "TEMP B-TREE" in plan and not unique_filter:
                return f"sorts: {plan}"
            if marker is not None and not unique_filter and not re.search(rf"\b{listing.unique_key}\)?[<>]", plan):
                return f"seeks no further than the marker's first key, then reads its ties: {plan}"
            return None

        failures = _each_case(check)
    engine.dispose()
    assert failures == [], "\n".join(failures)


def test_postgresql_plans_scan_the_sort_index_and_never_sort(postgresql_url):
    engine = db_engine.create_engine(postgresql_url)
    models.Base.metadata.create_all(engine)
    try:
        with engine.connect() as conn:
            for setting in ("enable_sort", "enable_seqscan", "enable_bitmapscan"):
                conn.execute(sa.text(f"SET {setting} = off"))

            def check(listing, filters, sort, marker, lead, unique_filter):
                nodes = _postgresql_plan(conn, _statement(listing, filters, sort, marker, conn.dialect.name))
                types = [n["Node Type"] for n in nodes]
                if unique_filter:
                    return None if any("Index" in t for t in types) else f"no index: {json.dumps(nodes)}"
                if "Sort" in types or "Incremental Sort" in types:
                    return f"sorts: {types}"
                used = {n.get("Index Name") for n in nodes if n.get("Relation Name") == listing.table.name}
                serving = _serving_indexes(listing, filters, lead)
                if not used & serving:
                    return f"scans {used or types}, not one of {sorted(serving)}"
                return None

            failures = _each_case(check)
    finally:
        engine.dispose()
    assert failures == [], "\n".join(failures)



def test_the_checks_see_a_sort_no_index_serves():
    """A sort by a key without a list index (a storage's vendor) is a temp B-tree on SQLite and a
    Sort node on PostgreSQL even with sorting priced out: the checks above can fail."""
    listing = LISTINGS["storages"]
    assert "vendor" not in listing.indexed_sorts
    stmt = _statement(listing, None, "vendor:asc", None, "sqlite")
    engine = sa.create_engine("sqlite://")
    models.Base.metadata.create_all(engine)
    with engine.connect() as conn:
        assert "USE TEMP B-TREE FOR ORDER BY" in _sqlite_plan(conn, stmt)
    engine.dispose()


def test_postgresql_check_sees_a_sort_no_index_serves(postgresql_url):
    engine = db_engine.create_engine(postgresql_url)
    models.Base.metadata.create_all(engine)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SET enable_sort = off"))
            nodes = _postgresql_plan(conn, _statement(LISTINGS["storages"], None, "vendor:asc", None, "postgresql"))
            assert "Sort" in [n["Node Type"] for n in nodes]
    finally:
        engine.dispose()
