"""Cooperative cancellation of driver work: a deadline the service sets and drivers check.

A thread cannot be killed, so a driver call that runs past its deadline must
stop itself. The service runs every driver call inside :func:`scope` of a
:class:`Token` (a deadline and a cancel flag); a driver calls :func:`check` in
any loop that may run long without I/O, and :func:`sleep` instead of
``time.sleep``. Both raise :class:`~delfin_like.sdk.exceptions.Cancelled` once
the token has expired, so the work unwinds like any driver error. Outside a
scope both are no-ops (``sleep`` just sleeps), so a driver used on its own
behaves as before. The service reads driver generators through :func:`checked`,
so a listing stops at its next item even if the driver never checks.

The scope is per thread: a driver that starts threads of its own passes
:func:`current` to them and enters ``scope`` there.
"""

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator

from delfin_like.sdk import exceptions

_local = threading.local()


class Token:
    """A deadline (seconds from now, or none) and a cancel flag; expired if its parent is."""

    def __init__(self, timeout: float | None = None, parent: "Token | None" = None, what: str = "driver call"):
        self.what = what
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.parent = parent
        self._cancelled = threading.Event()
        self.reason: str | None = None

    def cancel(self, reason: str = "cancelled") -> None:
        """Make the work under this token stop at its next check."""
        self.reason = reason
        self._cancelled.set()

    def remaining(self) -> float | None:
        """Seconds left before the nearest deadline of this token or its parents (None: no deadline)."""
        own = None if self.deadline is None else self.deadline - time.monotonic()
        inherited = self.parent.remaining() if self.parent is not None else None
        if own is None:
            return inherited
        return own if inherited is None else min(own, inherited)

    @property
    def expired(self) -> bool:
        if self._cancelled.is_set() or (self.parent is not None and self.parent.expired):
            return True
        left = self.remaining()
        return left is not None and left <= 0

    def check(self) -> None:
        """Raise Cancelled if the token (or a parent) was cancelled or passed its deadline."""
        if self.expired:
            reason = self.reason or (self.parent.reason if self.parent is not None else None) or "deadline passed"
            raise exceptions.Cancelled(f"{self.what} stopped: {reason}")

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds``, waking early (and raising Cancelled) when the token expires."""
        end = time.monotonic() + seconds
        while True:
            self.check()
            left = end - time.monotonic()
            if left <= 0:
                return
            until_deadline = self.remaining()
            # a parent's cancel flag is not ours to wait on: wake at least every second to look
            step = min(left, 1.0 if until_deadline is None else max(until_deadline, 0.0) + 0.001)
            self._cancelled.wait(step)


def current() -> Token | None:
    """The token of the innermost :func:`scope` of this thread, if any."""
    stack = getattr(_local, "stack", None)
    return stack[-1] if stack else None


@contextlib.contextmanager
def scope(token: Token) -> Iterator[Token]:
    """Run the body with ``token`` as this thread's current token."""
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    stack.append(token)
    try:
        yield token
    finally:
        stack.pop()


def check() -> None:
    """Raise Cancelled if this thread's current token has expired; nothing outside a scope."""
    token = current()
    if token is not None:
        token.check()


def sleep(seconds: float) -> None:
    """``time.sleep`` that a cancel or a deadline cuts short (raising Cancelled)."""
    token = current()
    if token is None:
        time.sleep(seconds)
    else:
        token.sleep(seconds)


def checked(items: Iterable) -> Iterator:
    """Yield ``items`` (a driver's listing), checking this thread's token before each one."""
    token = current()
    for item in items:
        if token is not None:
            token.check()
        yield item
