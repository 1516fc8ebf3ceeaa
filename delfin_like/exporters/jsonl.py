"""``jsonl``: one JSON object per sample appended to a file that rotates by size.

The file is ``[exporters] jsonl_path`` (default ``<state_path>/metrics/samples.jsonl``).
Before a batch that would take it past ``jsonl_max_bytes`` it is renamed ``.1``
(older ones shift to ``.2`` ... up to ``jsonl_backup_count``), so a batch is
never split across files. A batch is written with one ``write`` and flushed
before it counts as delivered.
"""

import json
import os

from delfin_like.conf import CONF
from delfin_like.exporters import base, jsonl_file


def default_path() -> str:
    return os.path.join(CONF.state_path, "metrics", "samples.jsonl")


class JsonlExporter(base.Exporter):
    def __init__(self):
        self._file = jsonl_file.JsonlFile()

    @property
    def path(self) -> str:
        return CONF.exporters.jsonl_path or default_path()

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
        self._file.append(self.path, self.lines(batch), CONF.exporters.jsonl_max_bytes,
                          CONF.exporters.jsonl_backup_count)

    def close(self) -> None:
        self._file.close()
