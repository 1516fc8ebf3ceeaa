"""``generic snmp`` through the real platform against snmpd serving the simulator on loopback.

Registration and syncs go through the API and the task manager; the database (read back through
the API) must equal what SNMP can express of the simulator's model (``snmp_fixtures.expected_inventory``),
field for field, before and after churn. Each fault leaves a FAILED task with a clear error and the
inventory exactly as the last good sync left it.
"""

import os
import time

import pytest

from delfin_like.common.constants import TaskStatus
from delfin_like.conf import CONF
from delfin_like.sdk import exceptions, models
from delfin_like_drivers.generic.snmp_client import SnmpClient, SnmpSettings
from delfin_like_drivers.simulator import snmp_mib
from delfin_like_drivers.simulator.snmp import SnmpFrontEnd
from tests.functional.drivers.snmp_fixtures import (
    COMMUNITY,
    V3_AUTH_KEY,
    V3_PRIV_KEY,
    expected_inventory,
    require_snmpd,
    snmp_body,
)

pytestmark = pytest.mark.services

SECRETS = (COMMUNITY, V3_AUTH_KEY, V3_PRIV_KEY)


def _no_secret_in(*texts) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in str(text)


@pytest.mark.parametrize("platform", ["postgresql_db", "mysql_db"], indirect=True)
def test_v2c_sync_matches_the_model_before_and_after_churn(platform, snmp_sim, snmp_array):
    storage = platform.register_and_sync(snmp_body(snmp_sim))
    _no_secret_in(storage, platform.api.get(f"/v1/storages/{storage['id']}/access-info").json)
    platform.assert_inventory(storage["id"], expected_inventory(snmp_array.snapshot()))
    caps = platform.api.get(f"/v1/storages/{storage['id']}/capabilities").json["capabilities"]
    assert set(caps["resource_metrics"]) == {"volume", "disk", "port"}
    assert caps["resource_metrics"]["volume"]["read_iops"]["unit"] == "ops/s" and caps["is_historic"] is False

    before = snmp_array.snapshot()
    changed = snmp_array.churn(created=9, resized=6, deleted=4)
    offline = next(v.id for v in before.volumes if v.id in snmp_array.volumes and v.id not in changed["resized"])
    snmp_array.set_status("volumes", offline, "offline")
    snmp_array.set_status("pools", "pool-0001", "degraded")
    snmp_array.set_status("disks", "disk-0002", "failed")
    snmp_array.set_status("disks", "disk-0004", "offline")
    snmp_array.set_status("ports", "node-1:fc1", "down")
    snmp_array.advance(3600)  # counters and sysUpTime move; the inventory must not
    updated = set(changed["resized"]) | {offline}
    task = platform.sync_after_churn(storage["id"], snmp_array, 9, 4, updated, expected_inventory)
    assert task["result"]["disks"]["updated"] == 2 and task["result"]["ports"]["updated"] == 1

    snmp_array.advance(60)
    again = platform.sync(storage["id"])
    assert again["status"] == TaskStatus.COMPLETED and again["result"]["rows_written"] == 0


def test_v3_authpriv_sync_matches_the_model(platform, snmp_array, tmp_path):
    require_snmpd()
    # an agent that speaks SNMPv3 only, with SHA-256 and AES
    front = SnmpFrontEnd(snmp_array, community=None, v3_user="v3-only", v3_auth_key=V3_AUTH_KEY,
                         v3_priv_key=V3_PRIV_KEY, v3_auth_protocol="SHA-256",
                         state_dir=str(tmp_path / "v3"))  # fmt: skip
    front.start()
    try:
        overrides = {"serial_number": snmp_array.serial, "vendor": snmp_array.vendor, "model": snmp_array.model}
        body = snmp_body(front, "3", extra_attributes=overrides, auth_protocol="SHA256")
        storage = platform.register_and_sync(body)
        _no_secret_in(storage, platform.api.get("/v1/access-infos").json)
        want = expected_inventory(snmp_array.snapshot(), serial=snmp_array.serial, vendor=snmp_array.vendor,
                                  model=snmp_array.model)  # fmt: skip
        platform.assert_inventory(storage["id"], want)

        snmp_array.churn(created=3, deleted=3)
        assert platform.sync(storage["id"])["status"] == TaskStatus.COMPLETED
        want = expected_inventory(snmp_array.snapshot(), serial=snmp_array.serial, vendor=snmp_array.vendor,
                                  model=snmp_array.model)  # fmt: skip
        platform.assert_inventory(storage["id"], want)
        # v2c finds no community on this agent
        # an unknown user is refused at once (a REPORT PDU): the timeouts only bound a loaded machine
        CONF.set_override("probe_timeout", 20, group="storage_driver")
        CONF.set_override("timeout", 10, group="storage_driver")
        resp = platform.register(snmp_body(front, "3", username="nobody"), status=400)
        assert resp["error_code"] == "InvalidCredentials"
    finally:
        front.stop()


