"""Files that are either the old version or the new one, never half of either.

The recipe: write a temporary file in the same directory, fsync it, rename it over the target,
fsync the directory (so the rename itself survives a power cut). A process killed at any point
leaves the previous file intact and, at worst, a `.NAME.*.tmp` file beside it.

Every step is relative to an open directory fd and never follows a symlink: the temporary file is
created with O_CREAT|O_EXCL|O_NOFOLLOW (a name planted in advance makes it fail, it is never
written through), and rename(2) replaces the entry itself. So a symlink planted at the target
name is replaced by the new file; what it pointed at is never opened, let alone written.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

TEMP_SUFFIX = ".tmp"
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def write_atomic(path: Path, data: bytes | str, mode: int = 0o644) -> None:
    """Replace `path` with `data` (str is written as UTF-8) atomically and durably."""
    path = Path(path)
    with open_dir(path.parent) as dir_fd:
        write_atomic_at(dir_fd, path.name, data, mode)


def write_atomic_at(dir_fd: int, name: str, data: bytes | str, mode: int = 0o644) -> None:
    """write_atomic for the entry `name` of the directory open as `dir_fd`."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    temp = f".{name}.{secrets.token_hex(6)}{TEMP_SUFFIX}"
    fd = os.open(temp, _CREATE, 0o600, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
            out.flush()
            os.fchmod(out.fileno(), mode)
            os.fsync(out.fileno())
        os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp, dir_fd=dir_fd)
        raise
    os.fsync(dir_fd)


def replace_symlink(link: Path, target: str) -> None:
    """Point `link` at `target` atomically: readers see the old target or the new, never none."""
    link = Path(link)
    with open_dir(link.parent) as dir_fd:
        replace_symlink_at(dir_fd, link.name, target)


def replace_symlink_at(dir_fd: int, name: str, target: str) -> None:
    """replace_symlink for the entry `name` of the directory open as `dir_fd`."""
    temp = f".{name}.{secrets.token_hex(6)}{TEMP_SUFFIX}"
    os.symlink(target, temp, dir_fd=dir_fd)  # fails on any existing entry: never follows one
    try:
        os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp, dir_fd=dir_fd)
        raise
    os.fsync(dir_fd)


def fsync_dir(directory: Path) -> None:
    """Make renames and new entries in `directory` durable."""
    with open_dir(directory) as fd:
        os.fsync(fd)


@contextlib.contextmanager
def open_dir(directory: Path) -> Iterator[int]:
    """An fd of `directory` for the *_at functions, closed on the way out."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield fd
    finally:
        os.close(fd)
