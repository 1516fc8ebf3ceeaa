"""SQL for storages, access info and tasks. Inventory writes live in ``inventory.py``.

Every public function returns plain dicts and runs in its own transaction.
"""

import dataclasses
import datetime
import json

import sqlalchemy as sa
from oslo_log import log as logging
from sqlalchemy import exc

from delfin_like import diff
from delfin_like.common import exception
from delfin_like.common.constants import Lane, SyncStatus, TaskStatus, TaskType
from delfin_like.conf import CONF
from delfin_like.db.sqlalchemy import alerts, dispatch, models, query, schedules
from delfin_like.db.sqlalchemy.engine import (  # noqa: F401 - re-exported through db.api
    configure,
    dispose,
    get_engine,
    read,
    translate_errors,
    write,
)
from delfin_like.db.sqlalchemy.inventory import (  # noqa: F401 - re-exported through db.api
    RESOURCE_TABLES,
    resource_fingerprints,
    resource_get,
    resource_list,
    resource_rows,
    sync_apply,
)
from delfin_like.db.sqlalchemy.utils import dumps, finish_values, new_id, task_dict, task_values, utcnow

LOG = logging.getLogger(__name__)

storages = models.Storage.__table__
access_infos = models.AccessInfo.__table__
endpoints_t = models.StorageEndpoint.__table__
tasks = models.Task.__table__

_STORAGE_HIDDEN = {"fingerprint", "deleting", "last_sync_task_id", "capabilities", "synced_at"}
STORAGE_COLUMNS = [c for c in storages.c if c.name not in _STORAGE_HIDDEN]
STORAGE_FILTERS = ("name", "vendor", "model", "serial_number", "status", "firmware_version", "location")
STORAGE_SORTS = ("id", "name", "vendor", "model", "serial_number", "status", "created_at",
                 "total_capacity", "used_capacity", "free_capacity")
TASK_FILTERS = ("storage_id", "type", "status", "priority", "lease_owner")
TASK_SORTS = ("id", "created_at", "updated_at", "status", "type", "priority", "attempts")
TASK_LISTING = query.Listing(
    tasks, (tasks,), TASK_FILTERS, TASK_SORTS, (("created_at", "desc"),), indexed_sorts=("created_at",)
)


@translate_errors
def ping() -> None:
    with read() as conn:
        conn.execute(sa.text("SELECT 1"))


# ---------------------------------------------------------------- storages

def _sync_state(row) -> dict:
    if row.deleting:
        return {"sync_status": SyncStatus.DELETING, "sync_error": None}
    status = row.task_status
    if status in TaskStatus.ACTIVE or status is None:
        return {"sync_status": SyncStatus.SYNCING if status else SyncStatus.SYNCED, "sync_error": None}
    if status == TaskStatus.COMPLETED:
        return {"sync_status": SyncStatus.SYNCED, "sync_error": None}
    return {"sync_status": SyncStatus.FAILED, "sync_error": row.task_error or status}


def _storage_select():
    joined = storages.outerjoin(tasks, tasks.c.id == storages.c.last_sync_task_id)
    return joined, [
        *STORAGE_COLUMNS,
        storages.c.deleting,
        storages.c.last_sync_task_id,
        tasks.c.status.label("task_status"),
        tasks.c.error.label("task_error"),
    ]


def _storage_dict(row) -> dict:
    out = {c.name: row._mapping[c.name] for c in STORAGE_COLUMNS}
    out.update(_sync_state(row))
    out["last_sync_task_id"] = row.last_sync_task_id
    return out


def _fetch_storage(conn, storage_id: str):
    joined, cols = _storage_select()
    return conn.execute(sa.select(*cols).select_from(joined).where(storages.c.id == storage_id)).first()


@translate_errors
def storage_get(storage_id: str) -> dict:
    with read() as conn:
        row = _fetch_storage(conn, storage_id)
    if row is None:
        raise exception.StorageNotFound(storage_id)
    return _storage_dict(row)


