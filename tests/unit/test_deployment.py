"""Every broker and coordination name derives from ``[DEFAULT] deployment_name``."""

import pytest

from delfin_like import coordination, deployment
from delfin_like.conf import CONF
from delfin_like.rpc import client as rpc_client
from delfin_like.rpc import server as rpc_server
from delfin_like.rpc import transport as rpc_transport


@pytest.fixture(autouse=True)
def _derived():
    # tests/conftest.py gives every test its own [rpc] topic: these tests look at the derived one
    rpc_transport.register_opts()
    CONF.clear_override("topic", group="rpc")
    for opt, group in (("membership_group", "task_manager"), ("election_group", "scheduler")):
        CONF.clear_override(opt, group=group)
    yield
    for opt, group in (("deployment_name", None), ("control_exchange", None)):
        CONF.clear_override(opt, group=group)


def _names() -> dict:
    return {
        "topics": [rpc_client.lane_topic(lane) for lane in ("urgent", "normal", "background")],
        "exchange": deployment.rpc_exchange(),
        "server_exchange": rpc_server.build_target("urgent", "1.0").exchange,
        "membership": deployment.membership_group(),
        "election": deployment.election_group(),
        "lock": coordination.lock_name("s1"),
        "identity": deployment.identity_group(),
    }


def test_default_deployment_names():
    assert _names() == {
        "topics": ["delfin_like.default.task.urgent", "delfin_like.default.task.normal",
                   "delfin_like.default.task.background"],
        "exchange": "delfin_like.default",
        "server_exchange": "delfin_like.default",
        "membership": "delfin_like.default.task_managers",
        "election": "delfin_like.default.scheduler",
        "lock": "delfin_like.default.storage-s1",
        "identity": "delfin_like.default.processes",
    }


def test_two_names_share_no_broker_or_coordination_name():
    CONF.set_override("deployment_name", "blue")
    blue = _names()
    CONF.set_override("deployment_name", "green")
    green = _names()
    for key in blue:
        values = blue[key] if isinstance(blue[key], list) else [blue[key]]
        others = green[key] if isinstance(green[key], list) else [green[key]]
        assert not set(values) & set(others), key
    assert all("green" in t for t in green["topics"])


def test_the_deprecated_options_still_win():
    CONF.set_override("deployment_name", "blue")
    CONF.set_override("topic", "legacy.task", group="rpc")
    CONF.set_override("membership_group", "legacy.tm", group="task_manager")
    CONF.set_override("election_group", "legacy.sched", group="scheduler")
    CONF.set_override("control_exchange", "legacy")
    names = _names()
    assert names["topics"][0] == "legacy.task.urgent"
    assert (names["membership"], names["election"], names["exchange"]) == ("legacy.tm", "legacy.sched", "legacy")
    # locks have no deprecated option: they follow the name
    assert names["lock"] == "delfin_like.blue.storage-s1"


@pytest.mark.parametrize("bad", ["", "has space", "a/b", "-lead", "x" * 64])
def test_bad_deployment_names_are_refused(bad):
    with pytest.raises(ValueError):
        CONF.set_override("deployment_name", bad)
        CONF.deployment_name  # noqa: B018 - oslo.config checks the value when it is read
