from oslo_config import cfg

group = cfg.OptGroup(
    "retention",
    title="Retention (pruning of finished tasks, finished jobs, cleared alerts and performance-collection records)",
)

DAY = 86400

opts = [
    cfg.BoolOpt(
        "enabled",
        default=True,
        help="Prune old records. The scheduler leader (or the all-in-one) does it every interval.",
    ),
    cfg.IntOpt("interval", default=600, min=1, help="Seconds between two retention runs of the scheduler leader."),
    cfg.IntOpt(
        "task_max_age",
        default=7 * DAY,
        min=0,
        help="Seconds a finished (COMPLETED, FAILED, CANCELLED) task is kept after it finished. 0: no age limit. "
        "PENDING and RUNNING tasks, the last FAILED task of each storage and type, a storage's latest sync "
        "task and a schedule's latest task are never pruned.",
    ),
    cfg.IntOpt(
        "tasks_per_storage_type",
        default=300,
        min=0,
        help="Finished tasks kept per (storage, task type), newest first: every perf window is a task, so "
        "300 keeps a day of 5-minute windows per resource type. 0: no count limit.",
    ),
    cfg.IntOpt(
        "job_max_age",
        default=30 * DAY,
        min=0,
        help="Seconds a finished preprocessing job is kept after its last update. 0: kept for ever.",
    ),
    cfg.IntOpt(
        "alert_max_age",
        default=30 * DAY,
        min=0,
        help="Seconds a cleared alert is kept after it was cleared. Open alerts are never pruned. 0: kept for ever.",
    ),
    cfg.IntOpt(
        "alert_delivery_max_age",
        default=DAY,
        min=0,
        help="Seconds an alert delivery may stay undelivered in the outbox (its exporter down or refusing it) "
        "before it is given up (logged). 0: kept until delivered.",
    ),
    cfg.IntOpt(
        "perf_gap_max_age",
        default=30 * DAY,
        min=0,
        help="Seconds a recorded performance-collection gap is kept. 0: no age limit.",
    ),
    cfg.IntOpt(
        "perf_gaps_per_series",
        default=100,
        min=0,
        help="Recorded gaps kept per (storage, resource type), newest first. 0: no count limit.",
    ),
    cfg.IntOpt(
        "batch_size",
        default=1000,
        min=1,
        help="Rows deleted per transaction: each batch is its own short transaction, so no table is locked for long.",
    ),
    cfg.IntOpt(
        "max_batches",
        default=200,
        min=1,
        help="Batches one retention run deletes at most (per kind of record); what is left waits for the next run.",
    ),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
