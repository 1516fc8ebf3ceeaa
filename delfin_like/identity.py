"""One deployment name, one database: a process refuses to run beside another database's processes of its name.

Each database holds its deployment identity (a name and a random database id,
written by its first process or by ``delfin-like-db-manage upgrade``). Every
process checks that its configured ``[DEFAULT] deployment_name`` is the one its
database records, then joins the tooz group ``delfin_like.<name>.processes``
with its database id as a capability. If a live member of that group has a
different database id, the names collide: two deployments would take each
other's tasks, locks and leadership. The process that came later refuses
(:class:`~delfin_like.common.exception.DeploymentNameInUse`); nothing is guessed.

A database or backend that cannot be reached at start-up does not stop the
process: the check runs again every :data:`RETRY_INTERVAL` s until it passes,
then every :data:`VERIFY_INTERVAL` s (a restarted Redis forgets the group).
"""

import os
import threading
import time
from collections.abc import Callable

from oslo_log import log as logging

from delfin_like import coordination, deployment
from delfin_like.common import exception
from delfin_like.conf import CONF
from delfin_like.db import api as db_api

LOG = logging.getLogger(__name__)

RETRY_INTERVAL = 5.0
VERIFY_INTERVAL = 30.0

# what the check raises when the names collide, as opposed to a service being down
CONFLICTS = (exception.DeploymentNameMismatch, exception.DeploymentNameInUse)


def database_identity() -> dict:
    """This database's identity, created with the configured name if it has none.

    :raises DeploymentNameMismatch: the database records another name.
    :raises DatabaseUnavailable: the database cannot be reached.
    """
    found = db_api.deployment_identity_ensure(deployment.name())
    if found["name"] != deployment.name():
        raise exception.DeploymentNameMismatch(
            database_id=found["database_id"], recorded=found["name"], configured=deployment.name()
        )
    return found


class Registration:
    """This process's membership of the deployment's identity group, checked at start and kept up."""

    def __init__(
        self,
        process: str,
        coordinator: coordination.Coordinator | None = None,
        on_conflict: Callable[[exception.DelfinLikeException], None] | None = None,
    ):
        """:param process: the console script's name (shown to a colliding process);
        :param coordinator: default the process-wide one; :param on_conflict: called (from the
        background thread) with the error when a collision is found after :meth:`start` returned."""
        self.process = process
        self._coordinator = coordinator
        self._on_conflict = on_conflict
        self._identity: dict | None = None
        self._joined_at: float | None = None
        self._verified = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def verified(self) -> bool:
        """True once the database and the backend were both checked and no collision found."""
        return self._verified

    def _coord(self) -> coordination.Coordinator:
        return self._coordinator or coordination.get_coordinator()

    def _capabilities(self, coord: coordination.Coordinator) -> dict:
        return {
            "database_id": self._identity["database_id"],
            "process": self.process,
            "host": CONF.host,
            "pid": os.getpid(),
            "joined_at": self._joined_at,
            "member": coord.member_id,
        }

    def _colliding(self, coord: coordination.Coordinator, joined: bool) -> None:
        """Raise DeploymentNameInUse if a live member of another database is there (after joining:
        only one that joined before us, so that of two processes starting at once one stays)."""
        for member, caps in coordination.group_capabilities(coord, deployment.identity_group()).items():
            other = caps.get("database_id")
            if member == coord.member_id or not other or other == self._identity["database_id"]:
                continue
            theirs = (caps.get("joined_at") or 0.0, member)
            if joined and theirs > (self._joined_at, coord.member_id):
                continue  # it came later: it refuses, not us
            holder = f"{caps.get('process', 'a process')} on {caps.get('host', '?')} (pid {caps.get('pid', '?')})"
            raise exception.DeploymentNameInUse(
                name=deployment.name(), holder=holder, other_id=other, database_id=self._identity["database_id"]
            )

    def check(self) -> None:
        """Check the database's name and the group, join it (again if the backend forgot us), check again.

        :raises DeploymentNameMismatch, DeploymentNameInUse: the names collide.
        :raises DatabaseUnavailable, CoordinationUnavailable: a service is down (try again later).
        """
        if self._identity is None:
            self._identity = database_identity()
        coord = self._coord()
        group = deployment.identity_group()
        present = coord.member_id in coordination.group_capabilities(coord, group)
        if not present:
            if self._joined_at is None:
                self._colliding(coord, joined=False)
                self._joined_at = time.time()
            coordination.join_group(coord, group, self._capabilities(coord))
        self._colliding(coord, joined=True)
        if not self._verified:
            LOG.info(
                "Deployment %s (database %s): no other database uses the name on the coordination backend",
                deployment.name(),
                self._identity["database_id"],
            )
        self._verified = True

    def start(self) -> None:
        """Check now; if a service is down, keep checking in the background. Then re-check now and then.

        :raises DeploymentNameMismatch, DeploymentNameInUse: the names collide (the process must not run).
        """
        self._stop.clear()
        try:
            self.check()
        except exception.ServiceUnavailable as e:
            LOG.warning("Could not check the deployment name yet (%s); checking every %g s", e.msg, RETRY_INTERVAL)
        self._thread = threading.Thread(target=self._loop, name="deployment-identity", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(VERIFY_INTERVAL if self._verified else RETRY_INTERVAL):
            try:
                self.check()
            except CONFLICTS as e:
                if self._on_conflict is not None:
                    self._on_conflict(e)
                return
            except exception.ServiceUnavailable as e:
                LOG.debug("Deployment name check postponed: %s", e.msg)

    def stop(self) -> None:
        """Stop checking and leave the group (stopping the coordinator leaves it too)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        coord = self._coordinator
        if self._joined_at is not None and coord is not None and coord.started:
            coordination.leave_group(coord, deployment.identity_group())
