"""Alerts: trap and alert sync share one identity per array event (issue 14).

An alert was unique per (storage, source, sequence number), so a trap and an alert sync of the
same array event made two rows. ``origin`` says whose numbering a sequence number is in:
``array`` (the array's event, whether a trap or an alert sync brought it) or ``platform`` (the
platform's own conditions); the unique key becomes (storage, origin, sequence number).

Existing pairs (a ``trap`` row and a ``sync`` row of one event) are merged into one row as the
new code would have made them: the older row stays (its id, ``source``, ``first_seen``,
``created_at``); the fields, fingerprint and state come from the row written last; ``last_seen``
is the later of the two; ``repeat_count`` is the trap's count, plus one when the sync came first
(a trap of a synced event is a repeat, a sync of a trapped one is not). The dropped row's pending
deliveries (``alert_deliveries``, revision 0013) move to the kept row, except those the kept row
already has for the same exporter and event (one is enough: the dispatcher sends the row's current
state).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 01:40:00.000000
"""

import contextlib

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_OLD = "uq_alerts_storage_id_source_sequence_number"
_NEW = "uq_alerts_storage_id_origin_sequence_number"
_MERGED_FIELDS = ("alert_id", "alert_name", "severity", "category", "type", "description", "resource_type",
                  "native_resource_id", "resource_row_id", "location", "recovery_advice", "state", "cleared_at",
                  "cleared_by", "occur_time", "fingerprint", "updated_at")


_deliveries = sa.table("alert_deliveries", sa.column("alert_uuid"), sa.column("exporter"), sa.column("event"))


def _move_deliveries(bind, dropped: str, kept: str) -> None:
    """The dropped row's deliveries become the kept row's, but for (exporter, event) pairs it has."""
    has = bind.execute(sa.select(_deliveries.c.exporter, _deliveries.c.event)
                       .where(_deliveries.c.alert_uuid == kept)).all()
    for exporter, event in has:
        bind.execute(_deliveries.delete().where(_deliveries.c.alert_uuid == dropped,
                                                _deliveries.c.exporter == exporter, _deliveries.c.event == event))
    bind.execute(_deliveries.update().where(_deliveries.c.alert_uuid == dropped).values(alert_uuid=kept))


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
    for group in pairs.values():
        group.sort(key=lambda r: (r["created_at"], r["source"] != "sync", r["id"]))
        kept, dropped = group[0], group[1]  # one trap row and one sync row at most
        latest = max(group, key=lambda r: (r["updated_at"] or r["created_at"], r["id"]))
        trap = next(r for r in group if r["source"] == "trap")
        count = trap["repeat_count"] + (1 if kept["source"] == "sync" else 0)
        _move_deliveries(bind, dropped["id"], kept["id"])
        bind.execute(alerts.delete().where(alerts.c.id == dropped["id"]))
        bind.execute(alerts.update().where(alerts.c.id == kept["id"]).values(
            {**{f: latest[f] for f in _MERGED_FIELDS}, "repeat_count": count,
             "first_seen": min(r["first_seen"] for r in group), "last_seen": max(r["last_seen"] for r in group)}))


@contextlib.contextmanager
def _deliveries_kept(bind):
    """On SQLite a batch alter rebuilds ``alerts`` (copy, drop, rename), and the drop's ON DELETE CASCADE
    (foreign keys are on) would empty the outbox: keep its rows aside meanwhile and put them back."""
    if bind.dialect.name != "sqlite":
        yield
        return
    bind.execute(sa.text("CREATE TEMP TABLE kept_alert_deliveries AS SELECT * FROM alert_deliveries"))
    yield
    bind.execute(sa.text("DELETE FROM alert_deliveries"))
    bind.execute(sa.text("INSERT INTO alert_deliveries SELECT * FROM kept_alert_deliveries"))
    bind.execute(sa.text("DROP TABLE kept_alert_deliveries"))


def upgrade() -> None:
    bind = op.get_bind()
    with _deliveries_kept(bind), op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("origin", sa.String(16), nullable=True))
    bind.execute(sa.text("UPDATE alerts SET origin = CASE WHEN source = 'platform' THEN 'platform' ELSE 'array' END"))
    _merge_pairs(bind)
    with _deliveries_kept(bind), op.batch_alter_table("alerts") as batch:
        batch.alter_column("origin", existing_type=sa.String(16), nullable=False)
        # the new key first: on MariaDB an index leading with storage_id must stay for the foreign key
        batch.create_unique_constraint(_NEW, ["storage_id", "origin", "sequence_number"])
        batch.drop_constraint(_OLD, type_="unique")


def downgrade() -> None:
    # after the merge no (storage, source, sequence number) repeats: the old key holds again
    with _deliveries_kept(op.get_bind()), op.batch_alter_table("alerts") as batch:
        batch.create_unique_constraint(_OLD, ["storage_id", "source", "sequence_number"])
        batch.drop_constraint(_NEW, type_="unique")
        batch.drop_column("origin")
