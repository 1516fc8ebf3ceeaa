"""Option listing for oslo-config-generator (entry point oslo.config.opts)."""

from delfin_like.conf import (
    alert_exporters,
    alert_receiver,
    alert_sync,
    all_in_one,
    api,
    coordination,
    database,
    default,
    exporters,
    retention,
    rpc,
    scheduler,
    security,
    storage_driver,
    task_manager,
)


def list_opts():
    return [
        ("DEFAULT", default.opts),
        (alert_exporters.group, alert_exporters.opts),
        (alert_exporters.alertmanager_group, alert_exporters.alertmanager_opts),
        (alert_exporters.jsonl_group, alert_exporters.jsonl_opts),
        (alert_receiver.group, alert_receiver.opts),
        (alert_sync.group, alert_sync.opts),
        (all_in_one.group, all_in_one.opts),
        (api.group, api.opts),
        (coordination.group, coordination.opts),
        (database.group, database.opts),
        (exporters.group, exporters.opts),
        (retention.group, retention.opts),
        (rpc.group, rpc.opts),
        (scheduler.group, scheduler.opts),
        (security.group, security.opts),
        (storage_driver.group, storage_driver.opts),
        (task_manager.group, task_manager.opts),
    ]