def test_registration_refuses_wrong_credentials_and_writes_nothing(platform, snmp_sim):
    # wrong v3 credentials are refused at once (a REPORT PDU): a long timeout only bounds a loaded machine
    CONF.set_override("timeout", 10, group="storage_driver")
    resp = platform.register(snmp_body(snmp_sim, "3", auth_key="Wrong-auth-key-01"), status=400)
    assert resp["error_code"] == "InvalidCredentials" and "rejected the credentials" in resp["error_msg"]
    resp = platform.register(snmp_body(snmp_sim, "3", username="intruder"), status=400)
    assert resp["error_code"] == "InvalidCredentials"
    # SNMPv2c: the agent ignores a wrong community, so all the driver can say is "no answer"
    CONF.set_override("timeout", 6, group="storage_driver")
    started = time.monotonic()
    resp = platform.register(snmp_body(snmp_sim, community="not-the-community"), status=400)
    assert resp["error_code"] == "BackendUnreachable" and "wrong community" in resp["error_msg"]
    assert time.monotonic() - started < 15
    resp = platform.register(snmp_body(snmp_sim, "3", auth_key="short"), status=400)
    assert resp["error_code"] == "InvalidAccessInfo" and "auth_key" in resp["error_msg"]
    _no_secret_in(resp, "Wrong-auth-key-01")
    assert platform.api.get("/v1/storages").json["storages"] == []
    assert platform.api.get("/v1/tasks").json["tasks"] == []


def _fails_writing_nothing(platform, storage_id: str, before: dict, *expected_words: str) -> None:
    task = platform.sync(storage_id)
    assert task["status"] == TaskStatus.FAILED, task
    assert task["result"] is None
    for word in expected_words:
        assert word in task["error"], task["error"]
    _no_secret_in(task)
    assert platform.inventory(storage_id) == before


def _recovers(platform, storage_id: str, array) -> dict:
    task = platform.sync(storage_id)
    assert task["status"] == TaskStatus.COMPLETED, task
    platform.assert_inventory(storage_id, expected_inventory(array.snapshot()))
    return platform.inventory(storage_id)


def _silent_agent_timeouts(on: bool) -> None:
    """6 s per call while the agent is slow or silent (the driver's retries or the platform's deadline
    report it, whichever a loaded machine lets end first); the default again for healthy syncs."""
    if on:
        CONF.set_override("timeout", 6, group="storage_driver")
    else:
        CONF.clear_override("timeout", group="storage_driver")


