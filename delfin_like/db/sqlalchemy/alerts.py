"""SQL for alerts and alert sources (a storage's snmp-config), issue 14.

An alert is keyed on ``(storage_id, origin, sequence_number)``; ``origin`` is ``array`` for the
sources ``trap`` and ``sync`` (one array event is one row, whichever path saw it: a trap of an
event an alert sync stored is a repeat, an alert sync of a trapped event updates that row only
where the listing differs) and ``platform`` for the platform's own alerts. ``source`` stays the
path that saw it first. Recording the same key again bumps ``repeat_count`` and ``last_seen`` on
the one row (the latest fields win), never adds a row. The
secrets of an alert source (``community_string``, ``auth_key``, ``privacy_key``) are Fernet tokens
in their columns; only ``reveal=True`` (the trap receiver) gets them back in clear.
"""

import datetime
import hashlib

import sqlalchemy as sa
from sqlalchemy import exc

from delfin_like.common import constants, crypto, exception
from delfin_like.common.constants import TaskStatus, TaskType
from delfin_like.db.sqlalchemy import alert_outbox, bulk, models, query, schedules
from delfin_like.db.sqlalchemy.engine import read, translate_errors, write
from delfin_like.db.sqlalchemy.inventory import RESOURCE_TABLES
from delfin_like.db.sqlalchemy.utils import finish_values, new_id, task_dict, task_values, utcnow

alerts = models.Alert.__table__
alert_sources = models.AlertSource.__table__
storages = models.Storage.__table__

SOURCES = constants.AlertSource.ALL
# source -> origin: whose numbering its sequence numbers are in (the identity shared by trap and sync)
ORIGIN_OF = {constants.AlertSource.TRAP: "array", constants.AlertSource.SYNC: "array",
             constants.AlertSource.PLATFORM: "platform"}
STATES = constants.AlertState.ALL
# what the sdk Alert carries, as the contract names it
ALERT_FIELDS = ("sequence_number", "alert_id", "alert_name", "severity", "category", "type", "description",
                "occur_time", "resource_type", "native_resource_id", "location", "recovery_advice", "cleared")
SECRET_FIELDS = ("community_string", "auth_key", "privacy_key")
SOURCE_FIELDS = ("version", "community_string", "username", "security_level", "auth_protocol", "auth_key",
                 "privacy_protocol", "privacy_key", "engine_id", "context_name", "host", "port", "retry_num",
                 "expiration")
# a recovery (e.g. linkUp) is stored cleared and clears the faults it ends (_clear_recovered)
RECOVERY = "recovery"
# the sdk resource type of an alert -> its inventory table
_RESOURCE_TABLE_OF = {"storage_pool": "storage_pools", "volume": "volumes", "controller": "controllers",
                      "port": "ports", "disk": "disks"}
# native ids in one IN (...) of an alert sync's inventory lookup: within every database's parameter limit
_IDS_PER_QUERY = 500

ALERT_COLUMNS = tuple(c for c in alerts.c if c.name not in ("fingerprint", "origin"))  # origin follows source
ALERT_FILTERS = ("storage_id", "severity", "state", "category", "type", "source", "resource_type",
                 "native_resource_id", "alert_id")
ALERT_SORTS = ("id", "created_at", "last_seen", "first_seen", "occur_time", "severity", "repeat_count")
ALERT_LISTING = query.Listing(
    alerts, ALERT_COLUMNS, ALERT_FILTERS, ALERT_SORTS, (("last_seen", "desc"),),
    indexed_sorts=("created_at", "last_seen"),
)


def _naive_utc(value: datetime.datetime | None) -> datetime.datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(datetime.UTC).replace(tzinfo=None)


def _field(alert, name: str, default=None):
    if isinstance(alert, dict):
        return alert.get(name, default)
    return getattr(alert, name, default)


