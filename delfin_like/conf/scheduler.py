from oslo_config import cfg

group = cfg.OptGroup("scheduler", title="Scheduler (periodic and one-shot syncs, re-dispatch)")

opts = [
    cfg.IntOpt(
        "periodic_sync_interval",
        default=3600,
        min=0,
        help="Seconds between periodic syncs of a storage registered without a sync_policy interval. "
        "0: storages get no periodic sync unless their sync policy sets one.",
    ),
    cfg.IntOpt(
        "min_sync_interval",
        default=60,
        min=1,
        help="Shortest periodic sync interval the API accepts for a storage.",
    ),
    cfg.FloatOpt(
        "tick_interval",
        default=1.0,
        min=0.05,
        help="Seconds between two looks at due schedules (and, for a follower, at the leadership).",
    ),
    cfg.FloatOpt(
        "redispatch_interval",
        min=0.1,
        help="Seconds between scans for tasks to cast again (expired leases, unclaimed PENDING tasks, "
        "retries whose back-off is over). Unset: a third of the shorter of [task_manager] "
        "redispatch_after and lease_seconds.",
    ),
    cfg.IntOpt("fire_batch_size", default=500, min=1, help="Due schedules read per query."),
    cfg.StrOpt(
        "election_group",
        deprecated_for_removal=True,
        deprecated_reason="Derived from [DEFAULT] deployment_name.",
        help="Name of the tooz leader election among delfin-like-scheduler processes; schedulers "
        "sharing a coordination backend and a name elect one leader. Unset: "
        "delfin_like.<deployment_name>.scheduler.",
    ),
    cfg.IntOpt(
        "leader_timeout",
        default=30,
        min=2,
        help="Seconds a leader that died without resigning keeps the lead: the tooz lock timeout of "
        "the election (a lock_timeout in [coordination] backend_url wins). A stopping scheduler "
        "resigns at once.",
    ),
    cfg.IntOpt(
        "task_manager_retention",
        default=86400,
        min=60,
        help="Seconds a stopped or silent task manager stays in GET /v1/task-managers.",
    ),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
