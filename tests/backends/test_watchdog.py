"""The watchdog closes what it guards at the deadline, and only then."""

from __future__ import annotations

import threading
import time

from driftcheck.backends.watchdog import Watchdog


class Thing:
    def __init__(self) -> None:
        self.closed = threading.Event()

    def close(self) -> None:
        self.closed.set()


def test_fires_at_the_deadline_and_rearming_moves_it() -> None:
    thing = Thing()
    dog = Watchdog(time.monotonic() + 0.2)
    dog.guard(thing)
    dog.rearm(time.monotonic() + 1.5)  # margins for a loaded machine: only early firing fails
    assert not thing.closed.wait(0.6)  # the first deadline no longer holds
    assert thing.closed.wait(5)
    assert dog.fired


def test_rearming_at_the_same_deadline_keeps_the_timer_and_still_fires() -> None:
    thing = Thing()
    deadline = time.monotonic() + 0.3
    dog = Watchdog(deadline)
    dog.guard(thing)
    timer = dog._timer
    dog.rearm(deadline)
    assert dog._timer is timer  # no second timer thread
    assert thing.closed.wait(2)


def test_a_cancelled_watchdog_never_fires_unless_rearmed() -> None:
    cancelled, rearmed = Thing(), Thing()
    deadline = time.monotonic() + 0.2
    quiet, again = Watchdog(deadline), Watchdog(deadline)
    quiet.guard(cancelled)
    again.guard(rearmed)
    quiet.cancel()
    again.cancel()
    again.rearm(deadline)  # armed again, at the same deadline: a new timer
    assert rearmed.closed.wait(2)
    assert not cancelled.closed.wait(0.3)
    assert not quiet.fired