def _alert_values(alert) -> dict:
    values = {name: _field(alert, name) for name in ALERT_FIELDS}
    values["occur_time"] = _naive_utc(values["occur_time"])
    values["resource_type"] = values["resource_type"] or "storage"
    values["description"] = values["description"] or ""
    values["cleared"] = bool(values["cleared"])
    if not values["sequence_number"]:
        raise exception.InvalidInput("an alert needs a sequence_number")
    values["sequence_number"] = str(values["sequence_number"])
    return values


def _fingerprint(values: dict) -> str:
    return hashlib.blake2b(repr([values[k] for k in ALERT_FIELDS]).encode(), digest_size=16).hexdigest()


def _alert_dict(row) -> dict:
    return {c.name: row._mapping[c.name] for c in ALERT_COLUMNS}


def _check_storage(conn, storage_id: str) -> None:
    row = conn.execute(sa.select(storages.c.deleting).where(storages.c.id == storage_id)).first()
    if row is None:
        raise exception.StorageNotFound(storage_id)
    if row.deleting:
        raise exception.StorageBeingDeleted(storage_id)


def _resource_row_ids(conn, storage_id: str, wanted) -> dict:
    """``{(resource_type, native id): inventory row id}`` of the ``wanted`` pairs the last sync stored:
    one indexed query per resource type and :data:`_IDS_PER_QUERY` native ids (alert sync)."""
    found, by_type = {}, {}
    for resource_type, native_id in wanted:
        if resource_type == "storage":
            found[(resource_type, native_id)] = storage_id
        elif resource_type in _RESOURCE_TABLE_OF and native_id is not None:
            by_type.setdefault(resource_type, set()).add(native_id)
    for resource_type, natives in by_type.items():
        table = RESOURCE_TABLES[_RESOURCE_TABLE_OF[resource_type]]
        native = table.c[f"native_{resource_type}_id"]
        natives = sorted(natives)
        for start in range(0, len(natives), _IDS_PER_QUERY):
            for native_id, row_id in conn.execute(sa.select(native, table.c.id).where(
                    table.c.storage_id == storage_id, native.in_(natives[start:start + _IDS_PER_QUERY]))):
                found[(resource_type, native_id)] = row_id
    return found


def link_resources(conn, storage_id: str, rows) -> None:
    """Set each alert row's (dict's) ``resource_row_id``: the inventory row it concerns when the last sync
    stored it, else None; one lookup for all of them (:func:`_resource_row_ids`)."""
    links = _resource_row_ids(conn, storage_id, {(v["resource_type"], v["native_resource_id"]) for v in rows})
    for values in rows:
        values["resource_row_id"] = links.get((values["resource_type"], values["native_resource_id"]))


def _queue_change(conn, alert_uuid: str, before: str | None, after: str, now) -> None:
    """Queue the alert's deliveries when its state changed (``before`` None: a new alert)."""
    if before != after:
        event = alert_outbox.FIRING if after == "open" else alert_outbox.RESOLVED
        alert_outbox.queue(conn, [(alert_uuid, event)], now)


def _clear_recovered(conn, storage_id: str, values: dict, now) -> int:
    """A RECOVERY alert clears the storage's open FAULT alerts of its type about its resource
    (``resource_type`` + ``native_resource_id``, or ``location`` when there is no native id),
    platform alerts aside (they clear themselves); :returns: how many."""
    if values["category"] != RECOVERY:
        return 0
    where = [alerts.c.storage_id == storage_id, alerts.c.state == "open", alerts.c.category == "fault",
             alerts.c.type == values["type"], alerts.c.resource_type == values["resource_type"],
             alerts.c.source != "platform"]
    native, location = values["native_resource_id"], values["location"]
    if native is not None:
        where.append(alerts.c.native_resource_id == native)
    else:
        where.append(alerts.c.native_resource_id.is_(None))
        where.append(alerts.c.location == location if location is not None else alerts.c.location.is_(None))
    ids = conn.execute(sa.select(alerts.c.id).where(*where)).scalars().all()
    if ids:
        conn.execute(alerts.update().where(alerts.c.id.in_(ids), alerts.c.state == "open").values(
            state="cleared", cleared_at=now, cleared_by="recovery", updated_at=now))
        alert_outbox.queue(conn, [(i, alert_outbox.RESOLVED) for i in ids], now)
    return len(ids)