STORAGE_LISTING = query.Listing(
    storages, tuple(_storage_select()[1]), STORAGE_FILTERS, STORAGE_SORTS, (("created_at", "asc"),),
    indexed_sorts=("created_at", "name"), sort_ties=models.SORT_TIES, from_clause=_storage_select()[0],
)


@translate_errors
def storage_list(filters=None, limit=None, offset=None, marker=None, sort=None, with_count=False) -> list[dict]:
    with read() as conn:
        return STORAGE_LISTING.run(conn, _storage_dict, filters, limit, offset, marker, sort, with_count)


def _storage_values(storage) -> dict:
    values = dataclasses.asdict(storage)
    values["fingerprint"] = diff.fingerprint(storage)
    return values


def _claim_endpoints(conn, storage_id: str, endpoints) -> None:
    """Record ``[(protocol, host, port)]`` for the storage; StorageAlreadyExists if one is taken.

    The check gives the precise message; the unique constraint still guards the race.
    """
    for _, host, port in endpoints:
        found = conn.execute(
            sa.select(endpoints_t.c.storage_id).where(endpoints_t.c.host == host, endpoints_t.c.port == port)
        ).first()
        if found:
            raise exception.StorageAlreadyExists("host and port")
    if endpoints:
        conn.execute(endpoints_t.insert(), [
            {"storage_id": storage_id, "protocol": p, "host": h, "port": int(port)} for p, h, port in endpoints
        ])


@translate_errors
def storage_register(storage, access_info: dict, endpoints, priority: str = Lane.NORMAL,
                     capabilities: dict | None = None, sync_policy: dict | None = None, alert_sync: bool = False):
    """Insert a storage, its access info and endpoints, its schedules and a PENDING sync task, atomically.

    :param storage: the sdk Storage the registration probe returned.
    :param access_info: vendor, model, rest/ssh/snmp (secrets already encrypted), extra_attributes.
    :param endpoints: ``[(protocol, host, port)]``, unique across storages.
    :param sync_policy: ``{"interval", "enabled", "next_sync_at"}`` (and ``"alert_sync"``, see
        ``schedules.add_initial``) resolved by the caller; None: no schedule.
    :param alert_sync: also queue a PENDING alert sync task (on ``priority``); ``task_create_alert_sync``
        returns it afterwards (it reuses a PENDING one).
    :returns: ``(storage dict, task dict)``.
    :raises StorageAlreadyExists: same serial number, or same host and port.
    """
    now = utcnow()
    storage_id = new_id()
    task = task_values(TaskType.SYNC, storage_id, priority, now)
    values = _storage_values(storage)
    values.update(id=storage_id, created_at=now, updated_at=now, deleting=False, last_sync_task_id=task["id"],
                  capabilities=dumps(capabilities))
    try:
        with write() as conn:
            found = conn.execute(
                sa.select(storages.c.id).where(storages.c.serial_number == storage.serial_number)
            ).first()
            if found:
                raise exception.StorageAlreadyExists("serial number")
            conn.execute(storages.insert(), values)
            _claim_endpoints(conn, storage_id, endpoints)
            conn.execute(access_infos.insert(), {
                "storage_id": storage_id,
                "vendor": access_info["vendor"],
                "model": access_info["model"],
                "rest": dumps(access_info.get("rest")),
                "ssh": dumps(access_info.get("ssh")),
                "snmp": dumps(access_info.get("snmp")),
                "extra_attributes": dumps(access_info.get("extra_attributes") or {}),
                "created_at": now,
                "updated_at": now,
            })
            conn.execute(tasks.insert(), task)
            if alert_sync:
                conn.execute(tasks.insert(), task_values(TaskType.ALERT_SYNC, storage_id, priority, now))
            schedules.add_initial(conn, storage_id, sync_policy, now)
    except exc.IntegrityError as e:
        # a concurrent registration won the race the checks above could not see
        LOG.info("Registration refused by a unique constraint: %s", str(e.orig).splitlines()[0])
        raise exception.StorageAlreadyExists("serial number or host and port")
    return storage_get(storage_id), task_get(task["id"])


