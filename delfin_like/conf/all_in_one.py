from oslo_config import cfg

group = cfg.OptGroup("all_in_one", title="delfin-like-all-in-one only")

opts = [
    cfg.BoolOpt(
        "demo_storage",
        default=True,
        help="On the first start, with an empty database, register a demo storage (the fake driver: "
        "4 pools, 100 volumes, a little churn at every sync, performance collection every minute) so a "
        "new installation has something to look at. It is registered once: delete it like any storage "
        "and it does not come back (the marker <state_path>/demo-storage.registered remembers).",
    ),
    cfg.BoolOpt(
        "alert_receiver",
        default=True,
        help="Run the SNMP trap receiver in this process too, on [alert_receiver] host and port (traps of "
        "the storages' snmp-config are parsed by their drivers and stored as alerts). A port that cannot be "
        "bound is logged and the rest runs without it.",
    ),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
