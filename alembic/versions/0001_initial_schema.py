"""Initial schema: storages, access info, endpoints, pools, volumes, tasks.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 09:40:33.971060
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# DATETIME with microseconds on MySQL/MariaDB, whose default drops them
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "storages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("vendor", sa.String(length=255), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("serial_number", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("firmware_version", sa.String(length=255), nullable=True),
        sa.Column("location", sa.String(length=255), nullable=True),
        sa.Column("description", sa.String(length=1024), nullable=True),
        sa.Column("raw_capacity", sa.BigInteger(), nullable=False),
        sa.Column("total_capacity", sa.BigInteger(), nullable=False),
        sa.Column("used_capacity", sa.BigInteger(), nullable=False),
        sa.Column("free_capacity", sa.BigInteger(), nullable=False),
        sa.Column("subscribed_capacity", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("deleting", sa.Boolean(), nullable=False),
        sa.Column("synced_at", TIMESTAMP, nullable=True),
        sa.Column("last_sync_task_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storages")),
        sa.UniqueConstraint("serial_number", name=op.f("uq_storages_serial_number")),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("storage_id", sa.String(length=36), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=255), nullable=True),
        sa.Column("lease_expires_at", TIMESTAMP, nullable=True),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_status_priority", ["status", "priority"], unique=False)
        batch_op.create_index("ix_tasks_storage_id_type", ["storage_id", "type"], unique=False)

    op.create_table(
        "access_infos",
        sa.Column("storage_id", sa.String(length=36), nullable=False),
        sa.Column("vendor", sa.String(length=255), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("rest", sa.Text(), nullable=True),
        sa.Column("ssh", sa.Text(), nullable=True),
        sa.Column("snmp", sa.Text(), nullable=True),
        sa.Column("extra_attributes", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["storage_id"], ["storages.id"], name=op.f("fk_access_infos_storage_id_storages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("storage_id", name=op.f("pk_access_infos")),
    )
    op.create_table(
        "storage_endpoints",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("storage_id", sa.String(length=36), nullable=False),
        sa.Column("protocol", sa.String(length=16), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["storage_id"], ["storages.id"], name=op.f("fk_storage_endpoints_storage_id_storages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_endpoints")),
        sa.UniqueConstraint("host", "port", name=op.f("uq_storage_endpoints_host_port")),
    )
    with op.batch_alter_table("storage_endpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_storage_endpoints_storage_id"), ["storage_id"], unique=False)

    op.create_table(
        "storage_pools",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("storage_id", sa.String(length=36), nullable=False),
        sa.Column("native_storage_pool_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("storage_type", sa.String(length=32), nullable=False),
        sa.Column("total_capacity", sa.BigInteger(), nullable=False),
        sa.Column("used_capacity", sa.BigInteger(), nullable=False),
        sa.Column("free_capacity", sa.BigInteger(), nullable=False),
        sa.Column("subscribed_capacity", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(length=1024), nullable=True),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["storage_id"], ["storages.id"], name=op.f("fk_storage_pools_storage_id_storages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_pools")),
        sa.UniqueConstraint(
            "storage_id", "native_storage_pool_id", name=op.f("uq_storage_pools_storage_id_native_storage_pool_id")
        ),
    )

    op.create_table(
        "volumes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("storage_id", sa.String(length=36), nullable=False),
        sa.Column("native_volume_id", sa.String(length=255), nullable=False),
        sa.Column("native_storage_pool_id", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("wwn", sa.String(length=255), nullable=True),
        sa.Column("total_capacity", sa.BigInteger(), nullable=False),
        sa.Column("used_capacity", sa.BigInteger(), nullable=False),
        sa.Column("free_capacity", sa.BigInteger(), nullable=False),
        sa.Column("compressed", sa.Boolean(), nullable=True),
        sa.Column("deduplicated", sa.Boolean(), nullable=True),
        sa.Column("description", sa.String(length=1024), nullable=True),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["storage_id"], ["storages.id"], name=op.f("fk_volumes_storage_id_storages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volumes")),
        sa.UniqueConstraint("storage_id", "native_volume_id", name=op.f("uq_volumes_storage_id_native_volume_id")),
    )


def downgrade() -> None:
    # dropping a table drops its indexes; MySQL refuses to drop an FK index first
    op.drop_table("volumes")
    op.drop_table("storage_pools")
    op.drop_table("storage_endpoints")
    op.drop_table("access_infos")
    op.drop_table("tasks")
    op.drop_table("storages")