@translate_errors
def storage_capabilities_get(storage_id: str) -> dict:
    """``{"storage_id", "capabilities": dict | None, "synced_at"}``; StorageNotFound if absent."""
    with read() as conn:
        row = conn.execute(
            sa.select(storages.c.capabilities, storages.c.synced_at, storages.c.updated_at)
            .where(storages.c.id == storage_id)
        ).first()
    if row is None:
        raise exception.StorageNotFound(storage_id)
    return {
        "storage_id": storage_id,
        "capabilities": json.loads(row.capabilities) if row.capabilities else None,
        "updated_at": row.synced_at or row.updated_at,
    }


@translate_errors
def storage_mark_deleting(storage_id: str) -> dict:
    """Flag the storage as being deleted and queue its remove task (idempotent)."""
    now = utcnow()
    with write() as conn:
        schedules.lock_storage(conn, storage_id)
        existing = conn.execute(
            sa.select(tasks.c.id).where(
                tasks.c.storage_id == storage_id, tasks.c.type == TaskType.REMOVE,
                tasks.c.status.in_(TaskStatus.ACTIVE),
            )
        ).first()
        if existing:
            task_id = existing.id
        else:
            task = task_values(TaskType.REMOVE, storage_id, Lane.NORMAL, now)
            conn.execute(tasks.insert(), task)
            task_id = task["id"]
        conn.execute(storages.update().where(storages.c.id == storage_id).values(deleting=True, updated_at=now))
        # nothing is scheduled for a storage that is going away
        schedules.delete_for_storage(conn, storage_id)
        # queued syncs (and alert syncs) of a storage that is going away have nothing left to do
        conn.execute(
            tasks.update()
            .where(tasks.c.storage_id == storage_id, tasks.c.type.in_((TaskType.SYNC, TaskType.ALERT_SYNC)),
                   tasks.c.status == TaskStatus.PENDING)
            .values(status=TaskStatus.CANCELLED, error="storage deleted", finished_at=now, updated_at=now)
        )
    return task_get(task_id)


@translate_errors
def storage_remove(storage_id: str) -> dict:
    """Delete the storage and every row of it in one transaction; counts per table."""
    counts = {}
    with write() as conn:
        for resource_type, table in RESOURCE_TABLES.items():
            counts[resource_type] = conn.execute(table.delete().where(table.c.storage_id == storage_id)).rowcount
        conn.execute(endpoints_t.delete().where(endpoints_t.c.storage_id == storage_id))
        conn.execute(access_infos.delete().where(access_infos.c.storage_id == storage_id))
        counts["storages"] = conn.execute(storages.delete().where(storages.c.id == storage_id)).rowcount
    return counts


@translate_errors
def storage_unregister(storage_id: str) -> None:
    """Undo a registration whose sync could not be dispatched: the storage, its rows
    and its task records go, in one transaction, leaving nothing behind."""
    with write() as conn:
        conn.execute(tasks.delete().where(tasks.c.storage_id == storage_id))
        conn.execute(storages.delete().where(storages.c.id == storage_id))  # cascades to its rows


ACCESS_INFO_FILTERS = ("storage_id", "vendor", "model")
ACCESS_INFO_SORTS = ("storage_id", "vendor", "model", "created_at")
ACCESS_INFO_LISTING = query.Listing(
    access_infos, (access_infos,), ACCESS_INFO_FILTERS, ACCESS_INFO_SORTS, (("created_at", "asc"),),
    indexed_sorts=("created_at",), unique_key="storage_id",
)


def _access_info_dict(row) -> dict:
    out = {"storage_id": row.storage_id, "vendor": row.vendor, "model": row.model,
           "created_at": row.created_at, "updated_at": row.updated_at}
    for key in ("rest", "ssh", "snmp", "extra_attributes"):
        value = getattr(row, key)
        out[key] = json.loads(value) if value else None
    out["extra_attributes"] = out["extra_attributes"] or {}
    return out


