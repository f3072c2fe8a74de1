"""One pytest session at a time drives the lab: several people (or helpers) may run the whole
suite at once on one machine, and a second `up` would otherwise tear down the first one's lab."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tests.lab.paths import run_dir


@contextmanager
def session_lock(timeout: float) -> Iterator[None]:
    """Hold run.lock beside the run dir; TimeoutError when another holder keeps it past timeout."""
    path = run_dir().with_name(f"{run_dir().name}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while not _try_lock(fd):
            if time.monotonic() > deadline:
                raise TimeoutError(f"another test session held the lab for {timeout:.0f}s")
            time.sleep(0.5)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
