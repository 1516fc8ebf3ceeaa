"""Performance collection: collection state per series, gaps, the export outbox, latest samples.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:02:11.402917
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# DATETIME with microseconds on MySQL/MariaDB, whose default drops them
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
# counter readings and batches exceed MySQL's 64 KiB TEXT
LONGTEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _storage_fk(table: str):
    return sa.ForeignKeyConstraint(
        ["storage_id"], ["storages.id"], name=op.f(f"fk_{table}_storage_id_storages"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "perf_collections",
        sa.Column("storage_id", sa.String(length=36), nullable=False),
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("is_historic", sa.Boolean(), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=True),
        sa.Column("last_end_us", sa.BigInteger(), nullable=True),
        sa.Column("counter_state", LONGTEXT, nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("gaps", sa.Integer(), nullable=False),
        sa.Column("gap_us", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=True),
        _storage_fk("perf_collections"),
        sa.PrimaryKeyConstraint("storage_id", "resource_type", name=op.f("pk_perf_collections")),
    )
    op.create_table(
        "perf_gaps",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("storage_id", sa.String(length=36), nullable=False),
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("exporter", sa.String(length=64), nullable=True),
        sa.Column("start_us", sa.BigInteger(), nullable=False),
        sa.Column("end_us", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=1024), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        _storage_fk("perf_gaps"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_perf_gaps")),
    )
    op.create_index("ix_perf_gaps_storage_id_resource_type", "perf_gaps", ["storage_id", "resource_type"])
    op.create_table(
        "perf_batches",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("storage_id", sa.String(length=36), nullable=False),
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("window_start_us", sa.BigInteger(), nullable=False),
        sa.Column("window_end_us", sa.BigInteger(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("sample_count", sa.Integer(), nullable=False),
        sa.Column("payload", LONGTEXT, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        _storage_fk("perf_batches"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_perf_batches")),
    )
    op.create_index(
        "ix_perf_batches_storage_id_resource_type", "perf_batches", ["storage_id", "resource_type", "window_end_us"]
    )
    op.create_table(
        "perf_batch_exports",
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("exporter", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["perf_batches.id"],
            name=op.f("fk_perf_batch_exports_batch_id_perf_batches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("batch_id", "exporter", name=op.f("pk_perf_batch_exports")),
    )
    op.create_table(
        "metric_latest",
        sa.Column("storage_id", sa.String(length=36), nullable=False),
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("resource_id", sa.String(length=255), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("resource_name", sa.String(length=255), nullable=True),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("timestamp_us", sa.BigInteger(), nullable=False),
        sa.Column("window_end_us", sa.BigInteger(), nullable=False),
        _storage_fk("metric_latest"),
        sa.PrimaryKeyConstraint("storage_id", "resource_type", "resource_id", "metric", name=op.f("pk_metric_latest")),
    )


def downgrade() -> None:
    op.drop_table("metric_latest")
    op.drop_table("perf_batch_exports")
    op.drop_table("perf_batches")
    op.drop_table("perf_gaps")
    op.drop_table("perf_collections")