@translate_errors
def access_info_get(storage_id: str) -> dict:
    """The stored access info (secrets as Fernet tokens); StorageNotFound if absent."""
    with read() as conn:
        row = conn.execute(sa.select(access_infos).where(access_infos.c.storage_id == storage_id)).first()
    if row is None:
        raise exception.StorageNotFound(storage_id)
    return _access_info_dict(row)


@translate_errors
def access_info_list(filters=None, limit=None, offset=None, marker=None, sort=None, with_count=False) -> list[dict]:
    """Stored access infos (secrets as tokens); ``marker`` is a storage id."""
    with read() as conn:
        return ACCESS_INFO_LISTING.run(conn, _access_info_dict, filters, limit, offset, marker, sort, with_count)


@translate_errors
def access_info_replace(storage_id: str, access_info: dict, endpoints) -> dict:
    """Replace a storage's access blocks, extra attributes and endpoints in one transaction.

    :param access_info: ``rest``/``ssh``/``snmp`` (secrets encrypted) and ``extra_attributes``.
    :param endpoints: ``[(protocol, host, port)]``, unique across storages.
    :raises StorageNotFound, StorageBeingDeleted, StorageAlreadyExists:
    """
    now = utcnow()
    try:
        with write() as conn:
            if schedules.lock_storage(conn, storage_id).deleting:
                raise exception.StorageBeingDeleted(storage_id)
            conn.execute(endpoints_t.delete().where(endpoints_t.c.storage_id == storage_id))
            _claim_endpoints(conn, storage_id, endpoints)
            conn.execute(access_infos.update().where(access_infos.c.storage_id == storage_id).values(
                rest=dumps(access_info.get("rest")),
                ssh=dumps(access_info.get("ssh")),
                snmp=dumps(access_info.get("snmp")),
                extra_attributes=dumps(access_info.get("extra_attributes") or {}),
                updated_at=now,
            ))
    except exc.IntegrityError as e:
        LOG.info("Access info change refused by a unique constraint: %s", str(e.orig).splitlines()[0])
        raise exception.StorageAlreadyExists("host and port")
    return access_info_get(storage_id)


@translate_errors
def access_info_update(storage_id: str, extra_attributes: dict) -> dict:
    """Replace the ``extra_attributes`` a storage's driver is built with; returns the stored access info."""
    with write() as conn:
        changed = conn.execute(
            access_infos.update()
            .where(access_infos.c.storage_id == storage_id)
            .values(extra_attributes=dumps(extra_attributes), updated_at=utcnow())
        ).rowcount
    if not changed:
        raise exception.StorageNotFound(storage_id)
    return access_info_get(storage_id)


def _rewrite_access_infos(conn, transform) -> int:
    count = 0
    for row in conn.execute(sa.select(access_infos).with_for_update()).all():
        values = {}
        for key in ("rest", "ssh", "snmp"):
            block = getattr(row, key)
            if block:
                values[key] = dumps(transform(json.loads(block)))
        if values:
            conn.execute(access_infos.update().where(access_infos.c.storage_id == row.storage_id)
                         .values(**values, updated_at=utcnow()))
            count += 1
    return count


@translate_errors
def access_info_rewrite_all(transform) -> int:
    """Rewrite every stored access block with ``transform(block) -> block`` in one
    transaction (key rotation: decrypt with any key, encrypt with the first).

    :returns: the number of storages rewritten. If ``transform`` raises, nothing changes.
    """
    with write() as conn:
        return _rewrite_access_infos(conn, transform)


