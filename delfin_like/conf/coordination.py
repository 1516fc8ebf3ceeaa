from oslo_config import cfg

group = cfg.OptGroup("coordination", title="Distributed locks (tooz)")

opts = [
    cfg.StrOpt(
        "backend_url",
        secret=True,
        help="tooz backend URL, e.g. redis://127.0.0.1:6379. Unset: file locks under state_path "
        "(one machine only).",
    ),
    cfg.FloatOpt(
        "lock_wait_timeout",
        default=30.0,
        min=0,
        help="Longest wait for a storage lock before the task gives up (and is retried).",
    ),
    cfg.FloatOpt("heartbeat_interval", default=5.0, min=0.5, help="Seconds between tooz heartbeats."),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
