"""The storage driver contract.

A driver is constructed from an :class:`~delfin_like.sdk.models.AccessInfo`
and answers inventory questions with normalised models. Lists may be any
iterable, including generators that page through the back end, so that a
100k-volume array is never held in memory twice. Every call must finish within
``access_info.timeout`` seconds or raise
:class:`~delfin_like.sdk.exceptions.DriverTimeout`.

Drivers are registered under the stevedore namespace
``delfin_like.storage.drivers`` with the name ``"<vendor> <model>"``.
"""

import abc
import datetime
from collections.abc import Iterable
from typing import Any

from delfin_like.sdk import exceptions, models, rates

NAMESPACE = "delfin_like.storage.drivers"


class StorageDriver(abc.ABC):
    # the access blocks (rest, ssh, snmp) the driver reads; the platform refuses any other
    access_protocols: tuple[str, ...] = ("rest", "ssh", "snmp")

    def __init__(self, access_info: models.AccessInfo):
        self.access_info = access_info

    @abc.abstractmethod
    def get_storage(self) -> models.Storage:
        """Identity, status and capacity of the array."""

    @abc.abstractmethod
    def list_storage_pools(self) -> Iterable[models.StoragePool]:
        """Every pool of the array."""

    @abc.abstractmethod
    def list_volumes(self) -> Iterable[models.Volume]:
        """Every volume of the array."""

    # Optional listings: None means "this driver cannot list that", and a sync then
    # leaves whatever is stored for that type alone (an empty list deletes it all).
    def list_controllers(self) -> Iterable[models.Controller] | None:
        """Every controller (node) of the array, or None if the driver cannot tell."""
        return None

    def list_ports(self) -> Iterable[models.Port] | None:
        """Every port of the array, or None if the driver cannot tell."""
        return None

    def list_disks(self) -> Iterable[models.Disk] | None:
        """Every disk of the array, or None if the driver cannot tell."""
        return None

    def get_capabilities(self) -> dict[str, Any]:
        """Which metrics the driver can collect; none unless overridden.

        A driver that collects metrics returns :func:`delfin_like.sdk.perf.capabilities`.
        """
        return {"is_historic": False, "resource_metrics": {}}

    def collect_perf_metrics(
        self, resource_metrics: dict[str, list[str]], start: float, end: float
    ) -> Iterable[models.MetricSample]:
        """Samples of the window ``(start, end]`` (seconds since the epoch, UTC).

        :param resource_metrics: resource type -> metric names wanted, a subset of
            what ``get_capabilities()`` declared.
        :returns: :class:`~delfin_like.sdk.models.MetricSample` objects whose
            ``timestamp`` lies in the window. A driver reading counters "now" keeps
            its previous readings in :attr:`counters` (the service persists them
            between windows), so its first window has totals but no rates.
        :raises NotSupported: this driver collects no metrics (the default).
        """
        raise exceptions.NotSupported("this driver collects no performance metrics")

    @property
    def counters(self) -> rates.CounterTracker:
        """Last counter readings per resource, carried from one window to the next by the service."""
        tracker = self.__dict__.get("_counter_tracker")
        if tracker is None:
            tracker = self.__dict__["_counter_tracker"] = rates.CounterTracker()
        return tracker

    # Optional preprocessing jobs (computational storage). A driver that runs them says so
    # with "jobs" in get_capabilities() and overrides all three.
    def submit_job(self, spec: models.JobSpec) -> models.Job:
        """Start ``spec`` on the back end; returns the job as the back end recorded it.

        :raises JobAlreadyExists: the back end knows that job id already.
        :raises InvalidJob: the back end refuses the spec (the message says why).
        :raises NotSupported: this driver runs no jobs (the default).
        """
        raise exceptions.NotSupported("this driver runs no jobs")

    def get_job(self, job_id: str) -> models.Job:
        """The job's current state on the back end. :raises JobNotFound, NotSupported:"""
        raise exceptions.NotSupported("this driver runs no jobs")

    def cancel_job(self, job_id: str) -> models.Job:
        """Stop a pending or running job; returns its state after the attempt (a job that had
        already finished is returned as it is). :raises JobNotFound, NotSupported:"""
        raise exceptions.NotSupported("this driver runs no jobs")

    # Alerts. A driver that reads its array's event log overrides list_alerts (and clear_alert
    # when the array can mark an event fixed); one that understands its traps overrides parse_alert.
    def list_alerts(self, since: datetime.datetime | None = None) -> Iterable[models.Alert]:
        """The array's alerts, those that occurred at or after ``since`` (tz-aware UTC) when given.

        :raises NotSupported: this driver reads no alerts from the array (the default).
        """
        raise exceptions.NotSupported("this driver lists no alerts from the array")

    def clear_alert(self, sequence_number: str) -> None:
        """Mark the array's alert ``sequence_number`` fixed or cleared on the array.

        :raises NotSupported: this driver cannot clear alerts (the default).
        :raises BackendError: the array knows no such alert or refuses.
        """
        raise exceptions.NotSupported("this driver cannot clear alerts on the array")

    def parse_alert(self, trap: models.TrapInfo) -> models.Alert:
        """The alert an SNMP notification from the array stands for.

        :raises NotSupported: this driver parses no traps (the default).
        :raises BackendError: the trap is not one this driver understands.
        """
        raise exceptions.NotSupported("this driver parses no SNMP traps")

    def close(self) -> None:
        """Release connections; called when the service is done with the driver."""
        return None
