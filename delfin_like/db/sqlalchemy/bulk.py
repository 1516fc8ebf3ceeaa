"""Bulk insert of many rows inside the caller's transaction, at driver speed.

SQLAlchemy's executemany processes every bind value of every row in Python;
for the 100k-row initial sync that dominates the run. Here rows are tuples
in a fixed column order and go straight to the DB-API: PostgreSQL (psycopg 3)
through ``COPY ... FROM STDIN``, SQLite through multi-row ``INSERT ... VALUES
(...), (...)`` statements, the others through ``cursor.executemany`` (pymysql
folds it into multi-row INSERTs). Same transaction as the rest of the change
set, so it commits or rolls back with it.

Why multi-row on SQLite: the sqlite3 module releases the GIL around every
statement step, so ``executemany`` of 100k single-row INSERTs hands the GIL
to any other busy thread of the process 100k times, and each time waits for
it to come back. In the all-in-one, API threads answering reads meanwhile
made the write phase of a 100k-volume sync about twice as slow; a few
hundred rows per statement cut the hand-offs by as much.
"""

import datetime
import itertools
import sqlite3
import uuid
from collections.abc import Iterable

import sqlalchemy as sa

# SQLAlchemy's storage format for DateTime on SQLite; values must read back identically.
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"
# rows per multi-row INSERT on SQLite: enough to make the GIL hand-offs rare, small enough
# to stay within the bound-parameter limit (999 before SQLite 3.32, 32766 since)
SQLITE_ROWS_PER_STATEMENT = 500
_SQLITE_MAX_PARAMS = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999


def timestamp(conn: sa.Connection, value: datetime.datetime):
    """``value`` as :func:`insert_rows` must be given it on ``conn``'s database.

    Convert once per change set, not once per row: SQLite has no datetime type and
    stores SQLAlchemy's text format.
    """
    return value.strftime(_SQLITE_DATETIME) if conn.dialect.name == "sqlite" else value


def insert_many(conn: sa.Connection, table: sa.Table, columns: list[str], batches: Iterable[list[tuple]]) -> int:
    """Insert every row of ``batches`` (lists of tuples as for :func:`insert_rows`); returns how many.

    On PostgreSQL (psycopg 3) all of them go through one ``COPY``: the server inserts (and
    maintains the indexes) while the next batches are still being built here, where a COPY
    per batch would wait for the server at the end of each. Elsewhere, one
    :func:`insert_rows` per batch.
    """
    count = 0
    dialect = conn.dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        quoted = ", ".join(dialect.identifier_preparer.quote(c) for c in columns)
        sql = f"COPY {dialect.identifier_preparer.quote(table.name)} ({quoted}) FROM STDIN"
        with conn.connection.dbapi_connection.cursor() as cursor, cursor.copy(sql) as copy:
            write = copy.write_row
            for rows in batches:
                for row in rows:
                    write(row)
                count += len(rows)
        return count
    for rows in batches:
        insert_rows(conn, table, columns, rows)
        count += len(rows)
    return count


def insert_rows(conn: sa.Connection, table: sa.Table, columns: list[str], rows: list[tuple]) -> None:
    """Insert ``rows`` (tuples ordered as ``columns``, datetimes passed through
    :func:`timestamp`) into ``table`` on ``conn``'s transaction."""
    if not rows:
        return
    dialect = conn.dialect
    driver = conn.connection.dbapi_connection
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        insert_many(conn, table, columns, [rows])  # one COPY
        return
    if dialect.name == "sqlite":
        _insert_sqlite(driver, dialect.identifier_preparer.quote, table.name, columns, rows)
        return
    if dialect.paramstyle not in ("format", "pyformat"):
        # any other driver: let SQLAlchemy do it
        conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    quoted = ", ".join(dialect.identifier_preparer.quote(c) for c in columns)
    sql = (
        f"INSERT INTO {dialect.identifier_preparer.quote(table.name)} ({quoted}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    cursor = driver.cursor()
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()


def _insert_sqlite(driver, quote, table_name: str, columns: list[str], rows: list[tuple]) -> None:
    """``rows`` as multi-row INSERTs of up to :data:`SQLITE_ROWS_PER_STATEMENT` rows each."""
    per = max(1, min(SQLITE_ROWS_PER_STATEMENT, _SQLITE_MAX_PARAMS // len(columns)))
    head = f"INSERT INTO {quote(table_name)} ({', '.join(quote(c) for c in columns)}) VALUES "
    one = f"({', '.join('?' * len(columns))})"
    full = head + ", ".join([one] * per)  # the same text every time: the module's statement cache reuses it
    cursor = driver.cursor()
    try:
        for start in range(0, len(rows), per):
            chunk = rows[start:start + per]
            sql = full if len(chunk) == per else head + ", ".join([one] * len(chunk))
            cursor.execute(sql, list(itertools.chain.from_iterable(chunk)))
    finally:
        cursor.close()


def select_pages(conn: sa.Connection, table: sa.Table, columns: list[str], where: str, value, page: int):
    """Yield lists of up to ``page`` plain DB-API tuples of ``columns`` of the rows where ``where = value``.

    The rows stream from the server (a named server-side cursor on psycopg, an unbuffered one on
    pymysql) and skip SQLAlchemy's Row objects, which for a million fingerprints cost a second.
    """
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    driver = conn.connection.dbapi_connection
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        cursor, marker = driver.cursor(name=f"delfin_like_select_{uuid.uuid4().hex[:12]}"), "%s"
    elif dialect.name == "sqlite":
        cursor, marker = driver.cursor(), "?"
    elif dialect.name in ("mysql", "mariadb") and dialect.driver == "pymysql":
        import pymysql.cursors

        cursor, marker = driver.cursor(pymysql.cursors.SSCursor), "%s"
    else:
        # any other driver: SQLAlchemy's own streaming
        stmt = sa.select(*(table.c[c] for c in columns)).where(table.c[where] == value)
        for rows in conn.execution_options(yield_per=page).execute(stmt).partitions():
            yield [tuple(r) for r in rows]
        return
    sql = f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table.name)} WHERE {quote(where)} = {marker}"
    try:
        cursor.execute(sql, (value,))
        while rows := cursor.fetchmany(page):
            yield rows
    finally:
        cursor.close()