@translate_errors
def secrets_rewrite_all(block_transform, secret_transform) -> dict:
    """Rewrite every stored secret in one transaction: the access blocks with
    ``block_transform(block) -> block`` and each snmp-config secret (community, auth and
    privacy keys) with ``secret_transform(token) -> token``. Key rotation uses it so that no
    secret is left under a key about to be removed. If a transform raises, nothing changes.

    :returns: ``{"storages": n, "snmp_configs": m}``, the rows rewritten.
    """
    with write() as conn:
        return {"storages": _rewrite_access_infos(conn, block_transform),
                "snmp_configs": alerts.rewrite_source_secrets(conn, secret_transform)}


# ---------------------------------------------------------------- tasks

@translate_errors
def task_create(type: str, storage_id: str | None, priority: str) -> dict:  # noqa: A002 - Delfin's name
    values = task_values(type, storage_id, priority, utcnow())
    with write() as conn:
        conn.execute(tasks.insert(), values)
    return task_get(values["id"])


@translate_errors
def task_create_sync(storage_id: str, priority: str) -> tuple[dict, bool]:
    """Queue a sync of one storage, reusing a sync task that is still PENDING.

    :returns: ``(task, created)``.
    :raises StorageNotFound, StorageBeingDeleted:
    """
    now = utcnow()
    with write() as conn:
        row = schedules.lock_storage(conn, storage_id)
        if row.deleting:
            raise exception.StorageBeingDeleted(storage_id)
        pending = conn.execute(
            sa.select(tasks.c.id).where(
                tasks.c.storage_id == storage_id, tasks.c.type == TaskType.SYNC,
                tasks.c.status == TaskStatus.PENDING,
            )
        ).first()
        if pending:
            task_id, created = pending.id, False
        else:
            task = task_values(TaskType.SYNC, storage_id, priority, now)
            conn.execute(tasks.insert(), task)
            task_id, created = task["id"], True
            conn.execute(storages.update().where(storages.c.id == storage_id).values(last_sync_task_id=task_id))
    return task_get(task_id), created


@translate_errors
def task_create_syncs(priority: str, batch: int = 500) -> list[tuple[dict, bool]]:
    """Queue a sync of every storage not being deleted, as :func:`task_create_sync` would one by one.

    Storages go in batches of ``batch`` (by id), one transaction each: the rows are
    locked in id order, the PENDING sync tasks they already have are reused, the
    others are inserted with one statement: a transaction per ``batch`` storages,
    not one per storage (1,000 storages took 17 s to queue that way).

    :returns: ``(task, created)`` per storage, in id order.
    """
    out: list[tuple[dict, bool]] = []
    after = ""
    while True:
        now = utcnow()
        with write() as conn:
            rows = conn.execute(
                sa.select(storages.c.id).where(storages.c.deleting.is_(False), storages.c.id > after)
                .order_by(storages.c.id).limit(batch).with_for_update()
            ).all()
            if not rows:
                break
            ids = [r.id for r in rows]
            after = ids[-1]
            pending = dict(conn.execute(
                sa.select(tasks.c.storage_id, tasks.c.id).where(
                    tasks.c.storage_id.in_(ids), tasks.c.type == TaskType.SYNC, tasks.c.status == TaskStatus.PENDING,
                )
            ).all())
            new, task_ids = [], []
            for sid in ids:
                if sid not in pending:
                    new.append(task_values(TaskType.SYNC, sid, priority, now))
                    pending[sid] = new[-1]["id"]
                task_ids.append(pending[sid])
            if new:
                conn.execute(tasks.insert(), new)
                conn.execute(
                    storages.update().where(storages.c.id == sa.bindparam("sid"))
                    .values(last_sync_task_id=sa.bindparam("tid")),
                    [{"sid": t["storage_id"], "tid": t["id"]} for t in new],
                )
            created = {t["id"] for t in new}
            found = {r.id: task_dict(r) for r in conn.execute(sa.select(tasks).where(tasks.c.id.in_(task_ids)))}
        out.extend((found[tid], tid in created) for tid in task_ids)
        if len(rows) < batch:
            break
    return out


