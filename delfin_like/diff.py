"""Pure change computation between what the database holds and what a driver returned.

No I/O, no SQLAlchemy. The database side is a :class:`StoredFingerprints`
(``native_id -> (row_id, fingerprint)``, held compactly: a million stored rows
cost a dict of native ids plus 32 bytes each) or any such mapping; the driver
side is any iterable of sdk models (generators welcome). Only the rows that
must be written are kept, so a no-change re-sync holds nothing but the stored
fingerprints; the rows to add or update go to a ``sink`` the caller chooses
(the sync job's is a :class:`delfin_like.spool.RowSpool`, a temporary file past
a few thousand rows), so neither does an initial one.
"""

import dataclasses
import hashlib
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from delfin_like.sdk import models

_GETTERS: dict[type, operator.attrgetter] = {}
# bytes of a fingerprint digest (32 hex digits) and of a row id held as a UUID
_DIGEST = 16
_UUID = 16


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


def _uuid_text(raw: bytes | bytearray) -> str:
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class StoredFingerprints(Mapping):
    """``native_id -> (row_id, fingerprint)`` of the stored rows of one type, held compactly.

    A dict maps each native id to its position; the fingerprints (32 hex digits)
    sit as 16-byte digests in one bytearray and the row ids, when they are UUIDs
    in their canonical text form (every id this service writes), as 16 bytes in
    another. Anything else (a legacy or foreign row id, a fingerprint that is not
    32 hex digits) is kept aside as it is, and such a fingerprint never matches.
    Read-only once filled; :meth:`items`, ``len``, ``in`` and ``[native_id]``
    behave as the plain mapping's would.
    """

    __slots__ = ("_positions", "_digests", "_row_ids", "_odd_row_ids", "_odd_fingerprints")

    def __init__(self, rows: Iterable[tuple[str, str, str]] = ()):
        """:param rows: ``(native_id, row_id, fingerprint)`` triples, native ids unique."""
        self._positions: dict[str, int] = {}
        self._digests = bytearray()
        self._row_ids = bytearray()
        self._odd_row_ids: dict[int, str] = {}  # position -> row id not held as 16 bytes
        self._odd_fingerprints: dict[int, str] = {}  # position -> fingerprint not held as a digest
        self.extend(rows)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, tuple[str, str]]) -> "StoredFingerprints":
        return cls((native_id, row_id, fp) for native_id, (row_id, fp) in mapping.items())

    def extend(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Add ``(native_id, row_id, fingerprint)`` triples (the sync reads them in pages)."""
        rows = rows if isinstance(rows, list) else list(rows)
        if not rows or not self._extend_page(rows):
            self._extend_rows(rows)

    def _extend_page(self, rows: list) -> bool:
        """Add a page whose ids and fingerprints are all canonical at C speed; False (nothing added) if not."""
        natives, row_ids, fps = zip(*rows, strict=True)
        n = len(rows)
        try:
            joined, ids = "".join(fps), "".join(row_ids)
        except TypeError:
            return False  # some value is not a string
        # every value its exact length (not just the totals), so the fixed-stride checks below align
        if set(map(len, fps)) != {2 * _DIGEST} or set(map(len, row_ids)) != {36}:
            return False
        if ids.count("-") != 4 * n or not ids.islower():
            return False
        if any(ids[at::36] != "-" * n for at in (8, 13, 18, 23)):
            return False
        try:
            digests, raw_ids = bytes.fromhex(joined), bytes.fromhex(ids.replace("-", ""))
        except ValueError:
            return False
        # fromhex skips whitespace: a shorter result means some value was not pure hex
        if len(digests) != _DIGEST * n or len(raw_ids) != _UUID * n:
            return False
        positions = self._positions
        start = len(positions)
        page = dict(zip(natives, range(start, start + n), strict=True))
        if len(page) != n or not positions.keys().isdisjoint(page):
            return False  # a native id repeats: the row path says which
        positions.update(page)
        self._digests += digests
        self._row_ids += raw_ids
        return True

    def _extend_rows(self, rows: list) -> None:
        positions, digests, row_ids = self._positions, self._digests, self._row_ids
        fromhex = bytes.fromhex
        position = len(positions)
        for native_id, row_id, fp in rows:
            if native_id in positions:
                raise ValueError(f"native id {native_id!r} stored twice")
            positions[native_id] = position
            try:
                digest = fromhex(fp)
            except (TypeError, ValueError):
                digest = b""
            if len(digest) != _DIGEST or len(fp) != 2 * _DIGEST:
                digest = bytes(_DIGEST)
                self._odd_fingerprints[position] = fp
            digests += digest
            raw = b""
            # canonical UUID text: 8-4-4-4-12 lowercase hex digits (islower: at least one letter, none upper)
            if (
                type(row_id) is str and len(row_id) == 36 and row_id[8] == row_id[13] == row_id[18] == row_id[23] == "-"
                and row_id.count("-") == 4 and row_id.islower()
            ):
                try:
                    raw = fromhex(row_id.replace("-", ""))
                except ValueError:
                    raw = b""
            if len(raw) != _UUID:
                raw = bytes(_UUID)
                self._odd_row_ids[position] = row_id
            row_ids += raw
            position += 1

    def __len__(self) -> int:
        return len(self._positions)

    def __contains__(self, native_id: object) -> bool:
        return native_id in self._positions

    def __iter__(self) -> Iterator[str]:
        return iter(self._positions)

    def __getitem__(self, native_id: str) -> tuple[str, str]:
        return self._entry(self._positions[native_id])

    def get(self, native_id: str, default=None):
        position = self._positions.get(native_id)
        return default if position is None else self._entry(position)

    def items(self) -> Iterator[tuple[str, tuple[str, str]]]:
        for native_id, position in self._positions.items():
            yield native_id, self._entry(position)

    def row_id(self, position: int) -> str:
        if position in self._odd_row_ids:
            return self._odd_row_ids[position]
        offset = position * _UUID
        return _uuid_text(self._row_ids[offset:offset + _UUID])

    def fingerprint(self, position: int) -> str:
        if position in self._odd_fingerprints:
            return self._odd_fingerprints[position]
        offset = position * _DIGEST
        return self._digests[offset:offset + _DIGEST].hex()

    def _entry(self, position: int) -> tuple[str, str]:
        return self.row_id(position), self.fingerprint(position)


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
    db_fingerprints: "StoredFingerprints | Mapping[str, tuple[str, str]]",
    snapshot: Iterable[Any],
    sink: Callable[[], Any] = list,
) -> ChangeSet:
    """Compare a driver snapshot with the stored fingerprints.

    :param resource_type: e.g. ``"volumes"``; names the change set.
    :param db_fingerprints: ``native_id -> (row_id, fingerprint)`` of stored rows: a
        :class:`StoredFingerprints` (what ``db.api.resource_fingerprints`` returns) or a mapping.
    :param snapshot: the driver's resources; each model class names its
        native id attribute in ``NATIVE_ID``.
    :param sink: makes the containers of added and updated rows (anything with
        ``append``, ``len`` and repeatable iteration).
    :returns: a :class:`ChangeSet`; stored rows absent from the snapshot are deleted.
    :raises DuplicateNativeId: if the snapshot repeats a native id.
    """
    stored = db_fingerprints
    if not isinstance(stored, StoredFingerprints):
        stored = StoredFingerprints.from_mapping(stored)
    changes = ChangeSet(resource_type, added=sink(), updated=sink())
    added, updated = changes.added, changes.updated
    # what the snapshot has shown: a flag per stored row, a set of the native ids that are new
    seen = bytearray(len(stored))
    new: set[str] = set()
    unchanged = 0
    getter = None
    native_at = 0
    lookup, blake2b = stored._positions.get, hashlib.blake2b
    digests, odd = stored._digests, stored._odd_fingerprints
    for resource in snapshot:
        if getter is None:
            # one model class per snapshot; the hot loop inlines fingerprint() and takes the
            # native id from the same tuple of values
            getter = _getter(type(resource))
            native_at = models.field_names(type(resource)).index(type(resource).NATIVE_ID)
        values = getter(resource)
        native_id = values[native_at]
        position = lookup(native_id)
        if position is None:
            if native_id in new:
                raise DuplicateNativeId(resource_type, native_id)
            new.add(native_id)
            added.append((resource, blake2b(repr(values).encode(), digest_size=16).hexdigest()))
            continue
        if seen[position]:
            raise DuplicateNativeId(resource_type, native_id)
        seen[position] = 1
        digest = blake2b(repr(values).encode(), digest_size=16).digest()
        if digests.startswith(digest, position * _DIGEST) and not (odd and position in odd):
            unchanged += 1
        else:
            updated.append((stored.row_id(position), resource, digest.hex()))
    changes.unchanged = unchanged
    if unchanged + len(updated) < len(stored):
        row_id, find = stored.row_id, seen.find
        position = find(0)
        while position >= 0:
            changes.deleted.append(row_id(position))
            position = find(0, position + 1)
    return changes
