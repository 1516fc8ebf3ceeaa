"""delfin-like-db-manage: ``upgrade [REV]``, ``current``, ``revision -m MSG [--autogenerate]``, ``rotate-keys``,
``show-deployment``, ``rename-deployment NAME``."""

import sys

from oslo_config import cfg

import delfin_like.cmd  # noqa: F401 - selects the threading backend first
from delfin_like.cmd import common
from delfin_like.conf import CONF


def _upgrade() -> int:
    from delfin_like.db import migration

    migration.upgrade(revision=CONF.command.revision)
    print(f"Database upgraded to {CONF.command.revision}")
    if CONF.command.revision == "head":
        return _show_deployment()  # a new database gets its identity now, named after this config
    return 0


def _show_deployment() -> int:
    """Print the deployment name and database id (recorded now with the configured name if missing)."""
    from delfin_like import identity
    from delfin_like.db import api as db_api

    db_api.configure()
    try:
        found = identity.database_identity()
    finally:
        db_api.dispose()
    print(f"Deployment {found['name']}, database {found['database_id']}")
    return 0


def _rename_deployment() -> int:
    """Record another deployment name in the database; every process must then be configured with it."""
    import re

    from delfin_like.conf import default
    from delfin_like.db import api as db_api

    if not re.match(default.DEPLOYMENT_NAME_PATTERN, CONF.command.new_name):
        print(f"delfin-like-db-manage rename-deployment: {CONF.command.new_name!r} is not a deployment name "
              "(letters, digits, '_', '.', '-'; at most 63)", file=sys.stderr)
        return 2
    db_api.configure()
    try:
        found = db_api.deployment_rename(CONF.command.new_name)
    finally:
        db_api.dispose()
    print(f"Deployment {found['name']}, database {found['database_id']}: set [DEFAULT] deployment_name = "
          f"{found['name']} in every process's configuration before starting them")
    return 0


def _current() -> int:
    from delfin_like.db import migration

    print(migration.current() or "(empty database)")
    return 0


def _revision() -> int:
    from delfin_like.db import migration

    migration.revision(CONF.command.message, autogenerate=CONF.command.autogenerate)
    return 0


def _rotate_keys() -> int:
    """Re-encrypt every stored secret (access info, snmp-configs) with the first Fernet key, in one transaction."""
    from delfin_like.common import crypto
    from delfin_like.db import api as db_api

    db_api.configure()
    try:
        counts = db_api.secrets_rewrite_all(crypto.rotate_block, crypto.rotate)
    finally:
        db_api.dispose()
    print(f"Re-encrypted the secrets of {counts['storages']} storage(s) and {counts['snmp_configs']} "
          "snmp-config(s) with the first key; keys after it can be removed once every process has the new list")
    return 0


def _add_parsers(subparsers) -> None:
    upgrade = subparsers.add_parser("upgrade", help="Upgrade the schema (to head by default).")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(func=_upgrade)
    current = subparsers.add_parser("current", help="Show the revision of the database.")
    current.set_defaults(func=_current)
    revision = subparsers.add_parser("revision", help="Write a new revision file.")
    revision.add_argument("-m", "--message", required=True)
    revision.add_argument("--autogenerate", action="store_true")
    revision.set_defaults(func=_revision)
    rotate = subparsers.add_parser("rotate-keys", help="Re-encrypt every stored secret with the first "
                                   "Fernet key ([security] fernet_keys or the key file).")
    rotate.set_defaults(func=_rotate_keys)
    show = subparsers.add_parser("show-deployment", help="Show the deployment name and database id "
                                 "(recorded with [DEFAULT] deployment_name if the database has none yet).")
    show.set_defaults(func=_show_deployment)
    rename = subparsers.add_parser("rename-deployment", help="Record another deployment name for this "
                                   "database (stop every process first).")
    rename.add_argument("new_name", metavar="NAME")
    rename.set_defaults(func=_rename_deployment)


command_opt = cfg.SubCommandOpt("command", title="Commands", handler=_add_parsers,
                                help="Database schema commands.")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``delfin-like-db-manage``."""
    if "command" not in CONF:
        CONF.register_cli_opt(command_opt)
    common.parse_config(argv, description="delfin-like database schema management", log_to_stderr=True)
    try:
        return CONF.command.func()
    except Exception as e:  # noqa: BLE001 - a one-line error, not a traceback, for operators
        print(f"delfin-like-db-manage {CONF.command.name}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
