"""Alembic environment: migrates the database delfin_like is configured for.

The URL comes from ``config.attributes["connection"]`` (set by
``delfin_like.db.migration``), else from ``[database] connection`` / the
default SQLite file.
"""

from alembic import context

from delfin_like.db.sqlalchemy import alert_outbox, metrics, metrics_latest, models  # noqa: F401 - every table in the metadata
from delfin_like.db.sqlalchemy import engine as db_engine

target_metadata = models.Base.metadata


def run_migrations_online() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = db_engine.create_engine(config.attributes.get("url"))
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
