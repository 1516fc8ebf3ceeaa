import os
import socket

from oslo_config import cfg


def _default_state_path() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "delfin-like")


# a deployment name goes into RPC topics, an exchange and tooz keys
DEPLOYMENT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"

opts = [
    cfg.StrOpt(
        "state_path",
        default=_default_state_path(),
        sample_default="$HOME/.local/share/delfin-like",
        help="Directory for local state: the all-in-one SQLite database, file locks and the "
        "generated Fernet key file.",
    ),
    cfg.StrOpt(
        "host",
        default=socket.gethostname(),
        sample_default="<hostname>",
        help="Name of this node; task managers use it in their lease owner id.",
    ),
    cfg.StrOpt(
        "deployment_name",
        default="default",
        regex=DEPLOYMENT_NAME_PATTERN,
        help="Name of this deployment: every process of one deployment (one database) sets the same. "
        "The RPC topics and exchange, the tooz group, lock and election names all derive from it, so "
        "deployments sharing a RabbitMQ and a Redis stay apart if their names differ. A process "
        "refuses to start if a live process of another database uses the same name on the "
        "coordination backend. Letters, digits, '_', '.', '-'.",
    ),
]


def register_opts(conf):
    conf.register_opts(opts)
