"""List indexes for the exact filters that led the planners to sort: ``name=`` and ``status=``.

With ``name=<x>`` in the default created_at order, SQLite took the ``(name, id)`` index for the
equality and sorted the matches; the name indexes become ``(name, created_at, id)`` (a name sort
now breaks ties by created_at, then id), which serves both. Tasks and jobs filtered by status
page through ``(status, created_at, id)``; for jobs that replaces ``ix_jobs_status``, its prefix.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 23:20:00.000000
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_INVENTORY = ("storage_pools", "volumes", "controllers", "ports", "disks")


def _swaps():
    """``(table, old index name, old columns, new index name, new columns)``; old None: only added."""
    yield "storages", "ix_storages_name_id", ["name", "id"], "ix_storages_name_created_at_id", [
        "name", "created_at", "id"]
    for table in _INVENTORY:
        yield table, f"ix_{table}_name_id", ["name", "id"], f"ix_{table}_name_created_at_id", [
            "name", "created_at", "id"]
        yield table, f"ix_{table}_storage_id_name_id", ["storage_id", "name", "id"], \
            f"ix_{table}_storage_id_name_created_at_id", ["storage_id", "name", "created_at", "id"]
    yield "tasks", None, None, "ix_tasks_status_created_at_id", ["status", "created_at", "id"]
    yield "jobs", "ix_jobs_status", ["status"], "ix_jobs_status_created_at_id", ["status", "created_at", "id"]


def upgrade() -> None:
    # the new index first: MariaDB keeps an index under every foreign key at every step
    for table, old, _, new, new_columns in _swaps():
        op.create_index(new, table, new_columns)
        if old is not None:
            op.drop_index(old, table_name=table)


def downgrade() -> None:
    for table, old, old_columns, new, _ in reversed(list(_swaps())):
        if old is not None:
            op.create_index(old, table, old_columns)
        op.drop_index(new, table_name=table)
