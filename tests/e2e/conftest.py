"""The lab fleet as a pytest session fixture: up once, torn down at the end even when tests fail.

CI=true: a lab that cannot start FAILS the tests (never a skip). Elsewhere it skips with the
reason. DRIFTCHECK_LAB_REUSE=1 uses a lab already started with `make lab-up` and leaves it up.
A session takes the lab lock first: concurrent sessions on one machine wait for each other.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

from tests.lab import fleet
from tests.lab.lab import Lab
from tests.lab.lock import session_lock
from tests.lab.paths import run_dir
from tests.lab.scenario import CONF
from tests.tools import unavailable

FIGURES: dict[str, float] = {}  # the session lab's measurements, shown in the terminal summary
LOCK_WAIT = 480.0  # below pytest-timeout's 600 s, which counts fixture setup too


@pytest.fixture(scope="session")
def lab_lock() -> Iterator[None]:
    """Held for the whole session by every test that starts lab hosts."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(session_lock(LOCK_WAIT))
        except TimeoutError as exc:
            unavailable(str(exc))
        yield


@pytest.fixture(scope="session")
def lab(lab_lock: None) -> Iterator[Lab]:
    if os.environ.get("DRIFTCHECK_LAB_REUSE") == "1" and (run_dir() / "state.json").exists():
        yield Lab.load()
        return
    started = start_lab()
    FIGURES.update(fleet.figures(), hosts=len(started.reachable()))
    try:
        yield started
    finally:
        fleet.down()


@pytest.fixture
def drift_undone(lab: Lab) -> Iterator[None]:
    """Modes a test changes on web02 and app02 are put back as the default scenario has them."""
    try:
        yield
    finally:
        lab.ssh("web02", f"chmod 0644 {CONF}")
        lab.ssh("app02", f"chmod 0666 {CONF}")


def start_lab() -> Lab:
    try:
        return fleet.up()
    except Exception as exc:  # up() has already torn down what it started
        unavailable(f"the lab fleet could not start: {exc}")
        raise


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        text = ", ".join(f"{key}={value:.1f}" for key, value in FIGURES.items())
        terminalreporter.write_line(f"lab figures: {text}")
