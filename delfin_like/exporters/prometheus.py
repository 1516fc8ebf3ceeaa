"""``prometheus``: the latest sample of every series, for ONE scrape endpoint of the whole platform.

Design. Prometheus should scrape one address and see every storage, whichever
task manager collected it, and values must survive a task manager restart. A
``prometheus_client`` registry inside each task manager would give one
endpoint per task manager (Prometheus would have to find them all, and a
series would move between them as tasks land elsewhere), and a restart would
lose it. So this exporter only writes: it upserts the latest sample per series
(storage, resource type, resource, metric) into the database in batches, and
never lets an older window overwrite a newer one. The API process, which
every deployment already has, serves ``GET /metrics``: a custom
``prometheus_client`` collector reads those rows and renders the text format
(``delfin_like.api.controllers.metrics``). Any API process answers for all;
the database is the shared, durable state. The cost is one database write per
window and a read per scrape (100k series: see benchmarks/perf_bench.py).
"""

from delfin_like.db import api as db_api
from delfin_like.exporters import base


def rows(batch: base.MetricBatch) -> list[tuple]:
    """The batch as ``metric_latest`` rows (see ``db.api.metric_latest_put``)."""
    out = []
    specs = batch.specs
    for s in batch.samples:
        spec = specs.get(s.metric)
        out.append(
            (
                s.resource_id,
                s.resource_name,
                s.metric,
                float(s.value),
                spec.unit if spec else "",
                spec.type if spec else "gauge",
                round(s.timestamp * 1_000_000),
            )
        )
    return out


class PrometheusExporter(base.Exporter):
    def export(self, batch: base.MetricBatch) -> None:
        """Upsert the batch's samples as the latest of their series; the first part of a window
        also drops the series of this resource type that the window no longer reports."""
        db_api.metric_latest_put(
            batch.storage_id,
            batch.resource_type,
            round(batch.window_end * 1_000_000),
            rows(batch),
            replace=batch.part == 0,
        )
