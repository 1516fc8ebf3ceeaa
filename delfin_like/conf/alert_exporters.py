"""``[alert_exporters]``, ``[alertmanager_exporter]`` and ``[jsonl_alert_exporter]`` (issue 14, alerts out)."""

from oslo_config import cfg

group = cfg.OptGroup("alert_exporters", title="Alert exporters: where every new, cleared and reopened alert goes")
alertmanager_group = cfg.OptGroup("alertmanager_exporter", title="The alertmanager alert exporter")
jsonl_group = cfg.OptGroup("jsonl_alert_exporter", title="The jsonl alert exporter")

opts = [
    cfg.ListOpt(
        "enabled",
        default=[],
        help="Alert exporters (stevedore namespace delfin_like.alert_exporters): alertmanager (Prometheus "
        "Alertmanager v2 API), notification (oslo.messaging notifications, event types delfin_like.alert.firing "
        "and delfin_like.alert.resolved), jsonl (a file, one line per delivered alert state), log. Every process "
        "that records alerts reads it: a new, cleared or reopened alert queues one delivery per exporter named "
        "here, in the transaction that changes the alert.",
    ),
    cfg.FloatOpt(
        "interval",
        default=1.0,
        min=0.05,
        help="Seconds between two polls of the delivery outbox by the dispatcher (the scheduler leader or the "
        "all-in-one); a full batch is followed by the next one at once.",
    ),
    cfg.IntOpt("batch_size", default=500, min=1, help="Alerts handed to one exporter in one delivery call."),
    cfg.FloatOpt(
        "retry_min",
        default=1.0,
        min=0.01,
        help="Seconds before the first retry of a delivery that failed; each further failure doubles the wait "
        "(with up to 20% jitter) up to retry_max.",
    ),
    cfg.FloatOpt("retry_max", default=60.0, min=0.01, help="Longest wait, in seconds, between two retries."),
    cfg.FloatOpt(
        "resend_interval",
        default=60.0,
        min=1.0,
        help="Seconds between two re-sends of every open alert to the exporters that want it (alertmanager: "
        "an alert not re-sent within its endsAt, 3 x this interval, resolves on its own).",
    ),
    cfg.FloatOpt(
        "timeout",
        default=10.0,
        min=0.1,
        help="Seconds one exporter may take for one delivery call; a slower call counts as failed (retried) and "
        "never holds up another exporter.",
    ),
]

alertmanager_opts = [
    cfg.ListOpt(
        "url",
        default=["http://127.0.0.1:9093"],
        help="Base URLs of Alertmanager (alerts are POSTed to <url>/api/v2/alerts). Several: the members of an "
        "Alertmanager HA cluster; each gets every alert and a delivery succeeds when one of them took it.",
    ),
]

jsonl_opts = [
    cfg.StrOpt(
        "path",
        default="",
        sample_default="$state_path/alerts/alerts.jsonl",
        help="File the jsonl alert exporter appends one JSON line to per delivered alert state; empty: "
        "alerts/alerts.jsonl under state_path.",
    ),
    cfg.BoolOpt(
        "fsync",
        default=False,
        help="fsync the file after every delivery call (a delivery then survives a crash of the machine, not only "
        "of the process); off, the lines are flushed to the operating system before a delivery counts.",
    ),
    cfg.IntOpt("max_bytes", default=100 * 1024 * 1024, min=1024,
               help="Size at which the jsonl alert file rotates (a delivery call is never split across files)."),
    cfg.IntOpt("backup_count", default=5, min=1, help="Rotated jsonl alert files kept (.1 is the newest)."),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
    conf.register_group(alertmanager_group)
    conf.register_opts(alertmanager_opts, group=alertmanager_group)
    conf.register_group(jsonl_group)
    conf.register_opts(jsonl_opts, group=jsonl_group)
