"""RowSpool: an append-only sequence that spills to a temporary file past a size.

A sync of a million new volumes would otherwise hold a million ``(model,
fingerprint)`` pairs until its one transaction writes them. The spool keeps
the first ``spill_at`` items in memory (every small sync stays in memory) and
from then on pickles them, ``batch`` at a time, into an anonymous temporary
file that disappears when the spool is closed or collected. Iterating replays
the items in the order they were appended; it may be repeated.
"""

import pickle
import tempfile
from collections.abc import Iterator
from typing import Any

DEFAULT_SPILL_AT = 20_000
DEFAULT_BATCH = 5_000


class RowSpool:
    """Append items, then iterate them in order; memory stays near ``spill_at`` items."""

    def __init__(self, spill_at: int = DEFAULT_SPILL_AT, batch: int = DEFAULT_BATCH, encode=None):
        """:param encode: applied to every appended item (e.g. a model to its plain column
        values), so what is held and pickled is compact; iteration yields encoded items."""
        self._encode = encode
        self._spill_at = spill_at
        self._batch = batch
        self._buffer: list[Any] = []
        self._file = None  # the temporary file, once the spool spilled
        self._len = 0

    def append(self, item: Any) -> None:
        self._buffer.append(item if self._encode is None else self._encode(item))
        self._len += 1
        if len(self._buffer) >= self._batch and self._len > self._spill_at:
            self._spill()

    def _spill(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="delfin-like-spool-")
        self._file.seek(0, 2)
        pickle.dump(self._buffer, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._buffer = []

    @property
    def spilled(self) -> bool:
        """True once some items live in the temporary file."""
        return self._file is not None

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    def __iter__(self) -> Iterator[Any]:
        if self._file is not None:
            self._file.flush()
            self._file.seek(0)
            end = self._file.seek(0, 2)
            position = 0
            while position < end:
                # re-seek each batch: a second iteration or an append may have moved the file
                self._file.seek(position)
                items = pickle.load(self._file)
                position = self._file.tell()
                yield from items
        yield from list(self._buffer)

    def close(self) -> None:
        """Drop every item and the temporary file."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._buffer = []
        self._len = 0

    def __del__(self):
        if self._file is not None:
            self._file.close()
