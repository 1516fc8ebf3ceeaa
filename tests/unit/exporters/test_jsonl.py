"""The jsonl exporter: one JSON object per sample, rotation by size, whole batches per file."""

import json

from delfin_like.conf import CONF
from delfin_like.exporters import jsonl
from tests.unit.exporters.test_fanout import make_batch


def _read(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_lines_carry_labels_units_and_values(tmp_path):
    CONF.set_override("jsonl_path", str(tmp_path / "out.jsonl"), group="exporters")
    exporter = jsonl.JsonlExporter()
    batch = make_batch(3)
    exporter.export(batch)
    exporter.close()
    rows = _read(tmp_path / "out.jsonl")
    assert [r["resource_id"] for r in rows] == ["vol-0", "vol-1", "vol-2"]
    assert rows[2] == {
        "batch_id": batch.batch_id,
        "storage_id": "s1",
        "storage_name": "array",
        "serial_number": "SN1",
        "resource_type": "volume",
        "resource_id": "vol-2",
        "resource_name": "v2",
        "metric": "read_iops",
        "value": 20.0,
        "unit": "ops/s",
        "type": "gauge",
        "timestamp": 1_750_000_010.0,
        "interval": 10.0,
    }


def test_default_path_is_under_state_path():
    exporter = jsonl.JsonlExporter()
    exporter.export(make_batch(1))
    exporter.close()
    assert len(_read(jsonl.default_path())) == 1
    assert jsonl.default_path().startswith(CONF.state_path)


def test_rotation_keeps_whole_batches_and_a_bounded_number_of_files(tmp_path):
    path = tmp_path / "m.jsonl"
    CONF.set_override("jsonl_path", str(path), group="exporters")
    CONF.set_override("jsonl_max_bytes", 1500, group="exporters")
    CONF.set_override("jsonl_backup_count", 2, group="exporters")
    exporter = jsonl.JsonlExporter()
    batch_bytes = len(jsonl.JsonlExporter.lines(make_batch(3)).encode())
    assert 1500 // 2 < batch_bytes < 1500  # exactly one batch fits per file
    for i in range(5):
        exporter.export(make_batch(3, end=1_750_000_000.0 + i))
    exporter.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["m.jsonl", "m.jsonl.1", "m.jsonl.2"]
    # newest in the live file, then .1, .2; the two oldest batches were rotated away
    ends = [{r["timestamp"] for r in _read(tmp_path / name)} for name in ("m.jsonl", "m.jsonl.1", "m.jsonl.2")]
    assert ends == [{1_750_000_004.0}, {1_750_000_003.0}, {1_750_000_002.0}]
