"""The deployment identity of the database: one row with its name and a random database id."""

import uuid

import sqlalchemy as sa
from sqlalchemy import exc

from delfin_like.db.sqlalchemy import models
from delfin_like.db.sqlalchemy.engine import read, translate_errors, write
from delfin_like.db.sqlalchemy.utils import utcnow

identity = models.DeploymentIdentity.__table__


def _row_dict(row) -> dict:
    return {"database_id": row.database_id, "name": row.name, "created_at": row.created_at}


def _read() -> dict | None:
    with read() as conn:
        row = conn.execute(sa.select(identity).where(identity.c.singleton == 1)).first()
    return _row_dict(row) if row is not None else None


@translate_errors
def deployment_identity_get() -> dict | None:
    """``{"database_id", "name", "created_at"}`` of this database, or None before its first process."""
    return _read()


@translate_errors
def deployment_identity_ensure(name: str) -> dict:
    """The identity of this database; created with ``name`` and a new random id if it has none yet.

    Two processes starting at once on a new database agree: the second insert fails and reads the first's.
    """
    found = _read()
    if found is not None:
        return found
    try:
        with write() as conn:
            conn.execute(
                identity.insert(),
                {"singleton": 1, "database_id": str(uuid.uuid4()), "name": name, "created_at": utcnow()},
            )
    except exc.IntegrityError:
        pass  # another process created it meanwhile
    return _read()


@translate_errors
def deployment_rename(name: str) -> dict:
    """Record ``name`` as the deployment name of this database (the database id stays); returns the identity."""
    ensured = deployment_identity_ensure(name)
    if ensured["name"] != name:
        with write() as conn:
            conn.execute(identity.update().where(identity.c.singleton == 1).values(name=name))
    return _read()
