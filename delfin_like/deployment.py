"""The deployment name, and every broker and coordination name derived from it.

One deployment is one database and every process working on it. Processes of
two deployments may share a RabbitMQ and a Redis: the RPC topics, the exchange,
the task manager group, the storage locks and the scheduler election all carry
``[DEFAULT] deployment_name``, so deployments with different names never take
each other's tasks, locks or leadership. The deprecated options ``[rpc] topic``,
``[task_manager] membership_group`` and ``[scheduler] election_group`` and
oslo.messaging's ``control_exchange``, when set, still win over the derived names.

Read at call time: these functions read CONF, never at import time.
"""

from oslo_config import cfg

from delfin_like.conf import CONF

PROJECT = "delfin_like"


def name() -> str:
    """The configured deployment name (``[DEFAULT] deployment_name``)."""
    return CONF.deployment_name


def prefix() -> str:
    """What every derived name starts with: ``delfin_like.<deployment_name>``."""
    return f"{PROJECT}.{name()}"


def rpc_topic() -> str:
    """Prefix of the task lane topics: ``[rpc] topic`` if set, else ``<prefix>.task``."""
    return CONF.rpc.topic or f"{prefix()}.task"


def _operator_set(option: str, group: str | None = None) -> bool:
    location = CONF.get_location(option, group)
    return location is not None and location.location not in (cfg.Locations.opt_default, cfg.Locations.set_default)


def rpc_exchange() -> str:
    """The oslo.messaging exchange of the task topics: ``control_exchange`` if the operator set it, else
    ``<prefix>``. (Queues are named by topic alone, so the topic carries the name too.)"""
    try:
        if _operator_set("control_exchange"):
            return CONF.control_exchange
    except cfg.NoSuchOptError:
        pass  # oslo.messaging's options are not registered yet: nobody set it
    return prefix()


def membership_group() -> str:
    """The tooz group of the task managers: ``[task_manager] membership_group`` if set, else
    ``<prefix>.task_managers``."""
    return CONF.task_manager.membership_group or f"{prefix()}.task_managers"


def election_group() -> str:
    """The scheduler's leader election: ``[scheduler] election_group`` if set, else ``<prefix>.scheduler``."""
    return CONF.scheduler.election_group or f"{prefix()}.scheduler"


def storage_lock_name(storage_id: str) -> str:
    """The tooz lock of one storage: ``<prefix>.storage-<id>``."""
    return f"{prefix()}.storage-{storage_id}"


def identity_group() -> str:
    """The tooz group every process joins with its database's identity (see :mod:`delfin_like.identity`)."""
    return f"{prefix()}.processes"