def _record_in(conn, storage_id: str, source: str, values: dict, now, checked: set | None = None,
               want_row: bool = True) -> tuple[dict | None, bool]:
    """Record one alert in the open write transaction ``conn`` (see :func:`alert_record`).

    ``checked``: storages already checked in this transaction (not asked again); ``want_row``
    False returns no row (one SELECT less)."""
    cleared = values.pop("cleared")
    fingerprint = _fingerprint({**values, "cleared": cleared})
    cleared = cleared or values["category"] == RECOVERY  # it ends a fault: nothing is left to act on
    key = (alerts.c.storage_id == storage_id, alerts.c.origin == ORIGIN_OF[source],
           alerts.c.sequence_number == values["sequence_number"])
    if checked is None or storage_id not in checked:
        _check_storage(conn, storage_id)
        if checked is not None:
            checked.add(storage_id)
    link_resources(conn, storage_id, [values])
    state = {"state": "cleared", "cleared_at": now, "cleared_by": source} if cleared else \
        {"state": "open", "cleared_at": None, "cleared_by": None}
    existing = conn.execute(sa.select(alerts.c.id, alerts.c.state).where(*key)).first()
    if existing is not None:
        if cleared and existing.state == "cleared":
            state = {}  # keeps who cleared it and when
        conn.execute(alerts.update().where(alerts.c.id == existing.id).values(
            **values, **state, fingerprint=fingerprint, last_seen=now, updated_at=now,
            repeat_count=alerts.c.repeat_count + 1))
        row_id, created = existing.id, False
        _queue_change(conn, row_id, existing.state, state.get("state", existing.state), now)
    else:
        row_id, created = new_id(), True
        conn.execute(alerts.insert(), {
            **values, **state, "id": row_id, "storage_id": storage_id, "source": source,
            "origin": ORIGIN_OF[source], "fingerprint": fingerprint, "first_seen": now, "last_seen": now,
            "repeat_count": 1, "created_at": now, "updated_at": now,
        })
        _queue_change(conn, row_id, None, state["state"], now)
    _clear_recovered(conn, storage_id, values, now)
    if not want_row:
        return None, created
    row = conn.execute(sa.select(*ALERT_COLUMNS).where(alerts.c.id == row_id)).one()
    return _alert_dict(row), created


def _record_once(storage_id: str, source: str, values: dict, now) -> tuple[dict, bool]:
    with write() as conn:
        return _record_in(conn, storage_id, source, values, now)


@translate_errors
def alert_record(storage_id: str, source: str, alert, seen_at: datetime.datetime | None = None) -> tuple[dict, bool]:
    """Store ``alert`` (anything with the sdk Alert's attributes, or a dict of them) for the storage.

    A first sighting of ``(storage_id, origin of source, sequence_number)`` is a new open row (cleared
    when the alert says ``cleared``) with ``repeat_count`` 1; a repeat bumps ``repeat_count`` and
    ``last_seen`` and takes the latest fields; a repeat that is not cleared reopens a cleared alert.
    A trap of an event an alert sync stored is such a repeat (the row keeps source ``sync``).
    A new alert, a clear and a reopen queue their deliveries to the alert exporters in the same
    transaction; a recovery alert (category ``recovery``) also clears the open faults it ends
    (``cleared_by`` ``recovery``; see :func:`_clear_recovered`).

    :returns: ``(alert row dict, created)``.
    :raises InvalidInput: an unknown source or no sequence number.
    :raises StorageNotFound, StorageBeingDeleted:
    """
    if source not in SOURCES:
        raise exception.InvalidInput(f"alert source must be one of {', '.join(SOURCES)}")
    now = _naive_utc(seen_at) or utcnow()
    values = _alert_values(alert)
    try:
        return _record_once(storage_id, source, dict(values), now)
    except exc.IntegrityError:
        # a concurrent first sighting inserted the row between our read and insert: now it is a repeat
        return _record_once(storage_id, source, dict(values), now)


