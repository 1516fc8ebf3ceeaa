"""tooz coordination: one lock per storage, task manager membership, the scheduler's leader election.

The backend comes from ``[coordination] backend_url``: ``redis://...`` when
several task managers share the work, ``file://<state_path>/locks`` (the
default) on one machine. A lock that cannot be had within
``[coordination] lock_wait_timeout`` raises :class:`LockUnavailable`; a
backend that cannot be reached raises :class:`CoordinationUnavailable`. Both
are transient: the task manager hands the task back for a later attempt.
Task managers join a tooz group (:func:`join_group`); schedulers elect a
leader (:class:`LeaderElection`).

Redis without persistence forgets every lock when it restarts. So that two
holders never overlap across a restart, each holder's heartbeat puts its own
key back (:meth:`HeldLock.restore`), and a Redis up for less than the lock
timeout grants no storage lock: until then, a holder from before the restart
may still be putting its key back.
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

from delfin_like import deployment
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

    def __init__(self, url: str | None = None, member_id: str | None = None, heartbeat_interval: float | None = None):
        """:param url: tooz URL (default :func:`backend_url`); :param member_id: unique member name;
        :param heartbeat_interval: seconds between beats, default ``[coordination] heartbeat_interval``."""
        self.url = url or backend_url()
        self.member_id = member_id or f"{CONF.host}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.heartbeat_interval = heartbeat_interval
        self._tooz: tooz.coordination.CoordinationDriver | None = None
        self._stop = threading.Event()
        self._heart: threading.Thread | None = None
        # storage locks held now, restored by the heartbeat if the backend lost them
        self._held: set[HeldLock] = set()
        self._held_lock = threading.Lock()

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
        while not self._stop.wait(self.heartbeat_interval or CONF.coordination.heartbeat_interval):
            coord = self._tooz
            if coord is None:
                return
            self._restore_held()
            try:
                coord.heartbeat()
            except Exception as e:  # noqa: BLE001 - a missed beat is retried, never fatal
                LOG.warning("Coordination heartbeat failed: %s", e)

    def _restore_held(self) -> None:
        with self._held_lock:
            held = list(self._held)
        for lock in held:
            try:
                lock.restore()
            except Exception as e:  # noqa: BLE001 - the backend is down: the next beat tries again
                LOG.debug("Restoring lock %s failed: %s", lock.name, e)

    def track(self, lock: "HeldLock", held: bool) -> None:
        """Start (``held``) or stop restoring ``lock`` at every heartbeat."""
        with self._held_lock:
            if held:
                self._held.add(lock)
            else:
                self._held.discard(lock)

    def restart_grace(self) -> float:
        """Seconds before the backend may grant a lock: a Redis restarted less than the lock timeout
        ago waits for the holders from before the restart to restore their keys. 0 elsewhere."""
        driver = self.driver
        client, timeout = getattr(driver, "_client", None), getattr(driver, "lock_timeout", None)
        if client is None or not timeout:
            return 0.0
        try:
            uptime = float(client.info("server")["uptime_in_seconds"])
        except Exception as e:  # noqa: BLE001 - redis-py's own errors: the backend is unreachable
            raise exception.CoordinationUnavailable() from e
        return max(0.0, float(timeout) - uptime)

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

    @property
    def driver(self) -> tooz.coordination.CoordinationDriver:
        """The started tooz driver; CoordinationUnavailable when stopped."""
        if self._tooz is None:
            raise exception.CoordinationUnavailable()
        return self._tooz


def with_lock_timeout(url: str, seconds: int) -> str:
    """``url`` with the tooz option ``lock_timeout=<seconds>`` unless it already sets one.

    For redis it is how long a lock outlives the last heartbeat of a holder that died;
    drivers whose locks die with their process (file) ignore it.
    """
    parsed = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)
    if any(key == "lock_timeout" for key, _ in query):
        return url
    query.append(("lock_timeout", str(int(seconds))))
    return urllib.parse.urlunsplit(parsed._replace(query=urllib.parse.urlencode(query)))


class LeaderElection:
    """Leadership of ``group`` among the processes sharing a coordination backend.

    The leader is whoever holds the tooz lock ``leader-<group>``; the
    coordinator's heartbeat keeps it alive, so a leader that dies without
    resigning leads on for the backend's lock timeout at most. (tooz's own
    redis election takes the same kind of lock, but its driver implements
    neither ``get_leader`` nor ``stand_down_group_leader``: a leader could not
    tell it had lost the lock, nor resign.) Holding the lock is checked at every
    :meth:`campaign`, and a leader that cannot check steps down.
    """

    def __init__(self, coordinator: Coordinator, group: str):
        self.coordinator = coordinator
        self.group = group
        self._lock = None
        self.is_leader = False

    def campaign(self) -> bool:
        """Become leader if nobody is, or check that we still are; returns whether we lead now."""
        try:
            if self.is_leader:
                if self._still_owner():
                    return True
                LOG.warning("Lost the leadership of %s (its lock expired or was taken)", self.group)
                self._drop()
            if self._lock is None:
                self._lock = self.coordinator.get_lock(f"leader-{self.group}")
            if self._lock.acquire(blocking=False):
                self.is_leader = True
                LOG.info("Elected leader of %s (member %s)", self.group, self.coordinator.member_id)
        except (tooz.ToozError, exception.CoordinationUnavailable) as e:
            if self.is_leader:
                # unverifiable leadership is given up: another scheduler may hold it by now
                LOG.warning("Stepping down as leader of %s: coordination backend failed: %s", self.group, e)
                self._drop()
            else:
                LOG.debug("Campaign for %s failed: %s", self.group, e)
        return self.is_leader

    def _still_owner(self) -> bool:
        try:
            return bool(self._lock.is_still_owner())
        except tooz.NotImplemented:
            return True  # locks that live and die with their process

    def _drop(self) -> None:
        self.is_leader = False
        lock, self._lock = self._lock, None
        if lock is not None:
            try:
                lock.release()
            except Exception:  # noqa: BLE001 - a lock we no longer own needs no release
                LOG.debug("Releasing the old leader lock of %s failed", self.group, exc_info=True)

    def resign(self) -> None:
        """Give the leadership up at once (the lock is released, a follower takes over)."""
        if self.is_leader:
            LOG.info("Resigning the leadership of %s", self.group)
        self._drop()


def join_group(coordinator: Coordinator, group: str, capabilities: dict) -> None:
    """Join tooz group ``group`` (created if needed) as ``coordinator``'s member.

    :raises CoordinationUnavailable: the backend failed.
    """
    # not tooz's join_group_create: it sleeps a second before joining a group it just created
    group_id = group.encode()
    try:
        for _ in range(5):  # a group is created once and never deleted: the second try joins
            try:
                coordinator.driver.join_group(group_id, capabilities).get()
                return
            except tooz.coordination.MemberAlreadyExist:
                return
            except tooz.coordination.GroupNotCreated:
                try:
                    coordinator.driver.create_group(group_id).get()
                except tooz.coordination.GroupAlreadyExist:
                    pass  # another member created it meanwhile
    except tooz.ToozError as e:
        raise exception.CoordinationUnavailable() from e
    raise exception.CoordinationUnavailable()


def leave_group(coordinator: Coordinator, group: str) -> None:
    """Leave ``group``; a failure is logged (the membership expires with the heartbeats)."""
    try:
        coordinator.driver.leave_group(group.encode()).get()
    except (tooz.ToozError, exception.CoordinationUnavailable) as e:
        LOG.info("Leaving group %s: %s", group, e)


def group_members(coordinator: Coordinator, group: str) -> set[str]:
    """Member ids of ``group`` whose heartbeat is alive (empty if the group does not exist).

    :raises CoordinationUnavailable: the backend failed.
    """
    try:
        members = coordinator.driver.get_members(group.encode()).get()
    except tooz.coordination.GroupNotCreated:
        return set()
    except tooz.ToozError as e:
        raise exception.CoordinationUnavailable() from e
    return {m.decode() if isinstance(m, bytes) else str(m) for m in members}


def group_capabilities(coordinator: Coordinator, group: str) -> dict[str, dict]:
    """Live members of ``group`` with the capabilities each joined with (empty if no such group).

    :raises CoordinationUnavailable: the backend failed.
    """
    group_id = group.encode()
    try:
        try:
            found = coordinator.driver.get_members_with_capabilities(group_id).get()
        except tooz.NotImplemented:
            found = {
                m: coordinator.driver.get_member_capabilities(group_id, m).get()
                for m in coordinator.driver.get_members(group_id).get()
            }
    except tooz.coordination.GroupNotCreated:
        return {}
    except tooz.ToozError as e:
        raise exception.CoordinationUnavailable() from e
    return {(m.decode() if isinstance(m, bytes) else str(m)): caps or {} for m, caps in found.items()}


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


def lock_name(storage_id: str, scope: str | None = None) -> str:
    """The lock of one storage, named after the deployment (see :mod:`delfin_like.deployment`);
    with ``scope`` a lock of its own beside it (``<name>.<scope>``, e.g. the alert sync's)."""
    name = deployment.storage_lock_name(storage_id)
    return f"{name}.{scope}" if scope else name


class HeldLock:
    """A storage lock this process holds: what :func:`storage_lock` yields."""

    def __init__(self, name: str, lock):
        self.name = name
        self._lock = lock
        # restore() and release() exclude each other: a restore that read the token before a
        # release must not put the key back after it (the storage would stay locked until expiry)
        self._mutex = threading.Lock()
        self._released = False

    def release(self) -> None:
        """Release the lock; a later :meth:`restore` does nothing."""
        with self._mutex:  # waits for a restore under way: it finds the key and leaves it
            self._released = True
        self._lock.release()

    def still_held(self) -> bool:
        """False once the backend says the lock is gone or someone else's (one round trip on redis).

        A backend that cannot be asked counts as held: nobody can take the lock from it either.
        """
        try:
            return bool(self._lock.is_still_owner())
        except tooz.NotImplemented:
            return True  # locks that live and die with their process (file)
        except tooz.ToozError:
            return True

    def restore(self) -> bool:
        """Put our key back if the backend lost it (a Redis restart); returns True if it did."""
        inner, client = getattr(self._lock, "_lock", None), getattr(self._lock, "_client", None)
        with self._mutex:
            token = getattr(getattr(inner, "local", None), "token", None)  # tooz and redis-py keep these private
            if self._released or client is None or not token:
                return False
            # only if absent: a key that is there is ours, or someone else's after all
            restored = client.set(inner.name, token, nx=True, px=int(inner.timeout * 1000))
        if restored:
            LOG.warning("Lock %s had vanished from the coordination backend (restarted?); restored", self.name)
        return bool(restored)


@contextlib.contextmanager
def storage_lock(
    storage_id: str, purpose: str, coordinator: Coordinator | None = None, timeout: float | None = None,
    scope: str | None = None,
) -> Iterator[HeldLock]:
    """Hold the lock ``<deployment prefix>.storage-<id>`` for the body of the ``with`` block.

    :param storage_id: the storage the work is about.
    :param purpose: what the lock is for (``"sync"``, ``"remove"``), for the logs.
    :param coordinator: default: the process-wide one.
    :param timeout: seconds to wait; default ``[coordination] lock_wait_timeout``.
    :param scope: a lock of its own for that kind of work (``"alerts"``: an alert sync never
        waits behind an inventory sync); default the storage's one lock.
    :returns: (as the ``with`` target) a :class:`HeldLock`, to check the lock is still ours.
    :raises LockUnavailable: someone else held it for the whole wait.
    :raises CoordinationUnavailable: the backend cannot be reached.
    """
    coord = coordinator or get_coordinator()
    name = lock_name(storage_id, scope)
    wait = CONF.coordination.lock_wait_timeout if timeout is None else timeout
    started = time.monotonic()
    deadline = started + wait
    try:
        lock = coord.get_lock(name)
        acquired = False
        for _ in range(100):  # bounded: a backend restarting again and again ends in LockUnavailable
            grace, left = coord.restart_grace(), max(0.0, deadline - time.monotonic())
            if grace > 0:
                LOG.info("Lock %s for %s: the coordination backend restarted; no lock for %.1f s", name, purpose, grace)
                time.sleep(min(grace, left))
                if grace > left:
                    break
                continue
            # tooz takes a number for blocking as the longest wait in seconds
            acquired = lock.acquire(blocking=left if left > 0 else False)
            if not acquired or coord.restart_grace() <= 0:
                break
            # granted by a backend that restarted during the wait: its holder may not have restored it yet
            lock.release()
            acquired = False
    except tooz.ToozError as e:
        LOG.warning("Lock %s for %s: coordination backend failed: %s", name, purpose, e)
        raise exception.CoordinationUnavailable() from e
    if not acquired:
        LOG.info("Lock %s for %s not acquired within %g s", name, purpose, wait)
        raise exception.LockUnavailable(name=name, timeout=f"{wait:g}")
    LOG.debug("Lock %s taken for %s after %.3f s", name, purpose, time.monotonic() - started)
    held = HeldLock(name, lock)
    coord.track(held, True)
    try:
        yield held
    finally:
        coord.track(held, False)
        try:
            held.release()
        except tooz.ToozError as e:
            # the backend's lock timeout frees it anyway; the work itself is done
            LOG.warning("Lock %s for %s could not be released: %s", name, purpose, e)
