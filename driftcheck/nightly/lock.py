"""One scan per report directory at a time: `flock` on REPORT_DIR/.lock.

flock, not a lock inside the database: the lock must also cover the run folders and `latest`, and
the kernel drops it when the holder dies, even by SIGKILL, so a crashed scan never leaves a stale
lock behind. The lock file is never removed (removing it would let two processes lock two
different files of the same name); it holds the pid of the last holder, for the message.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from driftcheck.errors import LockedError

LOCK_NAME = ".lock"


@contextmanager
def report_dir_lock(report_dir: Path) -> Iterator[None]:
    """Hold the report directory's lock, or raise LockedError at once (exit 75) if it is held."""
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(f"another driftcheck scan holds {path} (pid {_holder(fd)})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the only descriptor releases the flock


def _holder(fd: int) -> str:
    """The pid the holder wrote; "unknown" if it has not written it yet."""
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return text if text.isdigit() else "unknown"
