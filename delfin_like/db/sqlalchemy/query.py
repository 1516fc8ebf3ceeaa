"""Listing: exact filters, multi-key sort with a unique tie-breaker, limit/offset/marker.

Paging by marker is keyset paging on ``(sort keys..., id)``, so a page never
skips or repeats a row even while rows are added.
"""

import dataclasses
import datetime
from collections.abc import Callable

import sqlalchemy as sa

from delfin_like.common import exception

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")


def _coerce(column: sa.Column, key: str, value):
    """Turn a query-string value into the column's Python type, or raise InvalidInput."""
    if value is None:
        return None
    python_type = None
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        pass
    if python_type is bool:
        if isinstance(value, bool):
            return value
        text = str(value).lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise exception.InvalidInput(f"filter {key} must be true or false")
    if python_type is int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise exception.InvalidInput(f"filter {key} must be an integer")
        if not _INT64_MIN <= number <= _INT64_MAX:
            # no column holds it, and drivers would overflow binding it
            raise exception.InvalidInput(f"filter {key} is out of range")
        return number
    if python_type is datetime.datetime:
        raise exception.InvalidInput(f"cannot filter on {key}")
    value = str(value)
    if "\x00" in value:
        raise exception.InvalidInput(f"filter {key} must not contain NUL characters")
    return value


def parse_sort(sort) -> list[tuple[str, str]]:
    """Accept ``[(key, dir)]`` or ``"key:dir,key2"``; directions default to asc."""
    if not sort:
        return []
    if isinstance(sort, str):
        items = []
        for part in sort.split(","):
            part = part.strip()
            if not part:
                raise exception.InvalidInput(f"invalid sort {sort!r}")
            key, _, direction = part.partition(":")
            items.append((key.strip(), (direction or "asc").strip()))
        sort = items
    out = []
    for key, direction in sort:
        direction = (direction or "asc").lower()
        if direction not in ("asc", "desc"):
            raise exception.InvalidInput(f"sort direction of {key} must be asc or desc")
        out.append((key, direction))
    return out


def _where_filters(stmt, table: sa.Table, filter_keys, filters):
    """``stmt`` restricted to the rows whose columns equal ``filters``; InvalidInput for an unknown key."""
    for key, value in (filters or {}).items():
        if key not in filter_keys:
            raise exception.InvalidInput(f"unknown filter {key!r}; known: {', '.join(sorted(filter_keys))}")
        column = table.c[key]
        value = _coerce(column, key, value)
        stmt = stmt.where(column.is_(None) if value is None else column == value)
    return stmt


class Page(list):
    """The rows of one list page; ``total`` is the count of rows matching the filters, or None
    when it was not asked for (``with_count``), as counting reads every matching index entry."""

    total: int | None = None


def page(conn: sa.Connection, rows, table: sa.Table, filter_keys, filters, with_count: bool) -> Page:
    """``rows`` as a :class:`Page`, counted (``SELECT count(*) ... WHERE <filters>``) only if ``with_count``."""
    result = Page(rows)
    if with_count:
        stmt = _where_filters(sa.select(sa.func.count()).select_from(table), table, filter_keys, filters)
        result.total = conn.execute(stmt).scalar_one()
    return result


