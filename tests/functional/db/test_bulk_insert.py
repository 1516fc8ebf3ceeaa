"""bulk.insert_rows writes exactly the rows it is given, on every database, whatever their number."""

import datetime

import pytest
import sqlalchemy as sa

from delfin_like.db.sqlalchemy import bulk
from delfin_like.db.sqlalchemy import engine as db_engine
from delfin_like.db.sqlalchemy.models import Timestamp


@pytest.mark.parametrize("count", [1, bulk.SQLITE_ROWS_PER_STATEMENT, 2 * bulk.SQLITE_ROWS_PER_STATEMENT + 234])
def test_insert_rows_writes_every_row_as_given(any_db, count):
    metadata = sa.MetaData()
    table = sa.Table(
        "bulk_probe",
        metadata,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.Column("s", sa.String(64), nullable=True),
        sa.Column("t", Timestamp, nullable=False),
    )
    engine = db_engine.get_engine()
    metadata.create_all(engine)
    base = datetime.datetime(2026, 1, 2, 3, 4, 5, 678000)
    expected = [
        (f"row-{i:06d}", i * 1_000_003, None if i % 7 else f"name 'quoted' {i}", base + datetime.timedelta(seconds=i))
        for i in range(count)
    ]
    try:
        with db_engine.write() as conn:
            stamp = lambda v: bulk.timestamp(conn, v)  # noqa: E731
            bulk.insert_rows(conn, table, ["id", "n", "s", "t"], [(i, n, s, stamp(t)) for i, n, s, t in expected])
        with db_engine.read() as conn:
            got = [tuple(r) for r in conn.execute(sa.select(*table.c).order_by(table.c.id))]
        assert got == expected
    finally:
        metadata.drop_all(engine)
