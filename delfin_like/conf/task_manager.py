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
    cfg.FloatOpt(
        "retry_backoff",
        default=5.0,
        min=0,
        help="Seconds before the first retry of a task handed back after a transient error "
        "(lock busy, back end or a service unreachable); doubled at every further attempt.",
    ),
    cfg.FloatOpt("retry_backoff_max", default=300.0, min=0, help="Longest back-off between two attempts."),
    cfg.FloatOpt(
        "report_interval",
        default=10.0,
        min=0.5,
        help="Seconds between two reports (heartbeat and task counters) of a task manager to the database.",
    ),
    cfg.FloatOpt(
        "service_down_time",
        default=60.0,
        min=1,
        help="A task manager whose last report is older than this is shown as down.",
    ),
    cfg.IntOpt(
        "sync_failures_alert",
        default=3,
        min=1,
        help="Consecutive FAILED syncs of a storage that raise its platform alert sync-failing "
        "(cleared by its next COMPLETED sync).",
    ),
    cfg.StrOpt(
        "membership_group",
        deprecated_for_removal=True,
        deprecated_reason="Derived from [DEFAULT] deployment_name.",
        help="tooz group every task manager joins; the scheduler casts waiting tasks again when the "
        "first member joins an empty group. Unset: delfin_like.<deployment_name>.task_managers.",
    ),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
