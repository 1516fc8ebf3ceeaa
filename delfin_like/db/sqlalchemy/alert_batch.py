"""Recording a batch of alerts in one transaction at a few statements per batch (issue 14, traps in).

The trap receiver's sink hands :func:`alert_record_many` the traps queued meanwhile (up to a few
hundred). Recording them one by one (:func:`.alerts._record_in`) costs five or six statements per
alert: the storage, the inventory row, the existing row, the write, the outbox. Here the whole
batch takes one query for the storages, one per resource type for the inventory rows, one per
storage for the existing rows, multi-row INSERTs for the new ones, one executemany UPDATE per set
of columns for the others and one outbox upsert (a second only when an alert flaps within the
batch). The items are walked in order in memory, so the rows and the outbox rows are those the
one-by-one path writes: a repeat later in the batch bumps the row an earlier one made, and each
new / clear / reopen queues the same event.
"""

import datetime
from collections import Counter

import sqlalchemy as sa
from sqlalchemy import exc

from delfin_like.common import exception
from delfin_like.db.sqlalchemy import alert_outbox, alerts
from delfin_like.db.sqlalchemy.engine import translate_errors, write
from delfin_like.db.sqlalchemy.utils import new_id, utcnow

table = alerts.alerts
storages = alerts.storages
# the columns of a new row, in the order bulk.insert_rows gets them
_INSERT_COLUMNS = [*(f for f in alerts.ALERT_FIELDS if f != "cleared"), "resource_row_id", "state", "cleared_at",
                   "cleared_by", "id", "storage_id", "source", "origin", "fingerprint", "first_seen", "last_seen",
                   "repeat_count", "created_at", "updated_at"]


def _storage_errors(conn, storage_ids) -> dict:
    """``{storage id: error}`` of the storages that are gone or being deleted (one query)."""
    wanted = sorted(storage_ids)
    found = {}
    for start in range(0, len(wanted), alerts._IDS_PER_QUERY):
        found.update(conn.execute(sa.select(storages.c.id, storages.c.deleting).where(
            storages.c.id.in_(wanted[start:start + alerts._IDS_PER_QUERY]))).all())
    errors = {}
    for storage_id in wanted:
        if storage_id not in found:
            errors[storage_id] = exception.StorageNotFound(storage_id)
        elif found[storage_id]:
            errors[storage_id] = exception.StorageBeingDeleted(storage_id)
    return errors


def _stored_rows(conn, storage_id: str, keys) -> dict:
    """``{(origin, sequence number): [row id, state]}`` of the storage's stored alerts among ``keys``."""
    out = {}
    by_origin: dict[str, list[str]] = {}
    for origin, sequence_number in keys:
        by_origin.setdefault(origin, []).append(sequence_number)
    for origin, numbers in by_origin.items():
        numbers = sorted(set(numbers))
        for start in range(0, len(numbers), alerts._IDS_PER_QUERY):
            for row_id, number, state in conn.execute(
                    sa.select(table.c.id, table.c.sequence_number, table.c.state).where(
                        table.c.storage_id == storage_id, table.c.origin == origin,
                        table.c.sequence_number.in_(numbers[start:start + alerts._IDS_PER_QUERY]))):
                out[(origin, number)] = [row_id, state]
    return out


def _record_bulk(conn, items: list, now) -> list:
    """Record ``items`` (``(storage_id, source, values | InvalidInput)``) in ``conn``'s transaction;
    see :func:`alert_record_many` (rows are not returned: ``(None, created)`` per stored item)."""
    results: list = [None] * len(items)
    live = [(i, storage_id, source, values) for i, (storage_id, source, values) in enumerate(items)
            if not isinstance(values, exception.InvalidInput)]
    for i, (_, _, values) in enumerate(items):
        if isinstance(values, exception.InvalidInput):
            results[i] = values
    gone = _storage_errors(conn, {storage_id for _, storage_id, _, _ in live})
    per_storage: dict[str, list] = {}
    for i, storage_id, source, values in live:
        if storage_id in gone:
            results[i] = gone[storage_id]
        else:
            per_storage.setdefault(storage_id, []).append((i, source, dict(values)))
    inserts: dict[str, dict] = {}  # row id -> the new row (repeats in the batch folded in)
    updates: dict[str, dict] = {}  # row id -> the SET values of a stored row, "_repeats" its count
    changes: list[tuple[str, str]] = []  # (row id, event) in the order the one-by-one path queues them
    for storage_id, batch in per_storage.items():
        alerts.link_resources(conn, storage_id, [v for _, _, v in batch])
        known = _stored_rows(conn, storage_id, {(alerts.ORIGIN_OF[s], v["sequence_number"]) for _, s, v in batch})
        for i, source, values in batch:
            cleared = values.pop("cleared")
            fingerprint = alerts._fingerprint({**values, "cleared": cleared})
            cleared = cleared or values["category"] == alerts.RECOVERY
            state = {"state": "cleared", "cleared_at": now, "cleared_by": source} if cleared else \
                {"state": "open", "cleared_at": None, "cleared_by": None}
            key = (alerts.ORIGIN_OF[source], values["sequence_number"])
            existing = known.get(key)
            if existing is None:
                row_id = new_id()
                inserts[row_id] = {
                    **values, **state, "id": row_id, "storage_id": storage_id, "source": source,
                    "origin": key[0], "fingerprint": fingerprint, "first_seen": now, "last_seen": now,
                    "repeat_count": 1, "created_at": now, "updated_at": now}
                known[key] = [row_id, state["state"]]
                changes.append((row_id, alert_outbox.FIRING if state["state"] == "open" else alert_outbox.RESOLVED))
                results[i] = (None, True)
                continue
            row_id, before = existing
            if cleared and before == "cleared":
                state = {}  # keeps who cleared it and when
            new = {**values, **state, "fingerprint": fingerprint, "last_seen": now, "updated_at": now}
            if row_id in inserts:  # made earlier in this batch: fold the repeat into its INSERT
                inserts[row_id].update(new)
                inserts[row_id]["repeat_count"] += 1
            elif row_id in updates:
                repeats = updates[row_id]["_repeats"] + 1
                updates[row_id].update(new)
                updates[row_id]["_repeats"] = repeats
            else:
                updates[row_id] = {**new, "_repeats": 1}
            after = state.get("state", before)
            if after != before:
                existing[1] = after
                changes.append((row_id, alert_outbox.FIRING if after == "open" else alert_outbox.RESOLVED))
            results[i] = (None, False)
    _write(conn, list(inserts.values()), updates)
    _queue(conn, changes, now)
    return results


