"""Alerts out: N alerts recorded as fast as possible, delivered through the outbox to a REAL Prometheus
Alertmanager and to the jsonl exporter by the dispatcher the scheduler leader runs.

Records ``--alerts`` new alerts (``db.api.alert_record``, source ``trap``, each queueing its two
deliveries in its own transaction) from ``--writers`` threads while the dispatcher runs
(``[alert_exporters]`` defaults except ``interval``), then waits until the outbox is empty and checks
that Alertmanager holds every alert (``GET /api/v2/alerts``). Then it records as many again with the
dispatcher paused (an exporter that was down) and times the drain of that backlog. Prints one JSON
document: the record rate (and without exporters, ``--baseline``), deliveries/s per exporter, the time
from the last record until the outbox is empty, the record-to-delivered latency p50/p99 per exporter
(from the commit of the alert to the return of the exporter call that took it), and the backlog drain.

    python benchmarks/alert_export_bench.py --alerts 5000
    python benchmarks/alert_export_bench.py --db-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Needs Debian's prometheus-alertmanager (started on free loopback ports, clustering off).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--interval", type=float, default=0.1, help="[alert_exporters] interval")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--db-url", help="a server URL: a fresh database is created on it and dropped")
    parser.add_argument("--baseline", action="store_true",
                        help="also record as many alerts with no exporter enabled first (the outbox's cost to writers)")
    args = parser.parse_args(argv)

    from benchmarks.retention_bench import _server_db
    from delfin_like.alert_manager import dispatch
    from delfin_like.conf import CONF
    from delfin_like.db import api as db_api
    from delfin_like.db import migration
    from delfin_like.exporters import alerts as alert_exporters
    from delfin_like.exporters.alerts import alertmanager, jsonl
    from tests import retention_helpers
    from tests.alert_helpers import Alertmanager

    work = tempfile.mkdtemp(prefix="alert-export-bench-")
    drop = None
    url = f"sqlite:///{work}/bench.sqlite"
    if args.db_url:
        url, drop = _server_db(args.db_url)
    CONF([], project="delfin_like", default_config_files=[])
    CONF.set_override("state_path", work)
    CONF.set_override("enabled", ["alertmanager", "jsonl"], group="alert_exporters")
    CONF.set_override("interval", args.interval, group="alert_exporters")
    CONF.set_override("batch_size", args.batch_size, group="alert_exporters")
    CONF.set_override("path", os.path.join(work, "alerts.jsonl"), group="jsonl_alert_exporter")
    migration.upgrade("head", url=url)
    db_api.configure(url)
    # no webhook: Alertmanager's notifications would load this process, not the path measured
    am = Alertmanager(os.path.join(work, "alertmanager"), webhook=False).start()
    CONF.set_override("url", [am.url], group="alertmanager_exporter")

    delivered_at: dict[str, dict[str, float]] = {"alertmanager": {}, "jsonl": {}}
    lock = threading.Lock()

    def timed(base_cls, name):
        class Timed(base_cls):
            def export_alerts(self, deliveries):
                super().export_alerts(deliveries)
                now = time.time()
                with lock:
                    for d in deliveries:
                        delivered_at[name].setdefault(d.alert_uuid, now)

        return Timed()

    exporters = alert_exporters.AlertExporterSet(exporters={
        "alertmanager": timed(alertmanager.AlertmanagerExporter, "alertmanager"),
        "jsonl": timed(jsonl.AlertJsonlExporter, "jsonl")})
    paused = threading.Event()
    dispatcher = dispatch.AlertDispatcher(exporters, keep_going=lambda: not paused.is_set())
    storage_id = retention_helpers.storage("bench-array")
    recorded_at: dict[str, float] = {}
    per_writer = [range(w, args.alerts, args.writers) for w in range(args.writers)]

    def write(numbers, sid, times):
        for i in numbers:
            row, _ = db_api.alert_record(sid, "trap", {
                "sequence_number": f"bench-{i}", "alert_id": "linkDown", "alert_name": "Link down",
                "severity": "major", "category": "fault", "type": "communications", "resource_type": "port",
                "native_resource_id": f"port-{i}", "description": f"port-{i} is down"})
            times[row["id"]] = time.time()

    def record_all(sid, times) -> float:
        """Record the alerts from the writer threads; returns the seconds it took."""
        t0 = time.time()
        threads = [threading.Thread(target=write, args=(numbers, sid, times)) for numbers in per_writer]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.time() - t0

    baseline = None
    if args.baseline:
        CONF.set_override("enabled", [], group="alert_exporters")
        baseline = round(args.alerts / record_all(retention_helpers.storage("bench-baseline"), {}), 1)
        CONF.set_override("enabled", ["alertmanager", "jsonl"], group="alert_exporters")

    dispatcher.start()
    try:
        started = time.time()
        record_all(storage_id, recorded_at)
        recorded = time.time()
        deadline = time.monotonic() + 600
        while db_api.alert_deliveries_backlog() and time.monotonic() < deadline:
            time.sleep(0.05)
        empty = time.time()
        in_alertmanager = len(am.alerts(storage_id=storage_id))
        # a backlog: the same number recorded while the dispatcher is paused (an exporter was down), then drained
        paused.set()
        backlog_storage = retention_helpers.storage("bench-backlog")
        record_all(backlog_storage, {})
        resumed = time.time()
        paused.clear()
        while db_api.alert_deliveries_backlog() and time.monotonic() < deadline + 600:
            time.sleep(0.05)
        drained = time.time()
        backlog_in_alertmanager = len(am.alerts(storage_id=backlog_storage))
    finally:
        dispatcher.stop()
        am.close()
        db_api.dispose()
        if drop is not None:
            drop()

    figures = {
        "alerts": args.alerts, "writers": args.writers, "database": url.split(":", 1)[0],
        "interval": args.interval, "batch_size": args.batch_size,
        "record_seconds": round(recorded - started, 3),
        "records_per_second": round(args.alerts / (recorded - started), 1),
        "records_per_second_no_exporter": baseline,
        "outbox_empty_after_last_record_seconds": round(empty - recorded, 3),
        "outbox_empty_after_first_record_seconds": round(empty - started, 3),
        "in_alertmanager": in_alertmanager,
        "backlog_drain_seconds": round(drained - resumed, 3),
        "backlog_deliveries_per_second_per_exporter": round(args.alerts / (drained - resumed), 1),
        "backlog_in_alertmanager": backlog_in_alertmanager,
        "exporters": {},
    }
    for name, times in delivered_at.items():
        latencies = [times[a] - recorded_at[a] for a in recorded_at if a in times]
        last = max((times[a] for a in recorded_at if a in times), default=started)  # the live phase only
        figures["exporters"][name] = {
            "delivered": len(latencies),
            "deliveries_per_second": round(len(latencies) / (last - started), 1) if latencies else 0,
            "record_to_delivered_p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
            "record_to_delivered_p99_ms": round(1000 * _percentile(latencies, 0.99), 1) if latencies else None,
        }
    print(json.dumps(figures, indent=2))
    ok = in_alertmanager == backlog_in_alertmanager == args.alerts
    ok = ok and all(v["delivered"] == args.alerts for v in figures["exporters"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
