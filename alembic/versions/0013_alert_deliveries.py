"""The alert delivery outbox (issue 14, alerts out).

``alert_deliveries``: one row per (alert, exporter, event) still to deliver, event ``firing`` or
``resolved``, so an event-style exporter (jsonl, notification) gets both a fire and the clear that
followed it before the dispatcher ran, and an alert never has more than two rows per exporter.
``generation`` is bumped when the row is queued again while pending (the dispatcher deletes only
the generation it delivered). ``ix_alert_deliveries_exporter_next_attempt_at`` serves the
dispatcher's due scan and the backlog per exporter, ``ix_alert_deliveries_created_at`` retention.
Rows go with their alert (ON DELETE CASCADE).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 01:45:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "alert_deliveries",
        sa.Column("alert_uuid", sa.String(36), nullable=False),
        sa.Column("exporter", sa.String(64), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["alert_uuid"], ["alerts.id"], name="fk_alert_deliveries_alert_uuid_alerts",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("alert_uuid", "exporter", "event", name="pk_alert_deliveries"),
    )
    op.create_index("ix_alert_deliveries_exporter_next_attempt_at", "alert_deliveries",
                    ["exporter", "next_attempt_at"])
    op.create_index("ix_alert_deliveries_created_at", "alert_deliveries", ["created_at"])


def downgrade() -> None:
    op.drop_table("alert_deliveries")
