"""Inventory rows (pools, volumes): fingerprints, bulk change sets, listing.

A sync reads ``native_id -> (row id, fingerprint)`` for a storage, lets the
pure ``diff`` module decide what changed, then :func:`sync_apply` writes only
those rows, in batches, inside one transaction that also completes the task.
Rows are built from sdk models batch by batch, never as ORM objects.
"""

import itertools
import operator

import sqlalchemy as sa
from oslo_log import log as logging

from delfin_like import diff
from delfin_like.common import exception
from delfin_like.common.constants import TaskStatus, TaskType
from delfin_like.conf import CONF
from delfin_like.db.sqlalchemy import bulk, models, query
from delfin_like.db.sqlalchemy.engine import read, translate_errors, write
from delfin_like.db.sqlalchemy.utils import dumps, finish_values, new_ids, utcnow
from delfin_like.sdk import models as sdk_models

LOG = logging.getLogger(__name__)

storages = models.Storage.__table__
tasks = models.Task.__table__

RESOURCE_TABLES: dict[str, sa.Table] = {
    "storage_pools": models.StoragePool.__table__,
    "volumes": models.Volume.__table__,
    "controllers": models.Controller.__table__,
    "ports": models.Port.__table__,
    "disks": models.Disk.__table__,
}
NOT_FOUND = {
    "storage_pools": exception.StoragePoolNotFound,
    "volumes": exception.VolumeNotFound,
    "controllers": exception.ControllerNotFound,
    "ports": exception.PortNotFound,
    "disks": exception.DiskNotFound,
}
_HIDDEN = {"fingerprint"}
_NON_FILTERABLE = {"created_at", "updated_at", "fingerprint", "description"}


def _table(resource_type: str) -> sa.Table:
    try:
        return RESOURCE_TABLES[resource_type]
    except KeyError:
        raise ValueError(f"unknown resource type {resource_type!r}")


def visible_columns(table: sa.Table) -> list[sa.Column]:
    return [c for c in table.c if c.name not in _HIDDEN]


def filter_keys(table: sa.Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.c if c.name not in _NON_FILTERABLE)


def sort_keys(table: sa.Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.c if not c.nullable and c.name not in _HIDDEN)


LISTINGS: dict[str, query.Listing] = {
    resource_type: query.Listing(
        table, tuple(visible_columns(table)), filter_keys(table), sort_keys(table), (("created_at", "asc"),),
        indexed_sorts=("created_at", "name"), sort_ties=models.SORT_TIES,
    )
    for resource_type, table in RESOURCE_TABLES.items()
}


def _row_dict(row) -> dict:
    return dict(row._mapping)


@translate_errors
def resource_fingerprints(storage_id: str, resource_type: str) -> dict[str, tuple[str, str]]:
    """``native_id -> (row id, fingerprint)`` of every stored row of one type for a storage."""
    table = _table(resource_type)
    native = table.c[sdk_models.RESOURCE_MODELS[resource_type].NATIVE_ID]
    stmt = sa.select(native, table.c.id, table.c.fingerprint).where(table.c.storage_id == storage_id)
    with read() as conn:
        # stream the rows (a server-side cursor where the driver has one) instead of
        # buffering a million Row objects next to the mapping built from them
        result = conn.execution_options(stream_results=True, yield_per=10_000).execute(stmt)
        return {n: (i, f) for n, i, f in result}


def _batched(items, size):
    it = iter(items)
    while batch := list(itertools.islice(it, size)):
        yield batch


def _apply_change_set(conn, storage_id: str, changes: diff.ChangeSet, now) -> int:
    table = _table(changes.resource_type)
    fields = sdk_models.field_names(sdk_models.RESOURCE_MODELS[changes.resource_type])
    getter = operator.attrgetter(*fields)
    size = CONF.database.write_batch_size
    written = 0

    def _values(resource):
        # the sync's spool already holds the column values as a tuple; plain lists hold models
        return resource if type(resource) is tuple else getter(resource)

    if changes.added:
        columns = [*fields, "id", "storage_id", "fingerprint", "created_at", "updated_at"]
        stamp = bulk.timestamp(conn, now)
        for batch in _batched(changes.added, size):
            ids = new_ids(len(batch))
            rows = [
                (*_values(resource), row_id, storage_id, fp, stamp, stamp)
                for (resource, fp), row_id in zip(batch, ids, strict=True)
            ]
            bulk.insert_rows(conn, table, columns, rows)
            written += len(rows)

    if changes.updated:
        stmt = (
            table.update()
            .where(table.c.id == sa.bindparam("b_id"))
            .values({f: sa.bindparam(f) for f in (*fields, "fingerprint", "updated_at")})
        )
        for batch in _batched(changes.updated, size):
            rows = []
            for row_id, resource, fp in batch:
                row = dict(zip(fields, _values(resource), strict=True))
                row.update(b_id=row_id, fingerprint=fp, updated_at=now)
                rows.append(row)
            conn.execute(stmt, rows)
            written += len(rows)

    for batch in _batched(changes.deleted, 1000):
        conn.execute(table.delete().where(table.c.id.in_(batch)))
        written += len(batch)
    return written


