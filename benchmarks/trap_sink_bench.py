"""The trap sink's database write per trap: the bulk batch path against the one-by-one path (issue 14).

In process, one storage, ``[alert_exporters] enabled = jsonl`` (every new alert queues a delivery):
``--batches`` batches of ``--batch`` new alerts through ``db.api.alert_record_many(...,
want_rows=False)`` (the trap sink's call: bulk), then the same again as repeats; and the same through
the one-by-one path it replaced (``alerts._record_many_once``: per trap the storage, the inventory
row, the existing row, the write and the outbox upsert). Prints CPU and wall milliseconds per trap.

    python benchmarks/trap_sink_bench.py
    python benchmarks/trap_sink_bench.py --db-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=200, help="traps per batch (the receiver's SINK_BATCH)")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--db-url", help="a server URL: a fresh database is created on it and dropped")
    args = parser.parse_args()

    from benchmarks.retention_bench import _server_db
    from delfin_like.conf import CONF
    from delfin_like.db import api as db_api
    from delfin_like.db import migration
    from delfin_like.db.sqlalchemy import alerts
    from delfin_like.db.sqlalchemy.utils import utcnow
    from tests import retention_helpers

    work = tempfile.mkdtemp(prefix="trap-sink-bench-")
    url, drop = f"sqlite:///{work}/bench.sqlite", None
    if args.db_url:
        url, drop = _server_db(args.db_url)
    CONF([], project="delfin_like", default_config_files=[])
    CONF.set_override("state_path", work)
    CONF.set_override("enabled", ["jsonl"], group="alert_exporters")
    migration.upgrade("head", url=url)
    db_api.configure(url)
    storage_id = retention_helpers.storage("bench-array")

    def batch(prefix: str) -> list:
        return [(storage_id, "trap", {
            "sequence_number": f"{prefix}-{i}", "alert_id": "FAN_FAILED", "alert_name": "FAN_FAILED",
            "severity": "major", "category": "fault", "type": "equipment", "description": "fan failed",
            "resource_type": "port", "native_resource_id": f"port-{i}"}) for i in range(args.batch)]

    def one_by_one(records):
        items = [(s, source, alerts._alert_values(a)) for s, source, a in records]
        return alerts._record_many_once(items, utcnow(), False)

    def in_bulk(records):
        return db_api.alert_record_many(records, want_rows=False)

    result = {"database": url.split(":")[0], "batch": args.batch, "batches": args.batches,
              "load_average_before": os.getloadavg(), "ms_per_trap": {}}
    try:
        for name, record in (("one_by_one", one_by_one), ("bulk", in_bulk)):
            for kind in ("new", "repeat"):
                cpu, wall = time.process_time(), time.perf_counter()
                for b in range(args.batches):
                    record(batch(f"{name}-{b}"))
                traps = args.batch * args.batches
                result["ms_per_trap"][f"{name}_{kind}"] = {
                    "cpu": round((time.process_time() - cpu) / traps * 1e3, 3),
                    "wall": round((time.perf_counter() - wall) / traps * 1e3, 3)}
    finally:
        db_api.dispose()
        if drop is not None:
            drop()
    result["load_average_after"] = os.getloadavg()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
