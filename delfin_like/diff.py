"""Pure change computation between what the database holds and what a driver returned.

No I/O, no SQLAlchemy. The database side is summarised as a mapping
``native_id -> (row_id, fingerprint)``; the driver side is any iterable of
sdk models (generators welcome). Only the rows that must be written are kept,
so a no-change re-sync of 100k volumes holds nothing but the mapping; the
rows to add or update go to a ``sink`` the caller chooses (the sync job's is
a :class:`delfin_like.spool.RowSpool`, a temporary file past a few thousand
rows), so neither does an initial one.
"""

import dataclasses
import hashlib
import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from delfin_like.sdk import models

_GETTERS: dict[type, operator.attrgetter] = {}


class DuplicateNativeId(ValueError):
    """The driver returned two resources with the same native id."""

    def __init__(self, resource_type: str, native_id: str):
        super().__init__(f"driver returned {resource_type} {native_id!r} more than once")
        self.resource_type = resource_type
        self.native_id = native_id


def _getter(model_cls: type) -> operator.attrgetter:
    getter = _GETTERS.get(model_cls)
    if getter is None:
        getter = operator.attrgetter(*models.field_names(model_cls))
        _GETTERS[model_cls] = getter
    return getter


def fingerprint(resource: Any) -> str:
    """A 32-hex-digit hash of every field of ``resource`` (an sdk model)."""
    values = _getter(type(resource))(resource)
    return hashlib.blake2b(repr(values).encode(), digest_size=16).hexdigest()


@dataclasses.dataclass
class ChangeSet:
    """What one resource type needs written to match the driver's snapshot."""

    resource_type: str
    # lists, or whatever compute_changes' ``sink`` made (the sync passes delfin_like.spool.RowSpool,
    # which spills to a temporary file, so an initial sync of 1M volumes does not hold 1M models)
    added: Any = dataclasses.field(default_factory=list)  # (model, fp)
    updated: Any = dataclasses.field(default_factory=list)  # (row id, model, fp)
    deleted: list[str] = dataclasses.field(default_factory=list)  # row ids
    unchanged: int = 0

    @property
    def rows_to_write(self) -> int:
        return len(self.added) + len(self.updated) + len(self.deleted)

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "deleted": len(self.deleted),
            "unchanged": self.unchanged,
        }


def compute_changes(
    resource_type: str,
    db_fingerprints: Mapping[str, tuple[str, str]],
    snapshot: Iterable[Any],
    sink: Callable[[], Any] = list,
) -> ChangeSet:
    """Compare a driver snapshot with the stored fingerprints.

    :param resource_type: e.g. ``"volumes"``; names the change set.
    :param db_fingerprints: ``native_id -> (row_id, fingerprint)`` of stored rows.
    :param snapshot: the driver's resources; each model class names its
        native id attribute in ``NATIVE_ID``.
    :param sink: makes the containers of added and updated rows (anything with
        ``append``, ``len`` and repeatable iteration).
    :returns: a :class:`ChangeSet`; stored rows absent from the snapshot are deleted.
    :raises DuplicateNativeId: if the snapshot repeats a native id.
    """
    changes = ChangeSet(resource_type, added=sink(), updated=sink())
    seen: set[str] = set()
    added, updated = changes.added, changes.updated
    unchanged = 0
    getter = native_getter = None
    lookup, blake2b = db_fingerprints.get, hashlib.blake2b
    for resource in snapshot:
        if getter is None:
            # one model class per snapshot; the hot loop inlines fingerprint()
            getter = _getter(type(resource))
            native_getter = operator.attrgetter(type(resource).NATIVE_ID)
        native_id = native_getter(resource)
        if native_id in seen:
            raise DuplicateNativeId(resource_type, native_id)
        seen.add(native_id)
        fp = blake2b(repr(getter(resource)).encode(), digest_size=16).hexdigest()
        stored = lookup(native_id)
        if stored is None:
            added.append((resource, fp))
        elif stored[1] != fp:
            updated.append((stored[0], resource, fp))
        else:
            unchanged += 1
    changes.unchanged = unchanged
    if unchanged + len(updated) < len(db_fingerprints):
        changes.deleted = [row_id for native_id, (row_id, _) in db_fingerprints.items() if native_id not in seen]
    return changes