def _record_many_once(items: list, now, want_rows: bool) -> list:
    """Record ``items`` (``(storage_id, source, values | InvalidInput)``) one by one in one transaction
    (:func:`.alert_batch.alert_record_many`: a batch with a recovery, or one that wants the rows)."""
    results, checked = [], set()
    with write() as conn:
        for storage_id, source, values in items:
            if isinstance(values, exception.InvalidInput):
                results.append(values)
                continue
            try:  # the storage is checked before anything of its alert is written
                results.append(_record_in(conn, storage_id, source, dict(values), now, checked, want_rows))
            except (exception.StorageNotFound, exception.StorageBeingDeleted) as e:
                results.append(e)
    return results


@translate_errors
def alert_get(alert_id: str) -> dict:
    with read() as conn:
        row = conn.execute(sa.select(*ALERT_COLUMNS).where(alerts.c.id == alert_id)).first()
    if row is None:
        raise exception.AlertNotFound(alert_id)
    return _alert_dict(row)


@translate_errors
def alert_list(filters=None, limit=None, offset=None, marker=None, sort=None, with_count=False,
               since: datetime.datetime | None = None, until: datetime.datetime | None = None) -> query.Page:
    """A page of alerts (query.Listing: exact ``filters``, ``sort``, paging); newest ``last_seen`` first.

    ``since``: only alerts last seen at or after it; ``until``: only alerts first seen at or before it
    (so an alert is listed when it was seen within the window).
    """
    since, until = _naive_utc(since), _naive_utc(until)
    with read() as conn:
        marker_values = query.marker_row(conn, alerts, marker)
        stmt = ALERT_LISTING.select(filters, limit, offset, marker_values, sort, dialect=conn.dialect.name)
        window = []
        if since is not None:
            window.append(alerts.c.last_seen >= since)
        if until is not None:
            window.append(alerts.c.first_seen <= until)
        if window:
            stmt = stmt.where(*window)
        result = query.Page(_alert_dict(r) for r in conn.execute(stmt))
        if with_count:
            count = query._where_filters(sa.select(sa.func.count()).select_from(alerts), alerts,
                                         ALERT_FILTERS, filters)
            result.total = conn.execute(count.where(*window) if window else count).scalar_one()
    return result


@translate_errors
def alert_clear(alert_id: str, by: str) -> dict:
    """Mark an alert cleared by ``by`` (a user, ``trap``, ``sync``); an already cleared one keeps its
    first clearing. :raises AlertNotFound:"""
    now = utcnow()
    with write() as conn:
        if conn.execute(alerts.update().where(alerts.c.id == alert_id, alerts.c.state == "open").values(
                state="cleared", cleared_at=now, cleared_by=by, updated_at=now)).rowcount:
            _queue_change(conn, alert_id, "open", "cleared", now)
        row = conn.execute(sa.select(*ALERT_COLUMNS).where(alerts.c.id == alert_id)).first()
    if row is None:
        raise exception.AlertNotFound(alert_id)
    return _alert_dict(row)


@translate_errors
def alerts_prune_cleared_before(before: datetime.datetime, limit: int) -> int:
    """Delete at most ``limit`` alerts cleared before ``before`` (retention); open alerts stay."""
    before = _naive_utc(before)
    with write() as conn:
        ids = conn.execute(
            sa.select(alerts.c.id).where(alerts.c.cleared_at < before, alerts.c.state == "cleared")
            .order_by(alerts.c.cleared_at).limit(limit)
        ).scalars().all()
        if not ids:
            return 0
        return conn.execute(alerts.delete().where(alerts.c.id.in_(ids))).rowcount


# ---------------------------------------------------------------- alert sources (snmp-config)

