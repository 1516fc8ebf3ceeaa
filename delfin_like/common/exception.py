"""Platform exceptions.

One base with a message format and an HTTP code, one intermediate base per
HTTP class, one leaf per condition. The API turns any of them into
``{"error_code": <class name>, "error_msg": <message>, "error_args": [...]}``
with ``code`` as the HTTP status.
"""


class DelfinLikeException(Exception):
    """Base of every platform error. Subclasses set ``_msg_fmt`` and ``code``."""

    _msg_fmt = "An unknown exception occurred."
    code = 500

    def __init__(self, *args, **kwargs):
        self.error_args = list(args)
        self.kwargs = kwargs
        try:
            message = self._msg_fmt % (kwargs or args) if (kwargs or args) else self._msg_fmt
        except (KeyError, TypeError, ValueError):
            message = self._msg_fmt
        super().__init__(message)
        self.msg = message

    @property
    def error_code(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict:
        return {
            "error_code": self.error_code,
            "error_msg": self.msg,
            "error_args": [str(a) for a in self.error_args],
        }


class BadRequest(DelfinLikeException):
    _msg_fmt = "The request is invalid."
    code = 400


class Unauthorized(DelfinLikeException):
    _msg_fmt = "Authentication is required."
    code = 401


class Forbidden(DelfinLikeException):
    _msg_fmt = "Not allowed."
    code = 403


class NotFound(DelfinLikeException):
    _msg_fmt = "The resource could not be found."
    code = 404


class Conflict(DelfinLikeException):
    _msg_fmt = "The request conflicts with the current state."
    code = 409


class ServiceUnavailable(DelfinLikeException):
    _msg_fmt = "A dependency of the service is unavailable."
    code = 503


# 400
class InvalidInput(BadRequest):
    _msg_fmt = "Invalid input: %s"


class MalformedRequestBody(BadRequest):
    _msg_fmt = "Malformed request body: %s"


class InvalidCredentials(BadRequest):
    _msg_fmt = "The back end rejected the credentials: %s"


class BackendUnreachable(BadRequest):
    _msg_fmt = "The back end could not be reached: %s"


class StorageDriverNotFound(BadRequest):
    _msg_fmt = "No driver for vendor %(vendor)r and model %(model)r."


class InvalidAccessInfo(BadRequest):
    _msg_fmt = "Invalid access info: %s"


class AccessProtocolNotUsed(BadRequest):
    _msg_fmt = "The %(driver)s driver is reached over %(used)s only; it does not use %(given)s."


class StorageBackendError(BadRequest):
    _msg_fmt = "The back end answered with an error: %s"


class NotSupported(BadRequest):
    _msg_fmt = "The storage's driver cannot do that: %s"


class JobsNotSupported(BadRequest):
    _msg_fmt = "Storage %s does not run jobs."


class InvalidJob(BadRequest):
    _msg_fmt = "The back end refused the job: %s"


# 405, 413: request-level errors raised by the REST API itself
class MethodNotAllowed(DelfinLikeException):
    _msg_fmt = "Method %s is not allowed on this resource."
    code = 405


class RequestBodyTooLarge(DelfinLikeException):
    _msg_fmt = "The request body is larger than %s bytes."
    code = 413


# 404
class StorageNotFound(NotFound):
    _msg_fmt = "Storage %s could not be found."


class StoragePoolNotFound(NotFound):
    _msg_fmt = "Storage pool %s could not be found."


class VolumeNotFound(NotFound):
    _msg_fmt = "Volume %s could not be found."


class ControllerNotFound(NotFound):
    _msg_fmt = "Controller %s could not be found."


class PortNotFound(NotFound):
    _msg_fmt = "Port %s could not be found."


class DiskNotFound(NotFound):
    _msg_fmt = "Disk %s could not be found."


class TaskNotFound(NotFound):
    _msg_fmt = "Task %s could not be found."


class AlertNotFound(NotFound):
    _msg_fmt = "Alert %s could not be found."


class AlertSourceNotFound(NotFound):
    _msg_fmt = "No snmp-config (alert source) for storage %s."


class ResourceNotFound(NotFound):
    _msg_fmt = "Resource %s could not be found."


class JobNotFound(NotFound):
    _msg_fmt = "Job %s could not be found."


# 409
class StorageAlreadyExists(Conflict):
    _msg_fmt = "A storage with the same %s is already registered."


class StorageSerialMismatch(Conflict):
    _msg_fmt = "The back end at the new address is a different array (serial number %s, registered %s)."


class TaskNotCancellable(Conflict):
    _msg_fmt = "Task %s cannot be cancelled: %s."


class JobAlreadyExists(Conflict):
    _msg_fmt = "A job with id %s exists on this storage already."


class StorageBeingDeleted(Conflict):
    _msg_fmt = "Storage %s is being deleted."


class DeploymentNameMismatch(Conflict):
    _msg_fmt = (
        "The database %(database_id)s belongs to deployment %(recorded)r, but this process is configured with "
        "deployment_name = %(configured)r. Set [DEFAULT] deployment_name = %(recorded)s, or, with every process "
        "of the deployment stopped, run: delfin-like-db-manage rename-deployment %(configured)s"
    )


class DeploymentNameInUse(Conflict):
    _msg_fmt = (
        "Deployment name %(name)r is already in use on the coordination backend by %(holder)s with database "
        "%(other_id)s; this process's database is %(database_id)s. Deployments sharing a RabbitMQ and a Redis "
        "need different [DEFAULT] deployment_name values; processes of one deployment must share one "
        "[database] connection."
    )


# 503
class DatabaseUnavailable(ServiceUnavailable):
    _msg_fmt = "The database is unavailable."


class MessageBusUnavailable(ServiceUnavailable):
    _msg_fmt = "The message bus is unavailable."


class LockUnavailable(ServiceUnavailable):
    _msg_fmt = "Could not take the lock %(name)s within %(timeout)s s."


class CoordinationUnavailable(ServiceUnavailable):
    _msg_fmt = "The coordination (lock) backend is unavailable."


# internal
class SyncAborted(DelfinLikeException):
    _msg_fmt = "Sync of storage %s was aborted: %s"
    code = 409


class SyncTimedOut(DelfinLikeException):
    _msg_fmt = (
        "Sync of storage %(storage_id)s stopped: it passed [storage_driver] sync_timeout (%(timeout)s s) "
        "while %(during)s; nothing was written."
    )


class SyncTooLarge(DelfinLikeException):
    _msg_fmt = (
        "Sync of storage %(storage_id)s stopped: the driver listed more than %(limit)s %(resource_type)s "
        "([storage_driver] sync_max_resources); nothing was written."
    )


class InternalError(DelfinLikeException):
    _msg_fmt = "An unexpected error occurred; the service log has the details."


class APIBindFailed(DelfinLikeException):
    _msg_fmt = "The REST API cannot listen on %(host)s:%(port)s: %(reason)s"


class APIConfigInvalid(DelfinLikeException):
    _msg_fmt = "The REST API refuses to start: %s"


class CryptoError(DelfinLikeException):
    _msg_fmt = "Could not decrypt a stored secret: %s"
