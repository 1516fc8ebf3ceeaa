"""Firing due schedules: read what is due, fire each row once in the database, then cast.

The database does the exactly-once part (:func:`delfin_like.db.api.schedule_fire`
is a compare-and-set plus the task insert in one transaction); this module
only walks the due rows and casts what a firing created. A cast that fails
leaves a PENDING task row, which the re-dispatch scan casts later.
"""

import datetime

from oslo_context import context as oslo_context
from oslo_log import log as logging

from delfin_like.common import exception
from delfin_like.conf import CONF
from delfin_like.db import api as db_api
from delfin_like.rpc import client as rpc_client

LOG = logging.getLogger(__name__)

# due rows one tick handles at most, in pages of [scheduler] fire_batch_size
MAX_PAGES_PER_TICK = 20


class ScheduleFirer:
    """Fires the due schedules and casts the tasks the firings created."""

    def __init__(self, rpcapi: rpc_client.TaskAPI | None = None):
        self.rpcapi = rpcapi or rpc_client.TaskAPI()

    def fire_due(self, now: datetime.datetime | None = None) -> dict:
        """Fire every schedule due at ``now`` (naive UTC; default the current time).

        :returns: counts ``{"fired", "created", "cast", "lost"}``: firings this call won, tasks they
            created, tasks cast, and due rows another scheduler fired first (or that changed meanwhile).
        """
        counts = {"fired": 0, "created": 0, "cast": 0, "lost": 0}
        batch = CONF.scheduler.fire_batch_size
        bus_down = False
        ctxt = oslo_context.RequestContext()
        for _ in range(MAX_PAGES_PER_TICK):
            due = db_api.schedules_due(now, limit=batch)
            for schedule in due:
                outcome = db_api.schedule_fire(schedule, now)
                if outcome is None:
                    counts["lost"] += 1
                    continue
                counts["fired"] += 1
                task = outcome["task"]
                LOG.info(
                    "Schedule %s (%s) of storage %s fired: task %s%s",
                    schedule["id"],
                    schedule["kind"],
                    schedule["storage_id"],
                    task["id"],
                    "" if outcome["created"] else " (already queued)",
                )
                if not outcome["created"]:
                    continue
                counts["created"] += 1
                if bus_down:
                    continue
                try:
                    self.rpcapi.run_task(ctxt, task)
                    counts["cast"] += 1
                except exception.MessageBusUnavailable:
                    # the task row is there: the re-dispatch scan casts it once the bus is back
                    LOG.warning("Message bus unavailable: task %s waits for the re-dispatch scan", task["id"])
                    bus_down = True
            if len(due) < batch:
                break
        return counts
