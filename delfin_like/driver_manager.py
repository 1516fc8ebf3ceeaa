"""Loading storage drivers and calling them: the one choke point where driver
errors become platform errors.

Drivers are found by stevedore under ``delfin_like.storage.drivers`` with the
name ``"<vendor> <model>"``. Every call runs with a deadline; a driver
exception becomes a :mod:`delfin_like.common.exception` error whose message is
safe for users, while the driver's operator detail goes to the log.
"""

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import stevedore
from oslo_log import log as logging

from delfin_like.common import crypto, exception
from delfin_like.conf import CONF
from delfin_like.sdk import cancel, models
from delfin_like.sdk import driver as sdk_driver
from delfin_like.sdk import exceptions as sdk_exc

LOG = logging.getLogger(__name__)
T = TypeVar("T")

_ERROR_MAP: tuple[tuple[type, type], ...] = (
    (sdk_exc.InvalidCredentials, exception.InvalidCredentials),
    (sdk_exc.BackendUnreachable, exception.BackendUnreachable),
    (sdk_exc.InvalidAccessInfo, exception.InvalidAccessInfo),
    (sdk_exc.BackendError, exception.StorageBackendError),
    (sdk_exc.NotSupported, exception.NotSupported),
    (sdk_exc.DriverError, exception.StorageBackendError),
)

ACCESS_PROTOCOLS = ("rest", "ssh", "snmp")


def driver_name(vendor: str, model: str) -> str:
    return f"{vendor} {model}"


def available_drivers() -> list[str]:
    """Names of every installed driver."""
    return sorted(stevedore.ExtensionManager(sdk_driver.NAMESPACE).names())


def _driver_class(vendor: str, model: str) -> type:
    name = driver_name(vendor, model)
    try:
        mgr = stevedore.DriverManager(sdk_driver.NAMESPACE, name, invoke_on_load=False)
    except stevedore.exception.NoMatches:
        raise exception.StorageDriverNotFound(vendor=vendor, model=model)
    return mgr.driver


def lists_alerts(vendor: str, model: str) -> bool:
    """Whether the driver of ``vendor model`` lists its array's alerts: its class overrides the
    sdk's ``list_alerts`` (whose default raises NotSupported). Read from the class, nothing is called.

    :raises StorageDriverNotFound:
    """
    return getattr(_driver_class(vendor, model), "list_alerts", None) is not sdk_driver.StorageDriver.list_alerts


def check_access_protocols(body: dict) -> None:
    """Refuse a registration-shaped ``body`` with an access block its driver does not read.

    :raises StorageDriverNotFound, AccessProtocolNotUsed: (400s)
    """
    used = tuple(getattr(_driver_class(body["vendor"], body["model"]), "access_protocols", ACCESS_PROTOCOLS))
    given = [proto for proto in ACCESS_PROTOCOLS if body.get(proto) is not None and proto not in used]
    if given:
        raise exception.AccessProtocolNotUsed(
            driver=driver_name(body["vendor"], body["model"]), used=", ".join(used), given=", ".join(given)
        )


def access_info_from_request(body: dict, storage_id: str | None = None) -> models.AccessInfo:
    """Build the sdk AccessInfo from a (validated) registration body, secrets in clear."""
    blocks = {}
    for proto in ACCESS_PROTOCOLS:
        block = body.get(proto)
        if block:
            extra = {k: v for k, v in block.items() if k not in ("host", "port", "username", "password")}
            blocks[proto] = models.AccessEndpoint(
                host=block["host"],
                port=int(block["port"]),
                username=block.get("username"),
                password=block.get("password"),
                extra=extra,
            )
    return models.AccessInfo(
        vendor=body["vendor"],
        model=body["model"],
        storage_id=storage_id,
        extra_attributes=dict(body.get("extra_attributes") or {}),
        timeout=CONF.storage_driver.timeout,
        verify=CONF.storage_driver.verify,
        ca_path=CONF.storage_driver.ca_path,
        **blocks,
    )


def access_info_from_stored(stored: dict) -> models.AccessInfo:
    """Build the sdk AccessInfo from what ``db.api.access_info_get`` returned (decrypting)."""
    body = {
        "vendor": stored["vendor"],
        "model": stored["model"],
        "extra_attributes": stored.get("extra_attributes") or {},
    }
    for proto in ACCESS_PROTOCOLS:
        body[proto] = crypto.decrypt_block(stored.get(proto))
    return access_info_from_request(body, storage_id=stored.get("storage_id"))


