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
from collections.abc import Iterable
from typing import Any

from delfin_like.sdk import models

NAMESPACE = "delfin_like.storage.drivers"


class StorageDriver(abc.ABC):
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
        """Which metrics the driver can collect; none unless overridden."""
        return {"is_historic": False, "resource_metrics": {}}

    def close(self) -> None:
        """Release connections; called when the service is done with the driver."""
        return None