def _source_dict(row, reveal: bool) -> dict:
    out = {"storage_id": row.storage_id, "created_at": row.created_at, "updated_at": row.updated_at}
    for name in SOURCE_FIELDS:
        value = getattr(row, name)
        if name in SECRET_FIELDS:
            if not reveal:
                continue
            value = crypto.decrypt(value) if value else None
        out[name] = value
    return out


@translate_errors
def alert_source_put(storage_id: str, values: dict) -> dict:
    """Create or replace the storage's snmp-config; ``values`` hold the secrets in clear (encrypted here).
    A field left out is stored empty. :returns: the config without its secrets.
    :raises StorageNotFound, StorageBeingDeleted:"""
    now = utcnow()
    row = {name: values.get(name) for name in SOURCE_FIELDS}
    for name in SECRET_FIELDS:
        if row[name] is not None:
            row[name] = crypto.encrypt(row[name])
    with write() as conn:
        _check_storage(conn, storage_id)
        updated = conn.execute(alert_sources.update().where(alert_sources.c.storage_id == storage_id)
                               .values(**row, updated_at=now)).rowcount
        if not updated:
            conn.execute(alert_sources.insert(), {**row, "storage_id": storage_id, "created_at": now,
                                                  "updated_at": now})
        stored = conn.execute(sa.select(alert_sources).where(alert_sources.c.storage_id == storage_id)).one()
    return _source_dict(stored, reveal=False)


@translate_errors
def alert_source_get(storage_id: str, reveal: bool = False) -> dict:
    """The snmp-config; secrets only with ``reveal`` (decrypted). :raises AlertSourceNotFound:"""
    with read() as conn:
        row = conn.execute(sa.select(alert_sources).where(alert_sources.c.storage_id == storage_id)).first()
    if row is None:
        raise exception.AlertSourceNotFound(storage_id)
    return _source_dict(row, reveal)


@translate_errors
def alert_source_delete(storage_id: str) -> None:
    """:raises AlertSourceNotFound: the storage has no snmp-config."""
    with write() as conn:
        if not conn.execute(alert_sources.delete().where(alert_sources.c.storage_id == storage_id)).rowcount:
            raise exception.AlertSourceNotFound(storage_id)


@translate_errors
def alert_sources_for_receivers() -> list[dict]:
    """Every snmp-config with its secrets in clear and its storage's ``serial_number`` (the trap
    receivers' serial matching), without timestamps: one query, joined to the storages."""
    stmt = (sa.select(alert_sources, storages.c.serial_number)
            .join(storages, storages.c.id == alert_sources.c.storage_id)
            .order_by(alert_sources.c.storage_id))
    with read() as conn:
        rows = conn.execute(stmt).all()
    out = []
    for row in rows:
        item = {k: v for k, v in _source_dict(row, reveal=True).items() if k not in ("created_at", "updated_at")}
        item["serial_number"] = row.serial_number
        out.append(item)
    return out


# ``GET /v1/snmp-configs``: one row per storage, paged in storage id order (the primary key's); a sort by
# created_at (Delfin's default key, which sort_dir alone asks for) sorts the few hundred rows there are
SNMP_CONFIG_SORTS = ("storage_id", "created_at")
SNMP_CONFIG_LISTING = query.Listing(
    alert_sources, (alert_sources,), ("storage_id",), SNMP_CONFIG_SORTS, (("storage_id", "asc"),),
    indexed_sorts=("storage_id",), unique_key="storage_id",
)


@translate_errors
def alert_source_page(filters=None, limit=None, offset=None, marker=None, sort=None, with_count=False):
    """One page of snmp-configs without their secrets; ``marker`` is a storage id."""
    with read() as conn:
        return SNMP_CONFIG_LISTING.run(conn, lambda row: _source_dict(row, reveal=False), filters, limit, offset,
                                       marker, sort, with_count)


