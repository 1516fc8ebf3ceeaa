"""Building and serialising one list page of ``--rows`` volumes (default 1,000), in process, two ways.

``dicts``: what ``GET /v1/volumes`` did before: ``db.api.resource_list`` (a dict per row from the
row's mapping), ``views.volume`` per row (a lookup and an ``isotime`` call per field), pecan's JSON
encoder. ``tuples``: what it does now: ``db.api.resource_rows`` (the view's fields as tuples),
``views.row_dicts`` (one ``dict(zip())`` per row, times formatted once per distinct value), orjson.

The rows are real: one fake storage synced by the task manager's job into a fresh SQLite file (or
``--db-url``'s server, in a database of its own). Each stage is timed ``--repeat`` times and the two
documents are checked to be the same JSON. Prints one JSON document: p50/p99 ms of the fetch, the
build, the serialisation and the three together, per way, with the load average.

    python benchmarks/list_build_bench.py
    python benchmarks/list_build_bench.py --rows 1000 --repeat 300 --db-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import list_bench  # noqa: E402 - its fill: registration plus the task manager's sync job
import sync_bench  # noqa: E402 - its server-database helper


class _Keep:
    """Stands in for list_bench's pipe end: keeps what the fill sends."""

    def send(self, value):
        self.value = value

    def close(self):
        pass


def _percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
    }


def _time(stages, repeat: int) -> dict:
    """Run ``stages`` (fetch, build, serialise: each takes the previous one's result) ``repeat`` times."""
    samples = {name: [] for name, _ in stages}
    samples["total"] = []
    for _ in range(repeat):
        value, total = None, 0.0
        for name, stage in stages:
            start = time.perf_counter()
            value = stage(value)
            took = time.perf_counter() - start
            samples[name].append(took)
            total += took
        samples["total"].append(total)
    return {name: _percentiles(values) for name, values in samples.items()}, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1000, help="volumes on the page (and in the table)")
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--db-url", help="a server to create a fresh database on (default: a SQLite file)")
    args = parser.parse_args()

    import orjson
    from pecan import jsonify

    from delfin_like.api import views
    from delfin_like.db import api as db_api

    workdir = tempfile.mkdtemp(prefix="list_build_bench_")
    drop = None
    if args.db_url:
        url, drop = sync_bench._server_db(args.db_url)
    else:
        url = f"sqlite:///{os.path.join(workdir, 'bench.sqlite')}"
    from cryptography.fernet import Fernet

    try:
        keep = _Keep()
        list_bench._fill(url, 1, args.rows, workdir, Fernet.generate_key().decode(), keep)
        fields = views.VOLUME_FIELDS
        dicts, dicts_doc = _time([
            ("fetch", lambda _: db_api.resource_list("volumes", limit=args.rows)),
            ("build", lambda rows: {"volumes": [views.volume(r) for r in rows]}),
            ("serialise", jsonify.encode),
        ], args.repeat)
        tuples, tuples_doc = _time([
            ("fetch", lambda _: db_api.resource_rows("volumes", fields, limit=args.rows)),
            ("build", lambda rows: {"volumes": views.row_dicts(fields, rows)}),
            ("serialise", orjson.dumps),
        ], args.repeat)
        assert json.loads(dicts_doc) == json.loads(tuples_doc), "the two ways made different documents"
        assert len(json.loads(tuples_doc)["volumes"]) == args.rows
        print(json.dumps({
            "database": url.split(":")[0],
            "rows": args.rows,
            "repeat": args.repeat,
            "body_bytes": {"dicts": len(dicts_doc), "tuples": len(tuples_doc)},
            "dicts": dicts,
            "tuples": tuples,
            "loadavg": [round(x, 2) for x in os.getloadavg()],
        }, indent=2))
    finally:
        db_api.dispose()
        if drop is not None:
            drop()


if __name__ == "__main__":
    main()
