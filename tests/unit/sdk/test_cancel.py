"""delfin_like.sdk.cancel: deadlines and cancel flags that driver work checks."""

import threading
import time

import pytest

from delfin_like.sdk import cancel
from delfin_like.sdk import exceptions as sdk_exc


def test_outside_a_scope_check_and_sleep_do_nothing_special():
    assert cancel.current() is None
    cancel.check()
    cancel.sleep(0)
    assert list(cancel.checked([1, 2])) == [1, 2]


def test_a_token_expires_at_its_deadline_or_when_cancelled():
    assert not cancel.Token().expired and cancel.Token().remaining() is None
    assert cancel.Token(-1).expired
    token = cancel.Token(60)
    assert not token.expired and 59 < token.remaining() <= 60
    token.cancel("no answer within 1 s")
    with pytest.raises(sdk_exc.Cancelled, match="no answer within 1 s"):
        token.check()
    # a Cancelled is a timeout to the service: BackendUnreachable
    assert issubclass(sdk_exc.Cancelled, sdk_exc.DriverTimeout)


def test_a_child_token_expires_with_its_parent():
    parent = cancel.Token(60, what="sync")
    child = cancel.Token(120, parent=parent)
    assert child.remaining() <= 60
    parent.cancel("sync cancelled")
    with pytest.raises(sdk_exc.Cancelled, match="sync cancelled"):
        child.check()


def test_scopes_nest_per_thread():
    outer, inner = cancel.Token(60), cancel.Token(30)
    seen = []
    with cancel.scope(outer):
        with cancel.scope(inner):
            assert cancel.current() is inner
            other = threading.Thread(target=lambda: seen.append(cancel.current()))
            other.start()
            other.join()
        assert cancel.current() is outer
    assert cancel.current() is None
    assert seen == [None]


def test_sleep_wakes_as_soon_as_the_token_is_cancelled():
    token = cancel.Token()
    threading.Timer(0.2, token.cancel).start()
    started = time.monotonic()
    with cancel.scope(token), pytest.raises(sdk_exc.Cancelled):
        cancel.sleep(30)
    assert time.monotonic() - started < 5


def test_sleep_ends_at_the_deadline():
    started = time.monotonic()
    with cancel.scope(cancel.Token(0.2)), pytest.raises(sdk_exc.Cancelled):
        cancel.sleep(30)
    assert time.monotonic() - started < 5


def test_checked_stops_a_listing_at_the_next_item():
    token = cancel.Token()
    seen = []
    with cancel.scope(token), pytest.raises(sdk_exc.Cancelled):
        for i in cancel.checked(range(1000)):
            seen.append(i)
            if i == 9:
                token.cancel()
    assert seen == list(range(10))
