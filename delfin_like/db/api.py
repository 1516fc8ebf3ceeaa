"""The only door to the database.

Controllers and task jobs call these functions; they return plain dicts (or
sdk models), never ORM rows. Every function maps a lost or refused database
connection to :class:`~delfin_like.common.exception.DatabaseUnavailable`
(HTTP 503). Call :func:`configure` once per process (after fork) before use.
"""

from delfin_like.db.sqlalchemy import alert_batch as _alert_batch
from delfin_like.db.sqlalchemy import alert_outbox as _outbox
from delfin_like.db.sqlalchemy import alerts as _alerts
from delfin_like.db.sqlalchemy import api as _impl
from delfin_like.db.sqlalchemy import dispatch as _dispatch
from delfin_like.db.sqlalchemy import identity as _identity
from delfin_like.db.sqlalchemy import jobs as _jobs
from delfin_like.db.sqlalchemy import members as _members
from delfin_like.db.sqlalchemy import metrics as _metrics
from delfin_like.db.sqlalchemy import metrics_latest as _latest
from delfin_like.db.sqlalchemy import retention as _retention
from delfin_like.db.sqlalchemy import schedules as _schedules

# engine lifecycle
configure = _impl.configure  # (connection_url: str | None = None) -> None; CONF when None
dispose = _impl.dispose  # () -> None
ping = _impl.ping  # () -> None; raises DatabaseUnavailable

# the deployment this database belongs to: {"database_id", "name", "created_at"}
deployment_identity_get = _identity.deployment_identity_get  # () -> identity or None
deployment_identity_ensure = _identity.deployment_identity_ensure  # (name) -> identity, created if missing
deployment_rename = _identity.deployment_rename  # (name) -> identity

# storages
storage_register = _impl.storage_register
storage_get = _impl.storage_get
storage_list = _impl.storage_list
storage_capabilities_get = _impl.storage_capabilities_get
storage_mark_deleting = _impl.storage_mark_deleting
storage_remove = _impl.storage_remove
storage_unregister = _impl.storage_unregister
access_info_get = _impl.access_info_get
access_info_update = _impl.access_info_update
access_info_list = _impl.access_info_list
access_info_replace = _impl.access_info_replace
access_info_rewrite_all = _impl.access_info_rewrite_all
secrets_rewrite_all = _impl.secrets_rewrite_all  # (block transform, secret transform) -> counts; key rotation

# tasks
task_create = _impl.task_create
task_create_sync = _impl.task_create_sync
task_create_syncs = _impl.task_create_syncs
task_get = _impl.task_get
task_state = _impl.task_state  # (task_id) -> {status, lease_owner}; cancellation checks
task_list = _impl.task_list
task_claim = _impl.task_claim
task_progress_set = _impl.task_progress_set  # (task_id, owner, progress) -> still ours
task_lock_acquired = _impl.task_lock_acquired  # (task_id, owner) -> still ours; stamps lock_acquired_at
task_renew_leases = _impl.task_renew_leases
task_finish = _impl.task_finish
task_cancel = _impl.task_cancel
task_release = _impl.task_release
tasks_to_redispatch = _dispatch.tasks_to_redispatch  # (pending_older_than, max_attempts=None) -> [task]
tasks_pending_to_cast = _dispatch.tasks_pending_to_cast  # () -> [task]; when the first task manager joins

# schedules (sync policy of a storage; the scheduler's due scan and firing)
sync_policy_get = _schedules.sync_policy_get
sync_policy_set = _schedules.sync_policy_set
sync_policy_clear = _schedules.sync_policy_clear
schedules_due = _schedules.schedules_due
schedule_fire = _schedules.schedule_fire
# periodic alert sync (issue 14): missing schedules created; paused while the driver lists no alerts
alert_sync_schedules_ensure = _schedules.alert_sync_schedules_ensure  # (interval, limit=500) -> created
alert_sync_schedule_pause = _schedules.alert_sync_schedule_pause  # (storage_id) -> paused now
alert_sync_schedule_resume = _schedules.alert_sync_schedule_resume  # (storage_id) -> resumed now

# task managers' records
task_manager_register = _members.task_manager_register
task_manager_report = _members.task_manager_report
task_manager_list = _members.task_manager_list
task_managers_prune = _members.task_managers_prune

# inventory
resource_fingerprints = _impl.resource_fingerprints
sync_apply = _impl.sync_apply
resource_get = _impl.resource_get
resource_list = _impl.resource_list
resource_rows = _impl.resource_rows

