"""Indexes for retention: finished tasks by age, and the newest of each (storage, type).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 05:40:00.000000
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tasks_status_finished_at", "tasks", ["status", "finished_at"])
    op.create_index("ix_tasks_storage_id_type_finished_at", "tasks", ["storage_id", "type", "finished_at"])


def downgrade() -> None:
    op.drop_index("ix_tasks_storage_id_type_finished_at", table_name="tasks")
    op.drop_index("ix_tasks_status_finished_at", table_name="tasks")
