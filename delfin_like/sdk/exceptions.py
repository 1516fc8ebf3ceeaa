"""Exceptions a driver raises. The service maps them to platform errors at one
choke point (``delfin_like.driver_manager``), keeping what the user is
told apart from what the operator needs in the log."""


class DriverError(Exception):
    """Base of every driver failure.

    ``message`` is safe to show a user; ``detail`` is operator detail for the
    log (never a secret).
    """

    def __init__(self, message: str = "", detail: str | None = None):
        super().__init__(message or self.__class__.__doc__)
        self.message = message or (self.__class__.__doc__ or "").strip()
        self.detail = detail


class InvalidCredentials(DriverError):
    """The back end rejected the credentials."""


class BackendUnreachable(DriverError):
    """The back end could not be reached."""


class DriverTimeout(BackendUnreachable):
    """The back end did not answer in time."""


class Cancelled(DriverTimeout):
    """The driver call was stopped: it passed its deadline or was cancelled (see ``delfin_like.sdk.cancel``)."""


class InvalidAccessInfo(DriverError):
    """The access information is incomplete or invalid for this driver."""


class BackendError(DriverError):
    """The back end answered with an error or with data the driver cannot use."""


class InvalidTrap(BackendError):
    """The notification is not one the driver can read (another kind, or without what it needs)."""


class AlertIncomplete(BackendError):
    """The notification stands for an alert it does not carry whole (e.g. no sequence number); the
    array's event log has it, so the platform runs an alert sync of the storage."""


class NotSupported(DriverError):
    """The driver cannot do what was asked (e.g. it collects no performance metrics)."""


class JobNotFound(DriverError):
    """The back end knows no job of that id."""


class JobAlreadyExists(DriverError):
    """The back end knows that job id already."""


class InvalidJob(DriverError):
    """The back end refuses the job as specified (the message says why)."""
