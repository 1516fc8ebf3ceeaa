from oslo_config import cfg

group = cfg.OptGroup("storage_driver", title="Storage driver calls")

opts = [
    cfg.FloatOpt("timeout", default=60.0, min=1, help="Seconds any single driver call may take."),
    cfg.FloatOpt("probe_timeout", default=20.0, min=1, help="Seconds the registration probe (get_storage) may take."),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
