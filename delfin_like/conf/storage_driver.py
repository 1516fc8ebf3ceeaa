from oslo_config import cfg

group = cfg.OptGroup("storage_driver", title="Storage driver calls")

opts = [
    cfg.FloatOpt("timeout", default=60.0, min=1, help="Seconds any single driver call may take."),
    cfg.FloatOpt("probe_timeout", default=20.0, min=1, help="Seconds the registration probe (get_storage) may take."),
    cfg.FloatOpt(
        "sync_timeout",
        default=1800.0,
        min=1,
        help="Seconds a whole sync of one storage may take once it holds the storage lock: get_storage, "
        "every listing and get_capabilities. A sync past it stops, writes nothing and its task FAILS.",
    ),
    cfg.IntOpt(
        "sync_max_resources",
        default=1_000_000,
        min=1,
        help="The most resources of one type (volumes, pools, ...) a sync lists before it stops, writes "
        "nothing and its task FAILS: a bound on the memory one listing can take (about 1 KB each).",
    ),
    cfg.BoolOpt(
        "verify",
        default=True,
        help="REST drivers verify the back end's TLS certificate. Turn off only for arrays with "
        "self-signed certificates you cannot replace; prefer ca_path.",
    ),
    cfg.StrOpt(
        "ca_path",
        help="CA bundle file (or directory of hashed CA certificates) REST drivers verify back "
        "ends against. Unset: the system's CAs.",
    ),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