def load(access_info: models.AccessInfo) -> sdk_driver.StorageDriver:
    """Construct the driver for ``access_info``; platform errors on failure."""
    cls = _driver_class(access_info.vendor, access_info.model)
    return call(cls, access_info, what="driver construction")


def translate(e: Exception, what: str) -> exception.DelfinLikeException:
    """Map a driver exception to a platform exception, logging the operator detail."""
    for sdk_cls, platform_cls in _ERROR_MAP:
        if isinstance(e, sdk_cls):
            LOG.warning("Driver %s failed: %s (%s)", what, e.message, e.detail or "no detail")
            return platform_cls(e.message)
    LOG.exception("Driver %s raised an unexpected %s", what, type(e).__name__)
    return exception.StorageBackendError(f"unexpected driver error ({type(e).__name__})")


def call(fn: Callable[..., T], *args: Any, what: str) -> T:
    """Call a driver function, translating driver errors."""
    try:
        return fn(*args)
    except exception.DelfinLikeException:
        raise
    except Exception as e:  # noqa: BLE001 - the choke point: everything a driver raises
        raise translate(e, what) from e


def call_with_deadline(fn: Callable[[], T], timeout: float, what: str) -> T:
    """Run ``fn`` in a helper thread and give up after ``timeout`` seconds.

    ``fn`` runs under a :class:`delfin_like.sdk.cancel.Token` of ``timeout`` s (within the
    caller's own token, if any, so a sync's deadline bounds it too). On timeout the token is
    cancelled: the driver's next :func:`~delfin_like.sdk.cancel.check` (and every listing of the
    platform) raises, and the thread ends instead of working on for nothing. The caller gets
    BackendUnreachable at once, so a hung back end never hangs the caller.
    """
    box: dict[str, Any] = {}
    done = threading.Event()
    token = cancel.Token(timeout, parent=cancel.current(), what=f"driver {what}")

    def runner():
        with cancel.scope(token):
            try:
                box["result"] = call(fn, what=what)
            except BaseException as e:  # noqa: BLE001 - handed to the caller
                box["error"] = e
            finally:
                done.set()

    threading.Thread(target=runner, name=f"driver-{what}", daemon=True).start()
    if not done.wait(max(0.0, token.remaining())):
        token.cancel(f"no answer within {timeout:g} s")
        LOG.warning("Driver %s did not answer within %.1f s; it was told to stop", what, timeout)
        raise exception.BackendUnreachable(f"no answer within {timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box["result"]


def close_quietly(driver: sdk_driver.StorageDriver, about: str) -> None:
    """Close ``driver``, logging (never raising) a failure: closing must not hide the outcome of
    the work done with it. ``about`` names that work in the log line (``storage <id>``, ``job <id>``)."""
    try:
        driver.close()
    except Exception:  # noqa: BLE001 - any driver error; the caller's own outcome matters more
        LOG.warning("Driver close failed for %s", about, exc_info=True)


def probe_with_capabilities(access_info: models.AccessInfo) -> tuple[models.Storage, dict]:
    """The registration probe: load the driver, call ``get_storage`` and ``get_capabilities``
    within the probe timeout. Returns both; raises platform errors."""
    timeout = CONF.storage_driver.probe_timeout

    def _probe():
        drv = load(access_info)
        try:
            return drv.get_storage(), drv.get_capabilities()
        finally:
            drv.close()

    storage, capabilities = call_with_deadline(_probe, timeout, what="probe")
    if not isinstance(storage, models.Storage):
        raise exception.StorageBackendError("driver returned no storage")
    if not isinstance(capabilities, dict):
        raise exception.StorageBackendError("driver returned malformed capabilities")
    return storage, capabilities


def probe(access_info: models.AccessInfo) -> models.Storage:
    """The registration probe, storage only (see :func:`probe_with_capabilities`)."""
    return probe_with_capabilities(access_info)[0]


__all__ = [
    "access_info_from_request",
    "access_info_from_stored",
    "available_drivers",
    "call",
    "check_access_protocols",
    "call_with_deadline",
    "close_quietly",
    "lists_alerts",
    "load",
    "probe",
    "probe_with_capabilities",
    "translate",
]