def rewrite_source_secrets(conn, transform) -> int:
    """In the caller's transaction, replace every stored snmp-config secret with ``transform(token)``
    (key rotation). :returns: the configs rewritten."""
    count = 0
    for row in conn.execute(sa.select(alert_sources).with_for_update()).all():
        values = {name: transform(getattr(row, name)) for name in SECRET_FIELDS if getattr(row, name)}
        if values:
            conn.execute(alert_sources.update().where(alert_sources.c.storage_id == row.storage_id)
                         .values(**values, updated_at=utcnow()))
            count += 1
    return count


# ---------------------------------------------------------------- alert sync (issue 14)

tasks = models.Task.__table__


@translate_errors
def task_create_alert_sync(storage_id: str, priority: str) -> tuple[dict, bool]:
    """Queue an alert sync of one storage, reusing its alert sync task that is still PENDING.

    :returns: ``(task, created)``. :raises StorageNotFound, StorageBeingDeleted:
    """
    now = utcnow()
    with write() as conn:
        row = schedules.lock_storage(conn, storage_id)
        if row.deleting:
            raise exception.StorageBeingDeleted(storage_id)
        pending = conn.execute(sa.select(tasks.c.id).where(
            tasks.c.storage_id == storage_id, tasks.c.type == TaskType.ALERT_SYNC,
            tasks.c.status == TaskStatus.PENDING)).first()
        if pending:
            task_id, created = pending.id, False
        else:
            task = task_values(TaskType.ALERT_SYNC, storage_id, priority, now)
            conn.execute(tasks.insert(), task)
            task_id, created = task["id"], True
        out = task_dict(conn.execute(sa.select(tasks).where(tasks.c.id == task_id)).one())
    return out, created


@translate_errors
def alert_sync_since(storage_id: str) -> datetime.datetime | None:
    """Where the next alert sync of the storage starts listing (UTC, aware), None for everything.

    None until an alert sync of the storage has COMPLETED. Then the earlier of: the oldest
    ``occur_time`` of its array alerts (trapped or synced) still open, so the sync sees them
    cleared on the array; and the newest ``occur_time`` of what alert syncs have listed (the
    alerts they stored, and those first seen before the latest completed one started). A trapped
    alert alone never moves the start: events whose traps were lost before it are still listed.
    """
    array_rows = (alerts.c.storage_id == storage_id) & (alerts.c.origin == "array")
    with read() as conn:
        last_sync = conn.execute(sa.select(tasks.c.started_at).where(
            tasks.c.storage_id == storage_id, tasks.c.type == TaskType.ALERT_SYNC,
            tasks.c.status == TaskStatus.COMPLETED, tasks.c.started_at.is_not(None))
            .order_by(tasks.c.finished_at.desc()).limit(1)).scalar_one_or_none()
        if last_sync is None:
            return None
        oldest_open = conn.execute(sa.select(sa.func.min(alerts.c.occur_time)).where(
            array_rows, alerts.c.state == "open")).scalar_one_or_none()
        covered = conn.execute(sa.select(sa.func.max(alerts.c.occur_time)).where(
            array_rows, (alerts.c.source == "sync") | (alerts.c.first_seen <= last_sync))).scalar_one_or_none()
    moments = [m for m in (oldest_open, covered) if m is not None]
    return min(moments).replace(tzinfo=datetime.UTC) if moments else None