def _write(conn, inserts: list[dict], updates: dict[str, dict]) -> None:
    """New rows as multi-row INSERTs (COPY on PostgreSQL); stored ones in one executemany UPDATE per
    set of columns, ``repeat_count`` raised by each row's repeats."""
    if inserts:
        alerts.insert_rows(conn, inserts, _INSERT_COLUMNS)
    groups: dict[tuple, list[dict]] = {}
    for row_id, values in updates.items():
        groups.setdefault(tuple(values), []).append({**values, "_row_id": row_id})
    for params in groups.values():
        # executemany: the SET clause is the parameters' column keys, plus the repeat count
        conn.execute(table.update().where(table.c.id == sa.bindparam("_row_id"))
                     .values(repeat_count=table.c.repeat_count + sa.bindparam("_repeats")), params)


def _queue(conn, changes: list[tuple[str, str]], now) -> None:
    """The outbox rows of ``changes`` as one-by-one ``queue()`` calls leave them: an (alert, event)
    queued n times in the batch is upserted n times (its generation bumped each time after the first)."""
    pending = Counter(changes)
    while pending:
        alert_outbox.queue(conn, list(pending), now)
        pending = Counter({change: n - 1 for change, n in pending.items() if n > 1})


def _record_bulk_once(items: list, now) -> list:
    with write() as conn:
        try:
            return _record_bulk(conn, items, now)
        except conn.dialect.dbapi.IntegrityError as e:
            # bulk.insert_rows writes through the DB-API cursor: its error is the driver's own
            raise exc.IntegrityError("bulk insert of alerts", None, e) from e


@translate_errors
def alert_record_many(records, seen_at: datetime.datetime | None = None, want_rows: bool = True) -> list:
    """Store several alerts in one transaction, each as :func:`.alerts.alert_record` would (the trap
    receiver's sink: one commit per batch of traps, not per trap).

    :param records: ``(storage_id, source, alert)`` triples, in order (a repeat later in the
        list bumps the row an earlier one made).
    :param want_rows: each stored record's row as it stood after that record (written one by one);
        False: in bulk (a few statements per batch), no rows returned.
    :returns: one entry per record: ``(alert row dict, created)`` (the row None when not
        ``want_rows``), or the error that kept that one out (the others are stored):
        StorageNotFound, StorageBeingDeleted, or InvalidInput (an unknown source, no sequence number).
    """
    now = alerts._naive_utc(seen_at) or utcnow()
    items = []
    for storage_id, source, alert in records:
        try:
            if source not in alerts.SOURCES:
                raise exception.InvalidInput(f"alert source must be one of {', '.join(alerts.SOURCES)}")
            items.append((storage_id, source, alerts._alert_values(alert)))
        except exception.InvalidInput as e:
            items.append((storage_id, source, e))
    if not items:
        return []
    recovery = any(isinstance(v, dict) and v["category"] == alerts.RECOVERY for _, _, v in items)
    if not want_rows and not recovery:
        try:
            return _record_bulk_once(items, now)
        except exc.IntegrityError:
            # a concurrent receiver inserted one of them first (or the database's collation matched a
            # sequence number this batch had not): one by one, where each read sees what is stored
            pass
    # a recovery clears the faults it ends as it is recorded: the one-by-one path
    try:
        return alerts._record_many_once(items, now, want_rows)
    except exc.IntegrityError:
        return alerts._record_many_once(items, now, want_rows)
