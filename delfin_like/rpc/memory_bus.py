"""An in-process kombu transport whose consumers block instead of polling.

kombu's ``memory`` transport answers "no message" at once, and oslo.messaging
sets its polling interval to 0 for ``memory://`` URLs, so every idle listener
thread of the all-in-one spins a core. This transport keeps kombu's in-memory
queues and exchanges but makes ``drain_events`` wait on one condition that
every publish (and ack) notifies: an idle listener sleeps until its poll
timeout, and a message wakes it at once (a ``call()`` stays in milliseconds).

oslo.messaging reaches it as ``transport_url = kombu+delfin-memory:////``
(:data:`SCHEME`); :func:`register` adds the alias to kombu before a transport
is made. Like ``kombu+memory``, it never leaves the process.

oslo.messaging's listener checks for a stop only between two polls (1 s with
this transport): :func:`hurry` makes every wait short for a moment, so a
server being stopped notices at once.
"""

import threading
import time
from collections import defaultdict
from queue import Empty

import kombu.transport
from kombu.transport import memory, virtual

# kombu's alias of this transport; oslo.messaging's URL is kombu+<ALIAS>:////
ALIAS = "delfin-memory"
SCHEME = f"kombu+{ALIAS}"
# seconds a wait lasts while hurrying: a stopping listener sees its stop flag this fast
HURRY_SLICE = 0.02
# seconds a hurry lasts: the stop flag is set within this of the hurry
HURRY_WINDOW = 2.0


class _Bus:
    """What every channel of the process shares: a generation counter and a condition on it."""

    def __init__(self):
        self.cond = threading.Condition()
        self.generation = 0
        self.hurry_until = 0.0

    def notify(self) -> None:
        with self.cond:
            self.generation += 1
            self.cond.notify_all()


_bus = _Bus()


def hurry(window: float = HURRY_WINDOW) -> None:
    """For ``window`` seconds, wake every waiting listener at least every :data:`HURRY_SLICE` s.

    Call just before stopping servers or the transport: their listeners then notice the stop at once.
    """
    with _bus.cond:
        _bus.hurry_until = time.monotonic() + window
        _bus.generation += 1
        _bus.cond.notify_all()


class Channel(memory.Channel):
    """kombu's in-memory channel, telling the bus about every message it queues or settles."""

    # a bus of its own, apart from kombu's memory:// transport
    events = defaultdict(set)
    queues = {}

    def _put(self, queue, message, **kwargs):
        super()._put(queue, message, **kwargs)
        _bus.notify()

    def _put_fanout(self, exchange, message, routing_key=None, **kwargs):
        super()._put_fanout(exchange, message, routing_key, **kwargs)
        _bus.notify()

    def basic_ack(self, delivery_tag, multiple=False):
        super().basic_ack(delivery_tag, multiple)
        # an ack frees prefetch room: a consumer held back by qos may take the next message
        _bus.notify()


class Transport(memory.Transport):
    """In-memory transport whose ``drain_events`` blocks until a message or the timeout."""

    Channel = Channel
    global_state = virtual.BrokerState()
    driver_type = ALIAS
    driver_name = ALIAS

    def drain_events(self, connection, timeout=None):
        """Deliver one message; raise ``TimeoutError`` if none came within ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with _bus.cond:
                seen = _bus.generation
            try:
                self.cycle.get(self._deliver, timeout=timeout)
                return
            except Empty:
                pass
            now = time.monotonic()
            hurrying = now < _bus.hurry_until
            wait = None if deadline is None else deadline - now
            if hurrying:
                wait = HURRY_SLICE if wait is None else min(wait, HURRY_SLICE)
            if wait is not None and wait <= 0:
                raise TimeoutError()
            with _bus.cond:
                if _bus.generation == seen:
                    _bus.cond.wait(wait)
            if hurrying:
                # one short wait only: hand back to the caller so it can see its stop flag
                with _bus.cond:
                    if _bus.generation == seen:
                        raise TimeoutError()


def register() -> None:
    """Make :data:`ALIAS` known to kombu (idempotent)."""
    kombu.transport.TRANSPORT_ALIASES.setdefault(ALIAS, f"{__name__}:Transport")
