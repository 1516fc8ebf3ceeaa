"""Alerts: trap and alert sync share one identity per array event (issue 14).

An alert was unique per (storage, source, sequence number), so a trap and an alert sync of the
same array event made two rows. ``origin`` says whose numbering a sequence number is in:
``array`` (the array's event, whether a trap or an alert sync brought it) or ``platform`` (the
platform's own conditions); the unique key becomes (storage, origin, sequence number).

Existing pairs (a ``trap`` row and a ``sync`` row of one event) are merged into one row as the
new code would have made them: the older row stays (its id, ``source``, ``first_seen``,
``created_at``); the fields, fingerprint and state come from the row written last; ``last_seen``
is the later of the two; ``repeat_count`` is the trap's count, plus one when the sync came first
(a trap of a synced event is a repeat, a sync of a trapped one is not). Rows of other tables
that point at the dropped row by a foreign key are pointed at the kept one first.

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-08 01:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"  # LEAD: rechain to 0013 at merge
branch_labels = None
depends_on = None

_OLD = "uq_alerts_storage_id_source_sequence_number"
_NEW = "uq_alerts_storage_id_origin_sequence_number"
_MERGED_FIELDS = ("alert_id", "alert_name", "severity", "category", "type", "description", "resource_type",
                  "native_resource_id", "resource_row_id", "location", "recovery_advice", "state", "cleared_at",
                  "cleared_by", "occur_time", "fingerprint", "updated_at")


def _referencing(bind) -> list[tuple[str, str]]:
    """(table, column) of every foreign key to alerts.id (e.g. an alert outbox)."""
    inspector = sa.inspect(bind)
    out = []
    for table in inspector.get_table_names():
        for fk in inspector.get_foreign_keys(table):
            if fk["referred_table"] == "alerts" and fk["referred_columns"] == ["id"]:
                out.append((table, fk["constrained_columns"][0]))
    return out


def _merge_pairs(bind) -> None:
    alerts = sa.table("alerts", *(sa.column(c) for c in (
        "id", "storage_id", "sequence_number", "source", "origin", "repeat_count", "first_seen", "last_seen",
        "created_at", *_MERGED_FIELDS)))
    dup = (sa.select(alerts.c.storage_id, alerts.c.sequence_number).where(alerts.c.origin == "array")
           .group_by(alerts.c.storage_id, alerts.c.sequence_number).having(sa.func.count() > 1).subquery())
    rows = bind.execute(sa.select(alerts).join(dup, sa.and_(
        alerts.c.storage_id == dup.c.storage_id, alerts.c.sequence_number == dup.c.sequence_number))
        .where(alerts.c.origin == "array")).mappings().all()
    pairs: dict[tuple, list] = {}
    for row in rows:
        pairs.setdefault((row["storage_id"], row["sequence_number"]), []).append(row)
    referencing = _referencing(bind) if pairs else []
    for group in pairs.values():
        group.sort(key=lambda r: (r["created_at"], r["source"] != "sync", r["id"]))
        kept, dropped = group[0], group[1]  # one trap row and one sync row at most
        latest = max(group, key=lambda r: (r["updated_at"] or r["created_at"], r["id"]))
        trap = next(r for r in group if r["source"] == "trap")
        count = trap["repeat_count"] + (1 if kept["source"] == "sync" else 0)
        for table, column in referencing:
            target = sa.table(table, sa.column(column))
            bind.execute(target.update().where(target.c[column] == dropped["id"]).values({column: kept["id"]}))
        bind.execute(alerts.delete().where(alerts.c.id == dropped["id"]))
        bind.execute(alerts.update().where(alerts.c.id == kept["id"]).values(
            {**{f: latest[f] for f in _MERGED_FIELDS}, "repeat_count": count,
             "first_seen": min(r["first_seen"] for r in group), "last_seen": max(r["last_seen"] for r in group)}))


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("origin", sa.String(16), nullable=True))
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE alerts SET origin = CASE WHEN source = 'platform' THEN 'platform' ELSE 'array' END"))
    _merge_pairs(bind)
    with op.batch_alter_table("alerts") as batch:
        batch.alter_column("origin", existing_type=sa.String(16), nullable=False)
        # the new key first: on MariaDB an index leading with storage_id must stay for the foreign key
        batch.create_unique_constraint(_NEW, ["storage_id", "origin", "sequence_number"])
        batch.drop_constraint(_OLD, type_="unique")


def downgrade() -> None:
    # after the merge no (storage, source, sequence number) repeats: the old key holds again
    with op.batch_alter_table("alerts") as batch:
        batch.create_unique_constraint(_OLD, ["storage_id", "source", "sequence_number"])
        batch.drop_constraint(_NEW, type_="unique")
        batch.drop_column("origin")
