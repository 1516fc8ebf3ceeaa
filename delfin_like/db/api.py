"""The only door to the database.

Controllers and task jobs call these functions; they return plain dicts (or
sdk models), never ORM rows. Every function maps a lost or refused database
connection to :class:`~delfin_like.common.exception.DatabaseUnavailable`
(HTTP 503). Call :func:`configure` once per process (after fork) before use.
"""

from delfin_like.db.sqlalchemy import api as _impl

# engine lifecycle
configure = _impl.configure  # (connection_url: str | None = None) -> None; CONF when None
dispose = _impl.dispose  # () -> None
ping = _impl.ping  # () -> None; raises DatabaseUnavailable

# storages
storage_register = _impl.storage_register
storage_get = _impl.storage_get
storage_list = _impl.storage_list
storage_capabilities_get = _impl.storage_capabilities_get
storage_ids_for_sync = _impl.storage_ids_for_sync
storage_mark_deleting = _impl.storage_mark_deleting
storage_remove = _impl.storage_remove
storage_unregister = _impl.storage_unregister
access_info_get = _impl.access_info_get
access_info_update = _impl.access_info_update
access_info_list = _impl.access_info_list
access_info_replace = _impl.access_info_replace
access_info_rewrite_all = _impl.access_info_rewrite_all

# tasks
task_create = _impl.task_create
task_create_sync = _impl.task_create_sync
task_get = _impl.task_get
task_list = _impl.task_list
task_claim = _impl.task_claim
task_renew_leases = _impl.task_renew_leases
task_finish = _impl.task_finish
task_cancel = _impl.task_cancel
task_release = _impl.task_release
tasks_to_redispatch = _impl.tasks_to_redispatch

# inventory
resource_fingerprints = _impl.resource_fingerprints
sync_apply = _impl.sync_apply
resource_get = _impl.resource_get
resource_list = _impl.resource_list
