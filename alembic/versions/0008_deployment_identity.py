"""The deployment this database belongs to: its name and a random database id.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 05:50:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    # the row itself is written by the first process (or db-manage upgrade), which knows the name
    op.create_table(
        "deployment_identity",
        sa.Column("singleton", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("database_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("singleton", name=op.f("pk_deployment_identity")),
    )


def downgrade() -> None:
    op.drop_table("deployment_identity")
