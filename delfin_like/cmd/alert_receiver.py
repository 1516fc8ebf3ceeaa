"""delfin-like-alert-receiver: the SNMP trap receiver (alerts of the storages' snmp-config into the database).

Listens on ``[alert_receiver]`` host and port (UDP). Each storage's snmp-config says which
sender address and credentials are its; a trap matched to a storage is parsed by that
storage's driver and stored as an alert with source ``trap``. Run one per listening
address. It needs the database, and the bus (``transport_url``, as the API's) only to cast the
alert syncs it requests for traps it could not parse whole: while the bus is away those wait,
PENDING, for the scheduler's re-dispatch. No locks.
"""

import sys

import delfin_like.cmd  # noqa: F401 - selects the threading backend first
from delfin_like.alert_manager import service
from delfin_like.cmd import common


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``delfin-like-alert-receiver``."""
    common.parse_config(argv, description="delfin-like SNMP trap receiver")
    return common.launch(
        common.ProcessService("delfin-like-alert-receiver", [service.AlertReceiverService()], uses_locks=False)
    )


if __name__ == "__main__":
    sys.exit(main())