def build_list(
    table: sa.Table,
    columns,
    *,
    filter_keys: tuple[str, ...],
    sort_keys: tuple[str, ...],
    default_sort: list[tuple[str, str]],
    filters: dict | None,
    limit: int | None,
    offset: int | None,
    marker_values: dict | None,
    sort,
    unique_key: str = "id",
    sort_ties=None,
    dialect: str | None = None,
) -> sa.Select:
    """A SELECT of ``columns`` from ``table`` honouring the list parameters.

    :param marker_values: the marker row (a mapping of column values), if any.
    :param unique_key: a unique column, appended to the sort so the order is total.
    :param sort_ties: ``{key: (tie-breaker, ...)}``: columns ordered after ``key`` (when it is the last
        key) and before ``unique_key``, in its direction, as its list index orders them.
    :param dialect: the database's dialect name; the marker's predicate takes the form its planner seeks by.
    :raises InvalidInput: for an unknown filter or sort key or a bad value.
    """
    stmt = _where_filters(sa.select(*columns), table, filter_keys, filters)

    keys = parse_sort(sort) or list(default_sort)
    for key, _ in keys:
        if key not in sort_keys:
            raise exception.InvalidInput(f"unknown sort key {key!r}; known: {', '.join(sorted(sort_keys))}")
    if keys and sort_ties:
        last_key, last_dir = keys[-1]
        named = {k for k, _ in keys}
        keys.extend((tie, last_dir) for tie in sort_ties.get(last_key, ()) if tie not in named)
    if unique_key not in [k for k, _ in keys]:
        # unique tie-breaker, in the direction of the last key: an index on (sort keys..., unique key)
        # then serves the whole ORDER BY, forwards or backwards, without a sort step
        keys.append((unique_key, keys[-1][1] if keys else "asc"))

    if marker_values is not None:
        fixed = {k: _coerce(table.c[k], k, v) for k, v in (filters or {}).items()}
        if dialect == "sqlite" and len({d for _, d in keys}) == 1:
            stmt = stmt.where(_after_marker_sqlite(table, keys, marker_values, fixed))
        else:
            stmt = stmt.where(_after_marker(table, keys, marker_values, _index_prefix(table, keys, fixed)))

    stmt = stmt.order_by(*[table.c[k].asc() if d == "asc" else table.c[k].desc() for k, d in keys])
    if limit is not None:
        stmt = stmt.limit(limit)
    if offset:
        stmt = stmt.offset(offset)
    return stmt


def _index_prefix(table: sa.Table, keys, fixed: dict) -> list[tuple[str, object]]:
    """``(column, value)`` of the equality filters that lead an index whose next columns are the sort
    ``keys`` (``storage_id`` of ``(storage_id, created_at, id)``), or [] when no index has that shape."""
    names = [k for k, _ in keys]
    for index in sorted(table.indexes, key=lambda i: i.name):
        columns = [c.name for c in index.columns]
        lead = 0
        while lead < len(columns) and fixed.get(columns[lead]) is not None:
            lead += 1
        if lead and columns[lead:lead + len(names)] == names:
            return [(c, fixed[c]) for c in columns[:lead]]
    return []


def _after_marker(table: sa.Table, keys, marker, prefix=()) -> sa.ColumnElement:
    """Rows strictly after ``marker`` in the order given by ``keys`` (all non-null columns).

    Written as ``k1 >= v1 AND (k1 > v1 OR k1 = v1 AND k2 > v2 OR ...)`` rather than a
    row-value comparison: the leading range is what lets SQLite, PostgreSQL and
    MariaDB seek the index instead of reading it from its start (MariaDB does not
    use an index for ``(k1, k2) > (v1, v2)``); the OR part only trims the ties.
    Where every key runs in one direction the row-value comparison is added as well:
    PostgreSQL takes it as the index condition, where with the OR alone it may read
    every tie of ``k1`` (a sync's rows share one ``created_at``) into a bitmap and sort.
    ``prefix`` (:func:`_index_prefix`) leads the row value with the filtered columns and their
    values: the same rows, as the range of the filter's own index, so PostgreSQL's custom plans stop
    walking the unfiltered ``(k1, k2)`` index and discarding the other storages' rows instead.
    """
    clauses = []
    for i, (key, direction) in enumerate(keys):
        equal_prefix = [table.c[k] == marker[k] for k, _ in keys[:i]]
        column = table.c[key]
        beyond = column > marker[key] if direction == "asc" else column < marker[key]
        clauses.append(sa.and_(*equal_prefix, beyond))
    first_key, first_dir = keys[0]
    first = table.c[first_key]
    seek = first >= marker[first_key] if first_dir == "asc" else first <= marker[first_key]
    directions = {direction for _, direction in keys}
    if len(keys) > 1 and len(directions) == 1:
        columns = sa.tuple_(*[table.c[c] for c, _ in prefix], *[table.c[k] for k, _ in keys])
        # each bound with its column's type
        values = (*[v for _, v in prefix], *[marker[k] for k, _ in keys])
        seek = sa.and_(seek, columns > values if directions == {"asc"} else columns < values)
    return sa.and_(seek, sa.or_(*clauses))


