"""csd nvme: SMART critical warnings as alert conditions, worded as the health check words them."""

import dataclasses

import pytest

from delfin_like_drivers.csd import driver as csd_driver
from delfin_like_drivers.csd import nvme
from delfin_like_drivers.csd.grpc_api import pb


def _smart(**fields) -> nvme.SmartLog:
    msg = pb.SmartLog(controller="nvme0", available_spare=100, available_spare_threshold=10, percentage_used=3)
    return dataclasses.replace(csd_driver.smart_from_message(msg), **fields)


def test_healthy_has_no_condition():
    assert csd_driver.smart_conditions(_smart()) == []


@pytest.mark.parametrize("bits", [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x3F, 0x0A])
def test_each_bit_is_one_condition_worded_like_the_health_check(bits):
    smart = _smart(critical_warning=bits)
    conditions = csd_driver.smart_conditions(smart)
    assert len(conditions) == bin(bits).count("1")
    assert [c[3] for c in conditions] == nvme.health_problems(smart)
    assert len({c[0] for c in conditions}) == len(conditions)


def test_spare_without_the_bit_and_endurance():
    conditions = csd_driver.smart_conditions(_smart(available_spare=5, percentage_used=120))
    assert [(c[0], c[1]) for c in conditions] == [("endurance_used_up", "warning"), ("available_spare", "major")]
    assert [c[3] for c in conditions] == nvme.health_problems(_smart(available_spare=5, percentage_used=120))


def test_severities():
    by_code = {c[0]: c for c in csd_driver.smart_conditions(_smart(critical_warning=0x3F))}
    assert by_code["read_only"][1] == "critical" and by_code["temperature"][2] == "environmental"
