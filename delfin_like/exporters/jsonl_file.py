"""A JSON-lines file that exporters append to: opened on first use, reopened when its path changes,
rotated by size, each append one ``write`` flushed (and fsynced if asked) before it returns.

Rotation: before an append that would take the file past ``max_bytes`` it is renamed ``.1`` (older
ones shift to ``.2`` ... up to ``backup_count``), so one append is never split across files. An
append that fails closes the file, so the next one reopens it (the path may be fixed by then).
"""

import os
import threading


class JsonlFile:
    def __init__(self):
        self._lock = threading.Lock()
        self._file = None
        self._path: str | None = None

    def _open(self, path: str):
        if self._file is None or self._path != path:
            self._close()
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open across appends
            self._path = path
        return self._file

    def _rotate(self, path: str, backup_count: int) -> None:
        self._close()
        for i in range(backup_count - 1, 0, -1):
            if os.path.exists(f"{path}.{i}"):
                os.replace(f"{path}.{i}", f"{path}.{i + 1}")
        os.replace(path, f"{path}.1")

    def append(self, path: str, text: str, max_bytes: int, backup_count: int, fsync: bool = False) -> None:
        """Append ``text`` (whole lines) to ``path``, rotating first if it would not fit.
        :raises OSError: it could not be written (nothing counts as appended then)."""
        with self._lock:
            try:
                size = os.path.getsize(path) if os.path.exists(path) else 0
                if size and size + len(text.encode()) > max_bytes:
                    self._rotate(path, backup_count)
                f = self._open(path)
                f.write(text)
                f.flush()
                if fsync:
                    os.fsync(f.fileno())
            except OSError:
                self._close()
                raise

    def _close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
            self._file = None

    def close(self) -> None:
        with self._lock:
            self._close()
