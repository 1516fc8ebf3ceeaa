"""When a task took its storage lock (``started_at`` is the claim, before the lock wait).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 05:40:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# microseconds on MariaDB too: lock holds of one storage are compared to the microsecond
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("lock_acquired_at", TIMESTAMP, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("lock_acquired_at")
