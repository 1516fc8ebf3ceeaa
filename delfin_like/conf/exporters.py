from oslo_config import cfg

group = cfg.OptGroup("exporters", title="Performance collection and the exporters its samples go to")

opts = [
    cfg.ListOpt(
        "enabled",
        default=["prometheus"],
        help="Exporters (stevedore namespace delfin_like.exporters) every batch of samples goes to: "
        "prometheus (latest sample per series, served by the API at GET /metrics), notification "
        "(oslo.messaging notifications, event type delfin_like.metrics), jsonl (a rotating file), log.",
    ),
    cfg.FloatOpt(
        "timeout",
        default=10.0,
        min=0.1,
        help="Seconds one exporter may take for one batch; a slower one is counted as failed for that "
        "batch (it is retried later) and never holds up the others.",
    ),
    cfg.IntOpt(
        "batch_size",
        default=5000,
        min=1,
        help="Samples per batch: a window with more samples is exported as several batches (one notification each).",
    ),
    cfg.IntOpt(
        "retention_seconds",
        default=3600,
        min=60,
        help="How long a failed window is retried (with back-off) and an undelivered batch kept before "
        "it is given up and recorded as a gap.",
    ),
    cfg.IntOpt(
        "max_backoff",
        default=600,
        min=1,
        help="Longest wait, in seconds, before retrying a window whose collection failed.",
    ),
    cfg.IntOpt(
        "collect_timeout",
        default=300,
        min=1,
        help="Seconds a driver may take to return the samples of one window.",
    ),
    cfg.IntOpt(
        "notification_retry",
        default=2,
        min=0,
        help="Connection retries of the notification exporter before a batch counts as not sent. "
        "The bus and topics are oslo.messaging's [oslo_messaging_notifications] transport_url and topics.",
    ),
    cfg.StrOpt(
        "jsonl_path",
        default="",
        sample_default="$state_path/metrics/samples.jsonl",
        help="File the jsonl exporter appends one JSON object per sample to; empty: under state_path.",
    ),
    cfg.IntOpt("jsonl_max_bytes", default=100 * 1024 * 1024, min=1024, help="Size at which the jsonl file rotates."),
    cfg.IntOpt("jsonl_backup_count", default=5, min=1, help="Rotated jsonl files kept (.1 is the newest)."),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
