"""Controllers, ports and disks tables; storages.capabilities.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:28:46.021479
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# DATETIME with microseconds on MySQL/MariaDB, whose default drops them
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "controllers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("storage_id", sa.String(length=36), nullable=False),
        sa.Column("native_controller_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("location", sa.String(length=255), nullable=True),
        sa.Column("soft_version", sa.String(length=255), nullable=True),
        sa.Column("cpu_info", sa.String(length=255), nullable=True),
        sa.Column("cpu_count", sa.Integer(), nullable=True),
        sa.Column("memory_size", sa.BigInteger(), nullable=True),
        sa.Column("mgmt_ip", sa.String(length=64), nullable=True),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["storage_id"], ["storages.id"], name=op.f("fk_controllers_storage_id_storages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_controllers")),
        sa.UniqueConstraint(
            "storage_id", "native_controller_id", name=op.f("uq_controllers_storage_id_native_controller_id")
        ),
    )
    op.create_table(
        "disks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("storage_id", sa.String(length=36), nullable=False),
        sa.Column("native_disk_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("physical_type", sa.String(length=16), nullable=False),
        sa.Column("logical_type", sa.String(length=16), nullable=False),
        sa.Column("capacity", sa.BigInteger(), nullable=False),
        sa.Column("location", sa.String(length=255), nullable=True),
        sa.Column("firmware", sa.String(length=255), nullable=True),
        sa.Column("manufacturer", sa.String(length=255), nullable=True),
        sa.Column("model", sa.String(length=255), nullable=True),
        sa.Column("serial_number", sa.String(length=255), nullable=True),
        sa.Column("speed", sa.Integer(), nullable=True),
        sa.Column("health_score", sa.Integer(), nullable=True),
        sa.Column("native_disk_group_id", sa.String(length=255), nullable=True),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["storage_id"], ["storages.id"], name=op.f("fk_disks_storage_id_storages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disks")),
        sa.UniqueConstraint("storage_id", "native_disk_id", name=op.f("uq_disks_storage_id_native_disk_id")),
    )
    op.create_table(
        "ports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("storage_id", sa.String(length=36), nullable=False),
        sa.Column("native_port_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("logical_type", sa.String(length=16), nullable=True),
        sa.Column("connection_status", sa.String(length=32), nullable=False),
        sa.Column("health_status", sa.String(length=32), nullable=False),
        sa.Column("location", sa.String(length=255), nullable=True),
        sa.Column("speed", sa.BigInteger(), nullable=True),
        sa.Column("max_speed", sa.BigInteger(), nullable=True),
        sa.Column("native_parent_id", sa.String(length=255), nullable=True),
        sa.Column("wwn", sa.String(length=255), nullable=True),
        sa.Column("mac_address", sa.String(length=64), nullable=True),
        sa.Column("ipv4", sa.String(length=64), nullable=True),
        sa.Column("ipv4_mask", sa.String(length=64), nullable=True),
        sa.Column("ipv6", sa.String(length=64), nullable=True),
        sa.Column("ipv6_mask", sa.String(length=64), nullable=True),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["storage_id"], ["storages.id"], name=op.f("fk_ports_storage_id_storages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ports")),
        sa.UniqueConstraint("storage_id", "native_port_id", name=op.f("uq_ports_storage_id_native_port_id")),
    )
    with op.batch_alter_table("storages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("capabilities", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("storages", schema=None) as batch_op:
        batch_op.drop_column("capabilities")

    op.drop_table("ports")
    op.drop_table("disks")
    op.drop_table("controllers")