# performance collection: metrics-config, windows, the export outbox, latest samples for /metrics
perf_config_get = _metrics.perf_config_get
perf_config_set = _metrics.perf_config_set
perf_window_state = _metrics.perf_window_state
perf_window_commit = _metrics.perf_window_commit
perf_window_failed = _metrics.perf_window_failed
perf_gaps_list = _metrics.perf_gaps_list
perf_batches_pending = _metrics.perf_batches_pending
perf_batch_settle = _metrics.perf_batch_settle
perf_batches_expire = _metrics.perf_batches_expire
metric_latest_put = _latest.metric_latest_put
metric_latest_rows = _latest.metric_latest_rows
perf_collection_states = _latest.perf_collection_states
alerts_open_counts = _latest.alerts_open_counts  # () -> open alerts per storage and severity (issue 14)

# preprocessing jobs of computational storage: the row mirrors the back end's record
job_create = _jobs.job_create  # (storage_id, spec, priority) -> (job, submit task); one transaction
job_get = _jobs.job_get
job_list = _jobs.job_list
job_for_task = _jobs.job_for_task  # (task_id) -> the job a submit or cancel task works on, or None
job_mirror = _jobs.job_mirror  # (job id, reported values) -> job; a CANCELLED job stays CANCELLED
job_cancel_request = _jobs.job_cancel_request  # (job id, priority) -> (job, cancel task | None, created)

# retention (the scheduler leader): each call deletes at most ``limit`` rows in one transaction, returns how many
tasks_prune_finished_before = _retention.tasks_prune_finished_before  # (before, limit) -> int
tasks_beyond_count = _retention.tasks_beyond_count  # (keep, limit) -> [ids] of prunable tasks beyond the count
tasks_delete_prunable = _retention.tasks_delete_prunable  # (ids) -> int; keeps unfinished and protected ones
jobs_prune_finished_before = _retention.jobs_prune_finished_before  # (before, limit) -> int
perf_gaps_prune_before = _retention.perf_gaps_prune_before  # (before, limit) -> int
perf_gaps_prune_overflow = _retention.perf_gaps_prune_overflow  # (keep, limit) -> int

alerts_prune_cleared_before = _alerts.alerts_prune_cleared_before  # (before, limit) -> int; open alerts stay

# alerts (issue 14): one row per (storage, source, sequence number); a repeat bumps repeat_count and last_seen
alert_record = _alerts.alert_record  # (storage_id, source, alert) -> (row dict, created)
alert_record_many = _alert_batch.alert_record_many  # [(storage_id, source, alert)] -> [(row, created) | error]
alert_list = _alerts.alert_list  # Listing (filters, paging, sort) plus since/until
alert_get = _alerts.alert_get
alert_clear = _alerts.alert_clear  # (id, by) -> row dict
# alert sync: queue (reusing a PENDING one), where to list from, write the changes + complete the task
task_create_alert_sync = _alerts.task_create_alert_sync  # (storage_id, priority) -> (task, created)
alert_sync_since = _alerts.alert_sync_since  # (storage_id) -> aware datetime | None
alert_sync_apply = _alerts.alert_sync_apply  # (storage_id, task_id, owner, listed alerts) -> result counts
alerts_of_sequence = _alerts.alerts_of_sequence  # (storage_id, sequence_number) -> rows; AlertNotFound
alerts_clear_sequence = _alerts.alerts_clear_sequence  # (storage_id, sequence_number, by) -> rows
sync_failures_in_a_row = _alerts.sync_failures_in_a_row  # (storage_id, limit) -> FAILED syncs since the last COMPLETED
# alert sources (a storage's snmp-config); secrets in clear only with reveal=True (the trap receiver)
alert_source_put = _alerts.alert_source_put  # (storage_id, values with secrets in clear) -> config without them
alert_source_get = _alerts.alert_source_get  # (storage_id, reveal=False)
alert_source_delete = _alerts.alert_source_delete
alert_sources_for_receivers = _alerts.alert_sources_for_receivers  # () -> secrets in clear + serial_number
alert_source_page = _alerts.alert_source_page  # list params -> Page, no secrets (the API's)

# the alert delivery outbox (issue 14, alerts out): the writers above queue; the dispatcher of the scheduler leader
# reads, delivers and settles (alert_manager/dispatch.py)
alert_deliveries_due = _outbox.alert_deliveries_due  # (exporter, limit, now=None) -> [delivery with its alert]
alert_deliveries_settle = _outbox.alert_deliveries_settle  # (exporter, delivered, failed=(), error=None)
alert_deliveries_expire = _outbox.alert_deliveries_expire  # (keep exporters) -> {exporter: rows given up}
alert_deliveries_prune_before = _outbox.alert_deliveries_prune_before  # (before, limit) -> int; retention
alert_deliveries_backlog = _outbox.alert_deliveries_backlog  # () -> {exporter: {pending, retrying, oldest}}
alerts_open_page = _outbox.alerts_open_page  # (after_id, limit) -> open alerts with storage_name; the re-send
