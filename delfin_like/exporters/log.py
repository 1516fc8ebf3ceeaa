"""``log``: every sample as one log line (for demos and debugging; opt in, it is verbose)."""

from oslo_log import log as logging

from delfin_like.exporters import base

LOG = logging.getLogger(__name__)


class LogExporter(base.Exporter):
    def export(self, batch: base.MetricBatch) -> None:
        """Log a summary line, then one line per sample, at INFO."""
        LOG.info(
            "Batch %s: %d %s samples of storage %s (%s) for (%.3f, %.3f], part %d/%d",
            batch.batch_id,
            len(batch.samples),
            batch.resource_type,
            batch.storage_id,
            batch.storage_name,
            batch.window_start,
            batch.window_end,
            batch.part + 1,
            batch.parts,
        )
        for s in batch.samples:
            spec = batch.specs.get(s.metric)
            LOG.info(
                "sample storage=%s %s=%s metric=%s value=%r unit=%s timestamp=%.6f",
                batch.storage_id,
                s.resource_type,
                s.resource_id,
                s.metric,
                s.value,
                spec.unit if spec else "",
                s.timestamp,
            )
