from oslo_config import cfg

group = cfg.OptGroup("task_manager", title="Task manager")

LANES = ("urgent", "normal", "background")

opts = [
    cfg.IntOpt("lease_seconds", default=60, min=5, help="Lease a running task holds; renewed while it runs."),
    cfg.IntOpt("workers_per_lane", default=4, min=1, help="Tasks one task manager runs at once in each lane."),
    cfg.IntOpt("max_attempts", default=3, min=1, help="Attempts before a task is FAILED for good."),
    cfg.IntOpt(
        "redispatch_after",
        default=120,
        min=5,
        help="Seconds a PENDING task may wait unclaimed before the scheduler casts it again.",
    ),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
