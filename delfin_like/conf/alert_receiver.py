from oslo_config import cfg

group = cfg.OptGroup(
    "alert_receiver",
    title="SNMP trap receiver (v1, v2c and v3 traps from the storages' alert sources)",
)

opts = [
    cfg.HostAddressOpt("host", default="127.0.0.1", help="Address the trap receiver binds its UDP socket to."),
    cfg.PortOpt(
        "port",
        default=16162,
        help="UDP port of the trap receiver (a high port: 162 needs privileges; point the arrays or a "
        "forwarding rule at it).",
    ),
    cfg.FloatOpt(
        "poll_interval",
        default=3.0,
        min=0.1,
        help="Seconds between two reads of the alert sources (snmp-config): an added, changed or removed "
        "source applies within this time, without a restart.",
    ),
    cfg.IntOpt(
        "queue_size",
        default=10000,
        min=1,
        help="Traps waiting for the storage's driver and the database at most; beyond it a trap is dropped "
        "and counted (the socket is never blocked by a slow consumer).",
    ),
    cfg.ListOpt(
        "serial_varbind_oids",
        default=[],
        help="OIDs (dotted) of varbinds that carry the array's serial number. When a trap carries one, it "
        "must equal the serial number of the matched storage; it resolves an address shared by several "
        "storages.",
    ),
    cfg.FloatOpt("log_interval", default=60.0, min=0.1, help="Seconds of the window of the rate-limited logs."),
    cfg.IntOpt(
        "log_burst",
        default=5,
        min=0,
        help="Log lines per reason (unmatched sender, failed authentication, malformed, dropped) in one "
        "log_interval at most; the rest are counted and their number is logged with the next line.",
    ),
    cfg.FloatOpt("stop_timeout", default=5.0, min=0.1, help="Seconds a stop waits for each receiver thread."),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