@translate_errors
def task_get(task_id: str) -> dict:
    with read() as conn:
        row = conn.execute(sa.select(tasks).where(tasks.c.id == task_id)).first()
    if row is None:
        raise exception.TaskNotFound(task_id)
    return task_dict(row)


@translate_errors
def task_state(task_id: str) -> dict:
    """``{"status", "lease_owner"}`` of a task: one primary-key read (a job's cancellation check).

    :raises TaskNotFound:
    """
    with read() as conn:
        row = conn.execute(sa.select(tasks.c.status, tasks.c.lease_owner).where(tasks.c.id == task_id)).first()
    if row is None:
        raise exception.TaskNotFound(task_id)
    return {"status": row.status, "lease_owner": row.lease_owner}


@translate_errors
def task_list(filters=None, limit=None, offset=None, marker=None, sort=None, with_count=False) -> list[dict]:
    with read() as conn:
        return TASK_LISTING.run(conn, task_dict, filters, limit, offset, marker, sort, with_count)


@translate_errors
def task_claim(task_id: str, owner: str, lease_seconds: int) -> dict | None:
    """Atomically move a PENDING task to RUNNING for ``owner``; None if someone else has it."""
    now = utcnow()
    with write() as conn:
        claimed = conn.execute(
            tasks.update()
            .where(tasks.c.id == task_id, tasks.c.status == TaskStatus.PENDING)
            .values(
                status=TaskStatus.RUNNING, lease_owner=owner,
                lease_expires_at=now + datetime.timedelta(seconds=lease_seconds),
                attempts=tasks.c.attempts + 1, started_at=now, updated_at=now, not_before=None, progress=None,
                lock_acquired_at=None,
            )
        ).rowcount
    return task_get(task_id) if claimed == 1 else None


@translate_errors
def task_progress_set(task_id: str, owner: str, progress: dict) -> bool:
    """Record how far a RUNNING task held by ``owner`` got; False if it is no longer ours."""
    with write() as conn:
        return conn.execute(
            tasks.update()
            .where(tasks.c.id == task_id, tasks.c.lease_owner == owner, tasks.c.status == TaskStatus.RUNNING)
            .values(progress=dumps(progress))
        ).rowcount == 1


@translate_errors
def task_lock_acquired(task_id: str, owner: str) -> bool:
    """Record that the RUNNING task held by ``owner`` took its storage lock now; False if not ours."""
    with write() as conn:
        return conn.execute(
            tasks.update()
            .where(tasks.c.id == task_id, tasks.c.lease_owner == owner, tasks.c.status == TaskStatus.RUNNING)
            .values(lock_acquired_at=utcnow())
        ).rowcount == 1


@translate_errors
def task_renew_leases(owner: str, task_ids: list[str], lease_seconds: int) -> int:
    if not task_ids:
        return 0
    now = utcnow()
    with write() as conn:
        return conn.execute(
            tasks.update()
            .where(tasks.c.id.in_(task_ids), tasks.c.lease_owner == owner, tasks.c.status == TaskStatus.RUNNING)
            .values(lease_expires_at=now + datetime.timedelta(seconds=lease_seconds), updated_at=now)
        ).rowcount


@translate_errors
def task_finish(task_id: str, status: str, result: dict | None = None, error: str | None = None,
                owner: str | None = None) -> bool:
    """End a task. With ``owner`` it ends only a RUNNING task that owner holds; without,
    any RUNNING task, or a PENDING one being CANCELLED or FAILED (e.g. it could not be
    dispatched). Returns whether it changed."""
    if status not in TaskStatus.FINISHED:
        raise ValueError(f"not a final status: {status}")
    running = tasks.c.status == TaskStatus.RUNNING
    if owner is not None:
        running = sa.and_(running, tasks.c.lease_owner == owner)
    allowed = running
    if owner is None and status in (TaskStatus.CANCELLED, TaskStatus.FAILED):
        # only the API ends a PENDING task; a worker may end only what it holds
        allowed = sa.or_(running, tasks.c.status == TaskStatus.PENDING)
    with write() as conn:
        values = finish_values(status, result, error, utcnow())
        changed = conn.execute(tasks.update().where(tasks.c.id == task_id, allowed).values(**values)).rowcount
    return changed == 1