@translate_errors
def alert_sync_apply(storage_id: str, task_id: str, owner: str | None, listed) -> dict:
    """Store what an alert sync listed (source ``sync``) and complete its task, in one transaction.

    The stored fingerprints of the storage's array alerts (source ``sync`` or ``trap``: one
    identity, so a trapped event listed now is that row, never a second) are read in one query;
    a listed alert that is new is inserted, one whose fingerprint changed is updated (an open one the array now
    reports cleared is counted ``cleared``, cleared by ``array``), an unchanged one is not
    written at all. Stored alerts the listing did not include are left as they are.

    :param listed: the sdk Alerts (or dicts of their fields) the driver listed.
    :returns: the task result ``{added, updated, cleared, unchanged, rows_written}``.
    :raises SyncAborted: the storage is gone or being deleted, or the task is no longer RUNNING
        for ``owner``; nothing is written.
    :raises StorageBackendError: the listing repeats a sequence number.
    """
    now = utcnow()
    counts = {"added": 0, "updated": 0, "cleared": 0, "unchanged": 0}
    inserts, updates, seen, changes = [], [], set(), []
    with write() as conn:
        # the storage row locked FOR UPDATE also keeps a trap of this storage from committing between the
        # read below and the inserts (its alert row's foreign key check takes a share lock on the same row;
        # SQLite has one writer at a time): a listed event is never inserted twice
        row = conn.execute(sa.select(storages.c.deleting).where(storages.c.id == storage_id)
                           .with_for_update()).first()
        if row is None or row.deleting:
            raise exception.SyncAborted(storage_id, "the storage was deleted")
        stored = {r.sequence_number: r for r in conn.execute(
            sa.select(alerts.c.id, alerts.c.sequence_number, alerts.c.fingerprint, alerts.c.state)
            .where(alerts.c.storage_id == storage_id, alerts.c.origin == "array"))}
        for alert in listed:
            values = _alert_values(alert)
            if values["sequence_number"] in seen:
                raise exception.StorageBackendError(
                    f"the array listed alert {values['sequence_number']} twice")
            seen.add(values["sequence_number"])
            fingerprint = _fingerprint(values)
            cleared = values.pop("cleared") or values["category"] == RECOVERY
            old = stored.get(values["sequence_number"])
            if old is not None and old.fingerprint == fingerprint:
                counts["unchanged"] += 1
                continue
            if old is None:
                counts["added"] += 1
                state = {"state": "cleared", "cleared_at": now, "cleared_by": "array"} if cleared else \
                    {"state": "open", "cleared_at": None, "cleared_by": None}
                inserts.append({**values, **state, "id": new_id(), "storage_id": storage_id, "source": "sync",
                                "origin": "array", "fingerprint": fingerprint, "first_seen": now, "last_seen": now,
                                "repeat_count": 1, "created_at": now, "updated_at": now})
                changes.append((inserts[-1]["id"], state["state"]))
                continue
            if cleared and old.state == "open":
                counts["cleared"] += 1
                state = {"state": "cleared", "cleared_at": now, "cleared_by": "array"}
            elif cleared:
                counts["updated"] += 1
                state = {}  # keeps who cleared it and when
            else:
                counts["updated"] += 1
                state = {"state": "open", "cleared_at": None, "cleared_by": None}
            updates.append((old.id, {**values, **state, "fingerprint": fingerprint, "last_seen": now,
                                     "updated_at": now}))
            if state.get("state", old.state) != old.state:
                changes.append((old.id, state["state"]))
        _write_sync_changes(conn, storage_id, inserts, updates)
        _queue_changes(conn, changes, now)
        result = {**counts, "rows_written": len(inserts) + len(updates)}
        owned = (tasks.c.id == task_id) & (tasks.c.status == TaskStatus.RUNNING)
        if owner is not None:
            owned = owned & (tasks.c.lease_owner == owner)
        done = conn.execute(tasks.update().where(owned).values(
            **finish_values(TaskStatus.COMPLETED, result, None, now, task_type=TaskType.ALERT_SYNC))).rowcount
        if done != 1:
            raise exception.SyncAborted(storage_id, "the task is no longer running for this task manager")
    return result


def _queue_changes(conn, changes: list[tuple[str, str]], now) -> None:
    """Queue the deliveries of ``(alert id, new state)`` pairs (new, cleared or reopened alerts)."""
    alert_outbox.queue(conn, [(i, alert_outbox.FIRING if state == "open" else alert_outbox.RESOLVED)
                              for i, state in changes], now)


