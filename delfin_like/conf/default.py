import os
import socket

from oslo_config import cfg


def _default_state_path() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "delfin-like")


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
]


def register_opts(conf):
    conf.register_opts(opts)
