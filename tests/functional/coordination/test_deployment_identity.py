"""One deployment name, one database: checked against the real Redis with real SQLite databases."""

import uuid

import pytest

from delfin_like import coordination, deployment, identity
from delfin_like.common import exception
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.db import migration

pytestmark = pytest.mark.services


@pytest.fixture
def name():
    value = f"ident-{uuid.uuid4().hex[:10]}"
    CONF.set_override("deployment_name", value)
    return value


@pytest.fixture
def databases(tmp_path):
    """Make and select SQLite databases by label: ``use("a")``."""
    made = {}

    def use(label: str) -> str:
        if label not in made:
            made[label] = f"sqlite:///{tmp_path / label}.sqlite"
            migration.upgrade("head", url=made[label])
        db_api.configure(made[label])
        return made[label]

    yield use
    db_api.dispose()


@pytest.fixture
def registrations(redis_url):
    started = []

    def start(process: str = "delfin-like-task", **kwargs) -> identity.Registration:
        coord = coordination.Coordinator(redis_url, member_id=f"p-{uuid.uuid4().hex[:8]}", heartbeat_interval=1)
        reg = identity.Registration(process, coordinator=coord.start(), **kwargs)
        started.append((reg, coord))
        reg.start()
        return reg

    yield start
    for reg, coord in started:
        reg.stop()
        coord.stop()


def test_processes_of_one_database_share_the_name(name, databases, registrations):
    databases("a")
    first = registrations("delfin-like-api")
    second = registrations("delfin-like-task")
    assert first.verified and second.verified


def test_a_second_database_under_the_same_name_is_refused(name, databases, registrations):
    databases("a")
    registrations("delfin-like-task")
    databases("b")
    with pytest.raises(exception.DeploymentNameInUse) as err:
        registrations("delfin-like-scheduler")
    databases("a")
    a_id = db_api.deployment_identity_get()["database_id"]
    assert repr(name) in err.value.msg and a_id in err.value.msg and "delfin-like-task" in err.value.msg
    assert "deployment_name" in err.value.msg  # says how to fix it


def test_another_name_on_the_same_backend_is_fine(name, databases, registrations):
    databases("a")
    registrations()
    CONF.set_override("deployment_name", name + "-other")
    databases("b")
    assert registrations().verified
    assert deployment.identity_group().endswith(f"{name}-other.processes")


def test_a_database_of_another_name_is_refused(name, databases, registrations):
    databases("a")
    registrations()
    CONF.set_override("deployment_name", name + "-renamed")
    with pytest.raises(exception.DeploymentNameMismatch) as err:
        registrations()
    assert f"deployment_name = {name}" in err.value.msg and "rename-deployment" in err.value.msg


def test_of_two_started_at_once_the_later_one_refuses(name, databases, registrations, redis_url):
    # both read an empty group, then join: only the check after joining can tell them apart
    databases("a")
    coords = [
        coordination.Coordinator(redis_url, member_id=f"race-{i}-{uuid.uuid4().hex[:6]}").start() for i in range(2)
    ]
    try:
        early = identity.Registration("delfin-like-task", coordinator=coords[0])
        early._identity = identity.database_identity()
        databases("b")
        late = identity.Registration("delfin-like-task", coordinator=coords[1])
        late._identity = identity.database_identity()
        early._joined_at, late._joined_at = 1000.0, 1001.0
        group = deployment.identity_group()
        for reg, coord in zip((early, late), coords, strict=True):
            coordination.join_group(coord, group, reg._capabilities(coord))
        early.check()
        with pytest.raises(exception.DeploymentNameInUse):
            late.check()
    finally:
        for coord in coords:
            coord.stop()


def test_a_conflict_found_later_is_reported(name, databases, registrations, redis_url, monkeypatch):
    # the backend was down when this process started; the background check finds the collision
    monkeypatch.setattr(identity, "RETRY_INTERVAL", 0.2)
    databases("a")
    registrations()
    databases("b")
    found = []
    coord = coordination.Coordinator("redis://127.0.0.1:1")  # unreachable until we swap it
    reg = identity.Registration("delfin-like-api", coordinator=coord, on_conflict=found.append)
    reg.start()
    assert not reg.verified
    reg._coordinator = coordination.Coordinator(redis_url).start()
    try:
        reg._thread.join(10)
        assert found and isinstance(found[0], exception.DeploymentNameInUse)
    finally:
        reg.stop()
        reg._coordinator.stop()