@translate_errors
def sync_apply(storage_id: str, task_id: str, owner: str | None, storage, change_sets,
               capabilities: dict | None = None) -> dict:
    """Write a sync's changes and complete its task, all in one transaction.

    :param storage: the sdk Storage from the driver; its row is updated only if it changed.
    :param change_sets: ``diff.ChangeSet`` per resource type.
    :param capabilities: what the driver can collect; stored when it changed.
    :returns: the task result: counts per resource type and ``rows_written``.
    :raises SyncAborted: the storage is gone or being deleted, or the task is no longer
        RUNNING for ``owner`` (cancelled, or its lease was lost); nothing is written.
    """
    now = utcnow()
    result: dict = {}
    rows_written = 0
    with write() as conn:
        row = conn.execute(
            sa.select(storages.c.deleting, storages.c.fingerprint, storages.c.capabilities)
            .where(storages.c.id == storage_id)
            .with_for_update()
        ).first()
        if row is None or row.deleting:
            raise exception.SyncAborted(storage_id, "the storage was deleted")
        storage_fp = diff.fingerprint(storage)
        values = {"synced_at": now}
        if storage_fp != row.fingerprint:
            values.update(
                {f: getattr(storage, f) for f in sdk_models.field_names(type(storage)) if f != "serial_number"},
                fingerprint=storage_fp, updated_at=now,
            )
            rows_written += 1
        if capabilities is not None and dumps(capabilities) != row.capabilities:
            values["capabilities"] = dumps(capabilities)
        conn.execute(storages.update().where(storages.c.id == storage_id).values(**values))
        result["storage"] = {"updated": int(storage_fp != row.fingerprint)}

        for changes in change_sets:
            rows_written += _apply_change_set(conn, storage_id, changes, now)
            result[changes.resource_type] = changes.counts()
        result["rows_written"] = rows_written

        owned = (tasks.c.id == task_id) & (tasks.c.status == TaskStatus.RUNNING)
        if owner is not None:
            owned = owned & (tasks.c.lease_owner == owner)
        done = conn.execute(
            tasks.update().where(owned).values(
                **finish_values(TaskStatus.COMPLETED, result, None, now, task_type=TaskType.SYNC))
        ).rowcount
        if done != 1:
            # raising rolls the whole change set back
            raise exception.SyncAborted(storage_id, "the task is no longer running for this task manager")
    return result


@translate_errors
def resource_get(resource_type: str, resource_id: str) -> dict:
    table = _table(resource_type)
    with read() as conn:
        row = conn.execute(sa.select(*visible_columns(table)).where(table.c.id == resource_id)).first()
    if row is None:
        raise NOT_FOUND[resource_type](resource_id)
    return dict(row._mapping)


@translate_errors
def resource_list(
    resource_type: str, filters=None, limit=None, offset=None, marker=None, sort=None, with_count=False
) -> list[dict]:
    _table(resource_type)  # ValueError for an unknown type
    with read() as conn:
        return LISTINGS[resource_type].run(conn, _row_dict, filters, limit, offset, marker, sort, with_count)


@translate_errors
def resource_rows(
    resource_type: str, fields, filters=None, limit=None, offset=None, marker=None, sort=None, with_count=False
) -> query.Page:
    """One list page like :func:`resource_list`, each row a tuple of ``fields`` in that order.

    What a response is built from without a mapping per row in between (``GET /v1/volumes``).
    :param fields: names of visible columns.
    :raises ValueError: an unknown resource type or field. :raises InvalidInput: as resource_list.
    """
    visible = {c.name: c for c in visible_columns(_table(resource_type))}
    unknown = [f for f in fields if f not in visible]
    if unknown:
        raise ValueError(f"{resource_type} has no column {', '.join(unknown)}")
    columns = tuple(visible[f] for f in fields)
    with read() as conn:
        return LISTINGS[resource_type].run(
            conn, tuple, filters, limit, offset, marker, sort, with_count, columns=columns)
