"""Distributed locks with tooz: one lock per storage, taken around the whole job.

The backend comes from ``[coordination] backend_url``: ``redis://...`` when
several task managers share the work, ``file://<state_path>/locks`` (the
default) on one machine. A lock that cannot be had within
``[coordination] lock_wait_timeout`` raises :class:`LockUnavailable`; a
backend that cannot be reached raises :class:`CoordinationUnavailable`. Both
are transient: the task manager hands the task back for a later attempt.
"""

import contextlib
import os
import socket
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator

import tooz
import tooz.coordination
from oslo_log import log as logging

from delfin_like.common import exception
from delfin_like.conf import CONF

LOG = logging.getLogger(__name__)

_lock = threading.Lock()
_coordinator: "Coordinator | None" = None


def backend_url() -> str:
    """The configured tooz URL, or file locks under ``state_path``."""
    url = CONF.coordination.backend_url
    if url:
        return url
    path = os.path.join(CONF.state_path, "locks")
    os.makedirs(path, exist_ok=True)
    return f"file://{path}"


def _scheme(url: str) -> str:
    return url.split(":", 1)[0]


def _probe_redis(url: str, timeout: float = 2.0) -> None:
    """Fail fast on a dead Redis: tooz retries a refused connection 15 times (over a minute)."""
    parsed = urllib.parse.urlsplit(url)
    with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=timeout):
        pass


def _bound_redis_retries(coord) -> None:
    """Make each redis command retry briefly (tooz retries the command 15 times itself).

    redis-py's default (10 retries with exponential back-off, ~5 s per command)
    times tooz's 15 attempts would hold a task for over a minute when Redis dies.
    """
    client = getattr(coord, "_client", None)  # tooz keeps the redis client private
    if client is None or not hasattr(client, "set_retry"):
        return
    from redis import backoff, retry

    client.set_retry(retry.Retry(backoff.ExponentialBackoff(cap=0.2, base=0.05), 1))


class Coordinator:
    """A started tooz coordinator plus the heartbeat thread that keeps its locks alive."""

    def __init__(self, url: str | None = None, member_id: str | None = None):
        """:param url: tooz URL (default :func:`backend_url`); :param member_id: unique member name."""
        self.url = url or backend_url()
        self.member_id = member_id or f"{CONF.host}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._tooz: tooz.coordination.CoordinationDriver | None = None
        self._stop = threading.Event()
        self._heart: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self._tooz is not None

    def start(self) -> "Coordinator":
        """Connect to the backend and start heart-beating.

        :raises CoordinationUnavailable: the backend cannot be reached.
        """
        is_redis = _scheme(self.url).startswith("redis")
        try:
            if is_redis:
                _probe_redis(self.url)
            coord = tooz.coordination.get_coordinator(self.url, self.member_id.encode())
            coord.start(start_heart=False)
            if is_redis:
                _bound_redis_retries(coord)
        except (tooz.ToozError, OSError) as e:
            LOG.warning("Coordination backend %s unavailable: %s", _scheme(self.url), e)
            raise exception.CoordinationUnavailable() from e
        self._tooz = coord
        self._stop.clear()
        self._heart = threading.Thread(target=self._beat, name="coordination-heartbeat", daemon=True)
        self._heart.start()
        LOG.info("Coordination started (%s backend, member %s)", _scheme(self.url), self.member_id)
        return self

    def _beat(self) -> None:
        # our own heart so [coordination] heartbeat_interval decides the pace
        while not self._stop.wait(CONF.coordination.heartbeat_interval):
            coord = self._tooz
            if coord is None:
                return
            try:
                coord.heartbeat()
            except Exception as e:  # noqa: BLE001 - a missed beat is retried, never fatal
                LOG.warning("Coordination heartbeat failed: %s", e)

    def stop(self) -> None:
        """Stop heart-beating and disconnect (releasing any lock still held)."""
        self._stop.set()
        coord, self._tooz = self._tooz, None
        if self._heart is not None:
            self._heart.join(timeout=5)
            self._heart = None
        if coord is not None:
            try:
                coord.stop()
            except tooz.ToozError as e:
                LOG.warning("Coordination stop failed: %s", e)

    def get_lock(self, name: str):
        if self._tooz is None:
            raise exception.CoordinationUnavailable()
        return self._tooz.get_lock(name.encode())


def get_coordinator() -> Coordinator:
    """The process-wide coordinator, started on first use (after fork)."""
    global _coordinator
    with _lock:
        if _coordinator is None or not _coordinator.started:
            _coordinator = Coordinator().start()
        return _coordinator


def stop() -> None:
    """Stop the process-wide coordinator, if any."""
    global _coordinator
    with _lock:
        coord, _coordinator = _coordinator, None
    if coord is not None:
        coord.stop()


def lock_name(storage_id: str) -> str:
    return f"storage-{storage_id}"


@contextlib.contextmanager
def storage_lock(storage_id: str, purpose: str, coordinator: Coordinator | None = None,
                 timeout: float | None = None) -> Iterator[None]:
    """Hold the lock ``storage-<id>`` for the body of the ``with`` block.

    :param storage_id: the storage the work is about.
    :param purpose: what the lock is for (``"sync"``, ``"remove"``), for the logs.
    :param coordinator: default: the process-wide one.
    :param timeout: seconds to wait; default ``[coordination] lock_wait_timeout``.
    :raises LockUnavailable: someone else held it for the whole wait.
    :raises CoordinationUnavailable: the backend cannot be reached.
    """
    coord = coordinator or get_coordinator()
    name = lock_name(storage_id)
    wait = CONF.coordination.lock_wait_timeout if timeout is None else timeout
    started = time.monotonic()
    try:
        lock = coord.get_lock(name)
        # tooz takes a number for blocking as the longest wait in seconds
        acquired = lock.acquire(blocking=wait if wait > 0 else False)
    except tooz.ToozError as e:
        LOG.warning("Lock %s for %s: coordination backend failed: %s", name, purpose, e)
        raise exception.CoordinationUnavailable() from e
    if not acquired:
        LOG.info("Lock %s for %s not acquired within %g s", name, purpose, wait)
        raise exception.LockUnavailable(name=name, timeout=f"{wait:g}")
    LOG.debug("Lock %s taken for %s after %.3f s", name, purpose, time.monotonic() - started)
    try:
        yield
    finally:
        try:
            lock.release()
        except tooz.ToozError as e:
            # the backend's lock timeout frees it anyway; the work itself is done
            LOG.warning("Lock %s for %s could not be released: %s", name, purpose, e)
