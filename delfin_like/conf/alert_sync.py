from oslo_config import cfg

group = cfg.OptGroup("alert_sync", title="Alert sync (the array's alerts listed and stored, issue 14)")

opts = [
    cfg.IntOpt(
        "interval",
        default=600,
        min=0,
        help="Seconds between periodic alert syncs of a storage whose driver lists alerts, unless its "
        "sync policy sets alert_sync_interval. Applies to storages registered from now on and to those "
        "that have no alert sync schedule yet (storages registered before alert sync was scheduled): "
        "the scheduler leader creates theirs, due at once. 0: no periodic alert sync for them.",
    ),
    cfg.FloatOpt(
        "trap_request_interval",
        default=60.0,
        min=0.0,
        help="Seconds a trap receiver waits, per storage, before it requests another alert sync because "
        "a trap of that storage could not be parsed whole. A request while one of the storage's alert "
        "syncs is still queued reuses it. 0: every such trap requests one.",
    ),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