def test_sync_faults_fail_the_task_and_write_nothing(platform, snmp_sim, snmp_array):
    storage = platform.register_and_sync(snmp_body(snmp_sim))
    sid = storage["id"]
    before = platform.inventory(sid)
    faults = snmp_array.faults["snmp"]

    # every fault below comes after churn: a half-written sync would show
    snmp_array.churn(created=5, resized=5, deleted=5)
    faults.malformed = True  # hrStorageAllocationUnits served as a string
    _fails_writing_nothing(platform, sid, before, "hrStorageAllocationUnits", "not an integer")
    snmp_sim.malformed_kind = snmp_mib.MISSING_COLUMN  # volumes without hrStorageUsed
    _fails_writing_nothing(platform, sid, before, "has no hrStorageUsed", "incomplete")
    faults.malformed = False
    before = _recovers(platform, sid, snmp_array)

    snmp_array.churn(created=5, resized=5, deleted=5)
    faults.delay = 4.0  # longer than the 1.5 s an attempt may take
    _silent_agent_timeouts(True)
    _fails_writing_nothing(platform, sid, before, "answer within")
    faults.delay = 0.0
    _silent_agent_timeouts(False)
    before = _recovers(platform, sid, snmp_array)

    snmp_array.churn(created=5, resized=5, deleted=5)
    faults.drop_after = 200  # the agent goes silent in the middle of the hrStorageTable walk
    _silent_agent_timeouts(True)
    _fails_writing_nothing(platform, sid, before, "answer within")
    faults.drop_after = None
    _silent_agent_timeouts(False)
    before = _recovers(platform, sid, snmp_array)

    # the array's community is changed behind the platform's back
    snmp_array.churn(created=5, resized=5, deleted=5)
    snmp_sim.stop()
    snmp_sim.community = "rotated-community"
    snmp_sim.start()
    _silent_agent_timeouts(True)
    _fails_writing_nothing(platform, sid, before, "answer within")
    snmp_sim.stop()
    snmp_sim.community = COMMUNITY

    # the agent is gone
    _fails_writing_nothing(platform, sid, before, "answer within")
    assert platform.storage(sid)["sync_status"] == "FAILED"
    _silent_agent_timeouts(False)
    snmp_sim.start()
    _recovers(platform, sid, snmp_array)


def test_v3_wrong_auth_key_at_sync_is_invalid_credentials(platform, snmp_sim, snmp_array):
    storage = platform.register_and_sync(snmp_body(snmp_sim, "3"))
    before = platform.inventory(storage["id"])
    snmp_array.churn(created=2, deleted=2)
    snmp_sim.stop()
    snmp_sim.v3_auth_key = "Rotated-auth-key-01"
    snmp_sim.start()
    _fails_writing_nothing(platform, storage["id"], before, "rejected the credentials")


def _client(front: SnmpFrontEnd) -> SnmpClient:
    endpoint = models.AccessEndpoint(host="127.0.0.1", port=front.port, extra={"community": front.community})
    return SnmpClient(SnmpSettings.from_access_info(models.AccessInfo("generic", "snmp", snmp=endpoint, timeout=10)))


def test_agent_values_follow_the_model_clock_and_counters_only_grow(snmp_sim, snmp_array):
    uptime = (1, 3, 6, 1, 2, 1, 1, 3, 0)
    read_bytes = snmp_mib.DISKIO_ENTRY + (12,)  # diskIONReadX
    in_octets = snmp_mib.IFX_ENTRY + (6,)  # ifHCInOctets
    client = _client(snmp_sim)
    try:
        first = client.walk([read_bytes, in_octets], time.monotonic() + 10)
        assert client.get([uptime], time.monotonic() + 10)[uptime] == 0
        snmp_array.advance(125.5)
        assert client.get([uptime], time.monotonic() + 10)[uptime] == 12550
        second = client.walk([read_bytes, in_octets], time.monotonic() + 10)
        for column in (read_bytes, in_octets):
            assert set(first[column]) == set(second[column]) and len(first[column]) > 0
            assert all(second[column][i] > first[column][i] for i in first[column]), column
        # a volume's diskIO row carries the model's own counter
        volume = snmp_array.snapshot().volumes[0]
        rows = client.walk([snmp_mib.DISKIO_ENTRY + (2,)], time.monotonic() + 10)[snmp_mib.DISKIO_ENTRY + (2,)]
        index = next(i for i, name in rows.items() if name == volume.name.encode())
        assert second[read_bytes][index] == snmp_array.counters(volume.id).read_bytes
    finally:
        client.close()


def test_front_end_leaves_no_process_behind(snmp_array, tmp_path):
    require_snmpd()
    front = SnmpFrontEnd(snmp_array, state_dir=str(tmp_path / "hygiene")).start()
    client = _client(front)
    try:
        assert client.get([(1, 3, 6, 1, 2, 1, 1, 5, 0)], time.monotonic() + 10)  # spawns the relays
        group = front._proc.pid
    finally:
        client.close()
        front.stop()
    with pytest.raises(ProcessLookupError):
        os.killpg(group, 0)  # snmpd and every relay are gone
    late = _client(front)
    try:
        with pytest.raises(exceptions.DriverTimeout):
            late.get([(1, 3, 6, 1, 2, 1, 1, 5, 0)], time.monotonic() + 1.5)
    finally:
        late.close()
