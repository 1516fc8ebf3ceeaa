"""Helpers for tests that drive the db layer the way a sync does."""

from delfin_like import diff
from delfin_like import driver_manager as dm
from delfin_like.common import crypto
from delfin_like.common.constants import RESOURCE_TYPES
from delfin_like.db import api as db_api
from delfin_like.task_manager.jobs.sync import LISTERS

PASSWORD = "s3cret-Pa55word!"


def registration_body(port=8443, **extra):
    extra.setdefault("pools", 3)
    extra.setdefault("volumes", 50)
    return {
        "vendor": "fake_storage",
        "model": "fake_driver",
        "rest": {"host": "127.0.0.1", "port": port, "username": "admin", "password": PASSWORD},
        "extra_attributes": extra,
    }


def register(body):
    """Probe and register like the API does; returns (storage, task)."""
    storage = dm.probe(dm.access_info_from_request(body))
    access = {
        "vendor": body["vendor"],
        "model": body["model"],
        "rest": crypto.encrypt_block(body.get("rest")),
        "extra_attributes": body.get("extra_attributes") or {},
    }
    endpoint = body["rest"]
    return db_api.storage_register(storage, access, [("rest", endpoint["host"], endpoint["port"])])


def sync(storage_id, task_id, owner="test-owner", generation=None):
    """Claim and run one sync in-process (driver -> diff -> apply); returns the task result."""
    assert db_api.task_claim(task_id, owner, 60) is not None
    stored = db_api.access_info_get(storage_id)
    if generation is not None:
        stored["extra_attributes"]["generation"] = generation
    driver = dm.load(dm.access_info_from_stored(stored))
    change_sets = [
        diff.compute_changes(rt, db_api.resource_fingerprints(storage_id, rt), getattr(driver, LISTERS[rt])())
        for rt in RESOURCE_TYPES
    ]
    return db_api.sync_apply(storage_id, task_id, owner, driver.get_storage(), change_sets)
