"""Indexes that serve every list route's keyset pages, for each documented sort, with and without storage_id.

Each index ends in the table's unique key (the sort's tie-breaker), so ``ORDER BY
<sort>, id LIMIT n`` after a marker is a range scan of n index entries at any depth.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 20:15:00.000000
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# table -> (sort keys, led also by storage_id, unique key); kept in step with models.list_indexes()
_LISTS = {
    "storages": (("created_at", "name"), False, "id"),
    "access_infos": (("created_at",), False, "storage_id"),
    "storage_pools": (("created_at", "name"), True, "id"),
    "volumes": (("created_at", "name"), True, "id"),
    "controllers": (("created_at", "name"), True, "id"),
    "ports": (("created_at", "name"), True, "id"),
    "disks": (("created_at", "name"), True, "id"),
    "tasks": (("created_at",), True, "id"),
    "jobs": (("created_at",), True, "id"),
    "task_managers": (("started_at",), False, "id"),
}


def _indexes():
    for table, (sorts, by_storage, key) in _LISTS.items():
        for sort in sorts:
            yield table, f"ix_{table}_{sort}_{key}", [sort, key]
            if by_storage:
                yield table, f"ix_{table}_storage_id_{sort}_{key}", ["storage_id", sort, key]


def upgrade() -> None:
    for table, name, columns in _indexes():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for table, name, _ in reversed(list(_indexes())):
        op.drop_index(name, table_name=table)
