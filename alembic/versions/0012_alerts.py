"""Alerts and alert sources (issue 14).

``alerts``: one row per (storage, source, sequence number), a repeat bumps its count; the list
indexes serve ``GET /v1/alerts`` by created_at and last_seen, with and without ``storage_id=``;
``ix_alerts_cleared_at`` serves retention. ``alert_sources``: the snmp-config of a storage,
its secrets as Fernet tokens.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 00:10:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
_LIST_INDEXES = (
    ("created_at", "id"), ("storage_id", "created_at", "id"),
    ("last_seen", "id"), ("storage_id", "last_seen", "id"),
)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("storage_id", sa.String(36), nullable=False),
        sa.Column("sequence_number", sa.String(255), nullable=False),
        sa.Column("alert_id", sa.String(255), nullable=False),
        sa.Column("alert_name", sa.String(255), nullable=False),
        sa.Column("severity", sa.String(32), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("resource_type", sa.String(32), nullable=False),
        sa.Column("native_resource_id", sa.String(255), nullable=True),
        sa.Column("resource_row_id", sa.String(36), nullable=True),
        sa.Column("location", sa.String(255), nullable=True),
        sa.Column("recovery_advice", sa.Text(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("cleared_at", _TS, nullable=True),
        sa.Column("cleared_by", sa.String(255), nullable=True),
        sa.Column("first_seen", _TS, nullable=False),
        sa.Column("last_seen", _TS, nullable=False),
        sa.Column("occur_time", _TS, nullable=True),
        sa.Column("repeat_count", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["storage_id"], ["storages.id"], name="fk_alerts_storage_id_storages",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint("storage_id", "source", "sequence_number",
                            name="uq_alerts_storage_id_source_sequence_number"),
    )
    op.create_index("ix_alerts_cleared_at", "alerts", ["cleared_at"])
    for columns in _LIST_INDEXES:
        op.create_index(f"ix_alerts_{'_'.join(columns)}", "alerts", list(columns))
    op.create_table(
        "alert_sources",
        sa.Column("storage_id", sa.String(36), nullable=False),
        sa.Column("version", sa.String(16), nullable=False),
        sa.Column("community_string", sa.Text(), nullable=True),
        sa.Column("username", sa.String(255), nullable=True),
        sa.Column("security_level", sa.String(16), nullable=True),
        sa.Column("auth_protocol", sa.String(16), nullable=True),
        sa.Column("auth_key", sa.Text(), nullable=True),
        sa.Column("privacy_protocol", sa.String(16), nullable=True),
        sa.Column("privacy_key", sa.Text(), nullable=True),
        sa.Column("engine_id", sa.String(64), nullable=True),
        sa.Column("context_name", sa.String(32), nullable=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("retry_num", sa.Integer(), nullable=False),
        sa.Column("expiration", sa.Integer(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["storage_id"], ["storages.id"], name="fk_alert_sources_storage_id_storages",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("storage_id", name="pk_alert_sources"),
    )


def downgrade() -> None:
    op.drop_table("alert_sources")
    op.drop_table("alerts")