@translate_errors
def task_cancel(task_id: str) -> dict:
    """Cancel a PENDING or RUNNING sync or alert sync task; returns the task.

    A PENDING task ends at once. A RUNNING one ends too: its worker finds the task
    no longer its own when it comes to write, and writes nothing (sync_apply, alert_sync_apply).
    :raises TaskNotFound, TaskNotCancellable: finished already, or a remove task
        (a half-cancelled removal would leave the storage stuck in DELETING).
    """
    now = utcnow()
    with write() as conn:
        row = conn.execute(sa.select(tasks.c.status, tasks.c.type).where(tasks.c.id == task_id)
                           .with_for_update()).first()
        if row is None:
            raise exception.TaskNotFound(task_id)
        if row.type not in (TaskType.SYNC, TaskType.ALERT_SYNC):
            raise exception.TaskNotCancellable(task_id, f"a {row.type} task cannot be cancelled")
        if row.status not in TaskStatus.ACTIVE:
            raise exception.TaskNotCancellable(task_id, f"it is already {row.status}")
        conn.execute(tasks.update().where(tasks.c.id == task_id).values(
            **finish_values(TaskStatus.CANCELLED, None, "cancelled by request", now)))
    return task_get(task_id)


@translate_errors
def task_release(task_id: str, owner: str, error: str, max_attempts: int,
                 backoff: float | None = None, spent: bool = True) -> str | None:
    """Hand a RUNNING task back: PENDING for another attempt, or FAILED (with ``error``) once
    ``max_attempts`` are spent.

    :param backoff: seconds before the scheduler casts it again (``not_before``); default
        ``[task_manager] retry_backoff`` doubled per attempt made, at most ``retry_backoff_max``.
        A direct cast (a stopping task manager hands a task on) is not held back.
    :param spent: False when the attempt was cut short through no fault of the task (its task
        manager is stopping): the attempt is given back and the task is PENDING whatever its count,
        so rolling restarts never fail a task.
    :returns: the new status, or None if ``owner`` no longer held the task.
    """
    now = utcnow()
    with write() as conn:
        row = conn.execute(
            sa.select(tasks.c.attempts).where(
                tasks.c.id == task_id, tasks.c.lease_owner == owner, tasks.c.status == TaskStatus.RUNNING
            ).with_for_update()
        ).first()
        if row is None:
            return None
        if spent and row.attempts >= max_attempts:
            values = finish_values(TaskStatus.FAILED, None, error, now)
        else:
            if backoff is None:
                backoff = dispatch.retry_delay(row.attempts, CONF.task_manager.retry_backoff,
                                               CONF.task_manager.retry_backoff_max)
            values = {"status": TaskStatus.PENDING, "error": error, "lease_owner": None,
                      "lease_expires_at": None, "updated_at": now, "progress": None,
                      "not_before": now + datetime.timedelta(seconds=backoff)}
            if not spent:
                values["attempts"] = max(0, row.attempts - 1)
        conn.execute(tasks.update().where(tasks.c.id == task_id).values(**values))
    return values["status"]


def listings() -> dict[str, query.Listing]:
    """Every list route's query declaration, keyed as its list body is (``storages``, ``volumes``, ...)."""
    from delfin_like.db.sqlalchemy import alerts, inventory, jobs, members

    return {
        "storages": STORAGE_LISTING,
        "access_infos": ACCESS_INFO_LISTING,
        **inventory.LISTINGS,
        "tasks": TASK_LISTING,
        "jobs": jobs.JOB_LISTING,
        "task_managers": members.TASK_MANAGER_LISTING,
        "alerts": alerts.ALERT_LISTING,
        "snmp_configs": alerts.SNMP_CONFIG_LISTING,
    }
