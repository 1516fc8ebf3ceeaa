"""Small helpers shared by the SQL modules."""

import datetime
import json
import os
import time
import uuid

from delfin_like.common.constants import TaskStatus


def utcnow() -> datetime.datetime:
    """Naive UTC now: every timestamp column stores UTC without a zone."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def new_id() -> str:
    return str(uuid.uuid4())


def new_ids(count: int) -> list[str]:
    """``count`` time-ordered UUIDs (RFC 9562 version 7), ascending within the call.

    Ascending keys append to the primary-key B-tree instead of splitting pages at
    random: the 100k-row initial sync inserts about twice as fast as with uuid4.
    """
    millis = time.time_ns() // 1_000_000
    counter = int.from_bytes(os.urandom(8), "big") >> 2  # random start, 62 bits of headroom
    prefix = (millis << 80) | (7 << 76) | ((counter >> 62) & 0xFFF) << 64 | (0b10 << 62)
    out = []
    for i in range(count):
        h = f"{prefix | ((counter + i) & _LOW62):032x}"
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


_LOW62 = (1 << 62) - 1


def dumps(value) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


def task_values(type_: str, storage_id: str | None, priority: str, now, task_id: str | None = None) -> dict:
    """Column values of a new PENDING task (a fresh id unless ``task_id`` is given)."""
    return {
        "id": task_id or new_id(),
        "type": type_,
        "storage_id": storage_id,
        "priority": priority,
        "status": TaskStatus.PENDING,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def task_dict(row) -> dict:
    """A ``tasks`` row as a dict, its ``result`` and ``progress`` decoded from JSON."""
    out = dict(row._mapping)
    for key in ("result", "progress"):
        out[key] = json.loads(out[key]) if out[key] else None
    return out


def finish_values(status: str, result: dict | None, error: str | None, now) -> dict:
    """Column values that end a task."""
    return {
        "status": status,
        "result": dumps(result),
        "error": error,
        "finished_at": now,
        "updated_at": now,
        "lease_expires_at": None,
    }
