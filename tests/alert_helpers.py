"""Shared by the alert tests: net-snmp's snmptrap, and what they compare of the sdk alerts a driver lists."""

import shutil

import pytest

from tests import services


def require_snmptrap() -> str:
    """The path of net-snmp's ``snmptrap``; a skip without it, a failure with CI=true."""
    binary = shutil.which("snmptrap")
    if binary is None:
        message = "snmptrap is not installed (apt-get install -y snmp)"
        if services.IN_CI:
            pytest.fail(message + " (CI=true: net-snmp's snmptrap is required)")
        pytest.skip(message)
    return binary


def alerts_by_sequence(alerts) -> dict[str, dict]:
    """``sequence_number -> the fields a driver test checks`` of sdk alerts."""
    return {
        a.sequence_number: {
            "alert_id": a.alert_id, "severity": a.severity, "category": a.category, "description": a.description,
            "occur_time": a.occur_time, "resource_type": a.resource_type,
            "native_resource_id": a.native_resource_id, "cleared": a.cleared,
        }  # fmt: skip
        for a in alerts
    }
