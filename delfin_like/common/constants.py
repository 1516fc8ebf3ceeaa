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
    ALL = (SYNC, REMOVE)


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
