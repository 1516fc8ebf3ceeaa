"""``jsonl``: one JSON object per sample appended to a file that rotates by size.

The file is ``[exporters] jsonl_path`` (default ``<state_path>/metrics/samples.jsonl``).
Before a batch that would take it past ``jsonl_max_bytes`` it is renamed ``.1``
(older ones shift to ``.2`` ... up to ``jsonl_backup_count``), so a batch is
never split across files. A batch is written with one ``write`` and flushed
before it counts as delivered.
"""

import json
import os
import threading

from delfin_like.conf import CONF
from delfin_like.exporters import base


def default_path() -> str:
    return os.path.join(CONF.state_path, "metrics", "samples.jsonl")


class JsonlExporter(base.Exporter):
    def __init__(self):
        self._lock = threading.Lock()
        self._file = None
        self._path = None

    @property
    def path(self) -> str:
        return CONF.exporters.jsonl_path or default_path()

    def _open(self, path: str):
        if self._file is None or self._path != path:
            self.close()
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open across batches
            self._path = path
        return self._file

    def _rotate(self, path: str) -> None:
        self.close()
        keep = CONF.exporters.jsonl_backup_count
        for i in range(keep - 1, 0, -1):
            if os.path.exists(f"{path}.{i}"):
                os.replace(f"{path}.{i}", f"{path}.{i + 1}")
        os.replace(path, f"{path}.1")

    @staticmethod
    def lines(batch: base.MetricBatch) -> str:
        """The batch as JSON lines, one per sample, with the storage's labels and the metric's unit."""
        head = {
            "batch_id": batch.batch_id,
            "storage_id": batch.storage_id,
            "storage_name": batch.storage_name,
            "serial_number": batch.serial_number,
            "resource_type": batch.resource_type,
        }
        out = []
        for s in batch.samples:
            spec = batch.specs.get(s.metric)
            out.append(
                json.dumps(
                    {
                        **head,
                        "resource_id": s.resource_id,
                        "resource_name": s.resource_name,
                        "metric": s.metric,
                        "value": s.value,
                        "unit": spec.unit if spec else None,
                        "type": spec.type if spec else None,
                        "timestamp": s.timestamp,
                        "interval": s.interval,
                    },
                    separators=(",", ":"),
                )
            )
        out.append("")
        return "\n".join(out)

    def export(self, batch: base.MetricBatch) -> None:
        """Append the batch's lines (rotating first if they would not fit) and flush."""
        text = self.lines(batch)
        path = self.path
        with self._lock:
            size = os.path.getsize(path) if os.path.exists(path) else 0
            if size and size + len(text.encode()) > CONF.exporters.jsonl_max_bytes:
                self._rotate(path)
            f = self._open(path)
            f.write(text)
            f.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