def insert_rows(conn, inserts: list[dict], columns: list[str]) -> None:
    """New alert rows (dicts of at least ``columns``) as multi-row INSERTs (COPY on PostgreSQL), through
    :func:`bulk.insert_rows`; a batch's times are few distinct values, each formatted once."""
    stamp = [c for c in columns if isinstance(alerts.c[c].type, sa.DateTime)]
    rows, formatted = [], {None: None}
    for values in inserts:
        for c in stamp:
            value = values[c]
            text = formatted.get(value)
            if text is None and value is not None:
                text = formatted[value] = bulk.timestamp(conn, value)
            values[c] = text
        rows.append(tuple(values[c] for c in columns))
    bulk.insert_rows(conn, alerts, columns, rows)


def _write_sync_changes(conn, storage_id: str, inserts: list[dict], updates: list[tuple[str, dict]]) -> None:
    """An alert sync's writes in its transaction: the inventory rows they concern looked up in bulk,
    the new rows in multi-row INSERTs (COPY on PostgreSQL), the changed ones in one executemany
    UPDATE per set of columns."""
    link_resources(conn, storage_id, [*inserts, *(u for _, u in updates)])
    if inserts:
        insert_rows(conn, inserts, list(inserts[0]))
    groups: dict[tuple, list[dict]] = {}
    for row_id, values in updates:
        groups.setdefault(tuple(values), []).append({**values, "_row_id": row_id})
    for params in groups.values():
        # executemany: the SET clause is the parameters' own column keys
        conn.execute(alerts.update().where(alerts.c.id == sa.bindparam("_row_id")), params)


@translate_errors
def alerts_of_sequence(storage_id: str, sequence_number: str) -> list[dict]:
    """The storage's stored alerts (any source) with that sequence number.

    :raises StorageNotFound, StorageBeingDeleted: :raises AlertNotFound: none is stored."""
    with read() as conn:
        _check_storage(conn, storage_id)
        rows = conn.execute(sa.select(*ALERT_COLUMNS).where(
            alerts.c.storage_id == storage_id, alerts.c.sequence_number == sequence_number)
            .order_by(alerts.c.source)).all()
    if not rows:
        raise exception.AlertNotFound(sequence_number)
    return [_alert_dict(r) for r in rows]


@translate_errors
def alerts_clear_sequence(storage_id: str, sequence_number: str, by: str) -> list[dict]:
    """Mark the storage's open alerts (any source) with that sequence number cleared by ``by``;
    already cleared ones keep their first clearing. :returns: the rows. :raises AlertNotFound:"""
    now = utcnow()
    key = (alerts.c.storage_id == storage_id, alerts.c.sequence_number == sequence_number)
    with write() as conn:
        opened = conn.execute(sa.select(alerts.c.id).where(*key, alerts.c.state == "open")).scalars().all()
        if opened:
            conn.execute(alerts.update().where(alerts.c.id.in_(opened), alerts.c.state == "open").values(
                state="cleared", cleared_at=now, cleared_by=by, updated_at=now))
            _queue_changes(conn, [(i, "cleared") for i in opened], now)
        rows = conn.execute(sa.select(*ALERT_COLUMNS).where(*key).order_by(alerts.c.source)).all()
    if not rows:
        raise exception.AlertNotFound(sequence_number)
    return [_alert_dict(r) for r in rows]


# ---------------------------------------------------------------- platform alerts (issue 14)

@translate_errors
def sync_failures_in_a_row(storage_id: str, limit: int) -> int:
    """How many of the storage's latest ended syncs (COMPLETED or FAILED, newest first, at most
    ``limit``) FAILED before the newest COMPLETED one; read from the tasks table."""
    ended = (tasks.c.storage_id == storage_id) & (tasks.c.type == TaskType.SYNC) & \
        tasks.c.status.in_((TaskStatus.COMPLETED, TaskStatus.FAILED)) & tasks.c.finished_at.is_not(None)
    with read() as conn:
        statuses = conn.execute(sa.select(tasks.c.status).where(ended)
                                .order_by(tasks.c.finished_at.desc(), tasks.c.id.desc()).limit(limit)).scalars()
        count = 0
        for status in statuses:
            if status != TaskStatus.FAILED:
                break
            count += 1
    return count