def _after_marker_sqlite(table: sa.Table, keys, marker, fixed: dict) -> sa.ColumnElement:
    """Rows strictly after ``marker`` in ``keys``' one direction, as SQLite seeks them: the row value
    alone, past the leading keys the filters fix. With a plainer range on its first column beside it
    SQLite takes that range and reads every tie (a sync's rows share one ``created_at``)."""
    rest = list(keys)
    while len(rest) > 1 and fixed.get(rest[0][0]) is not None:
        rest.pop(0)
    columns = [table.c[k] for k, _ in rest]
    values = [marker[k] for k, _ in rest]
    ascending = rest[0][1] == "asc"
    if len(rest) == 1:
        return columns[0] > values[0] if ascending else columns[0] < values[0]
    row = sa.tuple_(*columns)
    return row > tuple(values) if ascending else row < tuple(values)


def marker_row(conn: sa.Connection, table: sa.Table, marker: str | None, key: str = "id"):
    """The column values of the marker row (``table.<key> == marker``), or None without a marker.

    :raises InvalidInput: the marker names no row.
    """
    if marker is None:
        return None
    row = conn.execute(sa.select(table).where(table.c[key] == marker)).first()
    if row is None:
        raise exception.InvalidInput(f"marker {marker} does not exist")
    return row._mapping


@dataclasses.dataclass(frozen=True)
class Listing:
    """One list route's query, declared once: what the route selects, filters and sorts by.

    ``indexed_sorts`` are the documented sort keys: an index on ``(key, ties..., unique_key)``
    serves each of them, ascending or descending, as it serves ``default_sort``, and so does one
    led by the column of any exact filter that would otherwise lead the planner to sort
    (``storage_id``, ``status``; ``name`` is its own index's lead). tests/functional/db/test_list_plans.py
    holds every route, sort, filter and marker to that by EXPLAIN.
    """

    table: sa.Table
    columns: tuple
    filter_keys: tuple[str, ...]
    sort_keys: tuple[str, ...]
    default_sort: tuple[tuple[str, str], ...]
    indexed_sorts: tuple[str, ...]
    unique_key: str = "id"
    # tie-breakers of a sort key before unique_key, as its index orders them (models.SORT_TIES)
    sort_ties: dict | None = None
    # the FROM clause when the route joins (storages join their last sync task)
    from_clause: sa.FromClause | None = None

    def select(self, filters=None, limit=None, offset=None, marker_values=None, sort=None, columns=None,
               dialect=None) -> sa.Select:
        """The route's SELECT for these list parameters (see :func:`build_list`), of ``columns`` if given."""
        stmt = build_list(
            self.table, self.columns if columns is None else columns,
            filter_keys=self.filter_keys, sort_keys=self.sort_keys,
            default_sort=list(self.default_sort), filters=filters, limit=limit, offset=offset,
            marker_values=marker_values, sort=sort, unique_key=self.unique_key, sort_ties=self.sort_ties,
            dialect=dialect,
        )
        return stmt if self.from_clause is None else stmt.select_from(self.from_clause)

    def run(self, conn: sa.Connection, row_dict: Callable, filters=None, limit=None, offset=None,
            marker=None, sort=None, with_count=False, columns=None) -> Page:
        """One page: ``row_dict(row)`` for each selected row (of ``columns`` if given), counted if ``with_count``.

        :raises InvalidInput: an unknown filter or sort key, a bad value or a marker naming no row.
        """
        marker_values = marker_row(conn, self.table, marker, key=self.unique_key)
        stmt = self.select(filters, limit, offset, marker_values, sort, columns, conn.dialect.name)
        rows = [row_dict(r) for r in conn.execute(stmt)]
        return page(conn, rows, self.table, self.filter_keys, filters, with_count)
