"""Small helpers shared by the SQL modules."""

import datetime
import json
import uuid


def utcnow() -> datetime.datetime:
    """Naive UTC now: every timestamp column stores UTC without a zone."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def new_id() -> str:
    return str(uuid.uuid4())


def dumps(value) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


def finish_values(status: str, result: dict | None, error: str | None, now) -> dict:
    """Column values that end a task."""
    return {
        "status": status, "result": dumps(result), "error": error, "finished_at": now,
        "updated_at": now, "lease_expires_at": None,
    }
