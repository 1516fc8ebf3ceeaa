"""Schedules per storage, the retry back-off of tasks, the task managers' records.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 09:12:04.118230
"""

import datetime
import uuid

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# DATETIME with microseconds on MySQL/MariaDB, whose default drops them
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("storage_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_run_at", TIMESTAMP, nullable=True),
        sa.Column("last_fired_at", TIMESTAMP, nullable=True),
        sa.Column("last_task_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["storage_id"], ["storages.id"], name=op.f("fk_schedules_storage_id_storages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint(
            "storage_id", "kind", "resource_type", name=op.f("uq_schedules_storage_id_kind_resource_type")
        ),
    )
    op.create_index("ix_schedules_enabled_next_run_at", "schedules", ["enabled", "next_run_at"], unique=False)
    op.create_table(
        "task_managers",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("lanes", sa.String(length=255), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("last_heartbeat", TIMESTAMP, nullable=False),
        sa.Column("tasks_running", sa.Integer(), nullable=False),
        sa.Column("tasks_done", sa.Integer(), nullable=False),
        sa.Column("tasks_failed", sa.Integer(), nullable=False),
        sa.Column("stopped_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_managers")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_before", TIMESTAMP, nullable=True))
    _schedule_existing_storages()


def _default_interval() -> int:
    """``[scheduler] periodic_sync_interval`` of the process running the upgrade."""
    from delfin_like.conf import CONF

    try:
        return int(CONF.scheduler.periodic_sync_interval)
    except Exception:  # noqa: BLE001 - options not parsed (a bare alembic run): the shipped default
        return 3600


def _schedule_existing_storages() -> None:
    """Storages registered before this revision get the default periodic sync, spread over
    one interval so an upgraded site does not sync everything at the same second."""
    interval = _default_interval()
    if interval <= 0:
        return
    conn = op.get_bind()
    ids = conn.execute(sa.text("SELECT id FROM storages ORDER BY created_at")).scalars().all()
    if not ids:
        return
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    table = sa.table(
        "schedules",
        sa.column("id", sa.String),
        sa.column("storage_id", sa.String),
        sa.column("kind", sa.String),
        sa.column("resource_type", sa.String),
        sa.column("interval_seconds", sa.Integer),
        sa.column("enabled", sa.Boolean),
        sa.column("next_run_at", TIMESTAMP),
        sa.column("created_at", TIMESTAMP),
        sa.column("updated_at", TIMESTAMP),
    )
    op.bulk_insert(
        table,
        [
            {
                "id": str(uuid.uuid4()),
                "storage_id": sid,
                "kind": "periodic_sync",
                "resource_type": "storage",
                "interval_seconds": interval,
                "enabled": True,
                "next_run_at": now + datetime.timedelta(seconds=interval * (i + 1) / len(ids)),
                "created_at": now,
                "updated_at": now,
            }
            for i, sid in enumerate(ids)
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("not_before")

    op.drop_table("task_managers")
    op.drop_index("ix_schedules_enabled_next_run_at", table_name="schedules")
    op.drop_table("schedules")
