"""One scan per report directory at a time: `flock` on REPORT_DIR/.lock.

flock, not a lock inside the database: the lock must also cover the run folders and `latest`, and
the kernel drops it when the holder dies, even by SIGKILL, so a crashed scan never leaves a stale
lock behind. The lock file is never removed (removing it would let two processes lock two
different files of the same name); it holds the pid of the last holder, for the message. It is
opened relative to the report directory's fd with O_NOFOLLOW: a symlink planted at `.lock` is
refused, never written through.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from driftcheck.errors import LockedError
from driftcheck.nightly.reportdir import ReportDir, open_report_dir, output_errors

LOCK_NAME = ".lock"


@contextmanager
def locked_report_dir(path: Path) -> Iterator[ReportDir]:
    """Open, check and lock the report directory at `path` (made if absent)."""
    with open_report_dir(path, create=True) as root, report_dir_lock(root):
        yield root


@contextmanager
def report_dir_lock(root: ReportDir) -> Iterator[None]:
    """Hold the report directory's lock, or raise LockedError at once (exit 75) if it is held."""
    with output_errors(root.path):
        fd = root.open_file(LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            message = f"another driftcheck scan holds {root.at(LOCK_NAME)} (pid {_holder(fd)})"
            raise LockedError(message) from None
        with output_errors(root.path):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the only descriptor releases the flock


def _holder(fd: int) -> str:
    """The pid the holder wrote; "unknown" if it has not written it yet."""
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return text if text.isdigit() else "unknown"
