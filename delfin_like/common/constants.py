"""Names shared by the API, the task manager and the database layer."""


class TaskStatus:
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    ACTIVE = (PENDING, RUNNING)
    FINISHED = (COMPLETED, FAILED, CANCELLED)
    ALL = (PENDING, RUNNING, COMPLETED, FAILED, CANCELLED)


class TaskType:
    SYNC = "sync"
    REMOVE = "remove"
    # performance collection: one window of one resource type, e.g. "perf_volume"
    PERF_PREFIX = "perf_"
    PERF = ("perf_storage", "perf_storage_pool", "perf_volume", "perf_controller", "perf_port", "perf_disk")
    # preprocessing jobs (computational storage): start one and follow it to its end; stop one
    JOB_SUBMIT = "job_submit"
    JOB_CANCEL = "job_cancel"
    # list the array's alerts and store what changed (issue 14), under a lock of its own
    ALERT_SYNC = "alert_sync"
    ALL = (SYNC, REMOVE, *PERF, JOB_SUBMIT, JOB_CANCEL, ALERT_SYNC)


class Lane:
    """Priority lanes; each is its own RPC topic so urgent work overtakes a backlog."""

    URGENT = "urgent"
    NORMAL = "normal"
    BACKGROUND = "background"
    ALL = (URGENT, NORMAL, BACKGROUND)


class SyncStatus:
    """What GET /v1/storages shows of the latest sync task of a storage."""

    SYNCING = "SYNCING"
    SYNCED = "SYNCED"
    FAILED = "FAILED"
    DELETING = "DELETING"


# resource types kept per storage, in the order a sync applies them
RESOURCE_TYPES = ("storage_pools", "volumes", "controllers", "ports", "disks")


class AlertState:
    OPEN = "open"
    CLEARED = "cleared"
    ALL = (OPEN, CLEARED)


class AlertSource:
    """Where a stored alert came from."""

    TRAP = "trap"
    SYNC = "sync"
    PLATFORM = "platform"
    ALL = (TRAP, SYNC, PLATFORM)


# the sdk Alert's enums (issue 14 contract), as stored and filtered
ALERT_SEVERITIES = ("fatal", "critical", "major", "minor", "warning", "informational", "not_specified")
ALERT_CATEGORIES = ("fault", "event", "recovery", "not_specified")
ALERT_TYPES = ("equipment", "communications", "processing_error", "quality_of_service", "environmental",
               "security", "not_specified")
