from oslo_config import cfg

group = cfg.OptGroup("rpc", title="Task dispatch over oslo.messaging")

opts = [
    cfg.StrOpt(
        "topic",
        deprecated_for_removal=True,
        deprecated_reason="Derived from [DEFAULT] deployment_name.",
        help="Prefix of the task topics; each lane adds '.<lane>'. Unset: "
        "delfin_like.<deployment_name>.task.",
    ),
    cfg.IntOpt("cast_retry", default=2, min=0, help="Connection retries of a cast before the API answers 503."),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
