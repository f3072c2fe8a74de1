"""The report directory, opened once and then reached only through its directory fd.

driftcheck runs as root from cron; whoever can plant an entry in the report directory must not be
able to make it write anywhere else. So:
- the directory is opened once (O_DIRECTORY|O_NOFOLLOW) and checked as OpenSSH's StrictModes
  checks `~/.ssh`: refused if group- or world-writable, or owned by anyone but the user running
  driftcheck or root;
- every open, create, rename, symlink, mkdir and unlink is relative to that fd (or to the fd of
  a subdirectory opened the same way) and never follows a symlink: a planted symlink makes the
  operation fail with a clear message, or is replaced as an entry, never written through.

SQLite opens its database by path, so `database()` checks the database and its -wal, -shm and
-journal files with lstat relative to the fd before connecting (each must be absent or a regular
file), creates the database itself with O_NOFOLLOW, and `same_file()` checks after connecting
that the entry is still the file that was checked. What is left is the instant between the check
and SQLite's open(2): swapping the entry then needs write access to the directory, which the
StrictModes check has limited to its owner and root, who could write the target directly anyway.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from driftcheck.atomic import replace_symlink_at, write_atomic_at
from driftcheck.errors import OutputError, ReportDirError

LOOSE_MODE = 0o022  # group- or world-writable, as OpenSSH's secure_path() refuses
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
# SQLite's primary result codes that mean "the storage failed", not "this is not a database".
_SQLITE_STORAGE = {3: "permission denied", 8: "read-only", 10: "disk I/O error", 13: "full"}
_SQLITE_STORAGE[14] = "cannot open the file"


class ReportDir:
    """An open directory; `path` is for messages, every operation goes through `fd`."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd

    def at(self, name: str) -> Path:
        return self.path / name

    # --- reading ------------------------------------------------------------------------

    def lstat(self, name: str) -> os.stat_result | None:
        try:
            return os.lstat(name, dir_fd=self.fd)
        except FileNotFoundError:
            return None

    def is_dir(self, name: str) -> bool:
        """A real directory, not a symlink to one."""
        st = self.lstat(name)
        return st is not None and stat.S_ISDIR(st.st_mode)

    def readlink(self, name: str) -> str | None:
        """The target of symlink `name`; None if absent or not a symlink."""
        try:
            return os.readlink(name, dir_fd=self.fd)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.EINVAL):
                return None
            raise

    def names(self) -> list[str]:
        return sorted(os.listdir(self.fd))

    # --- writing ------------------------------------------------------------------------

    def open_file(self, name: str, flags: int, mode: int = 0o644) -> int:
        """An fd of the regular file `name`: O_NOFOLLOW; a FIFO, a device, or a file with another
        hard link (writing it would write a file elsewhere too) is refused."""
        flags |= os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
        try:
            fd = os.open(name, flags, mode, dir_fd=self.fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _refused(self.at(name), "is a symlink") from None
            if exc.errno == errno.EISDIR:
                raise _refused(self.at(name), "is not a regular file") from None
            raise
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1:
            os.close(fd)
            what = "has another hard link" if stat.S_ISREG(st.st_mode) else "is not a regular file"
            raise _refused(self.at(name), what)
        return fd

    def write(self, name: str, data: bytes | str, mode: int = 0o644) -> None:
        write_atomic_at(self.fd, name, data, mode)

    def link(self, name: str, target: str) -> None:
        """Point symlink `name` at `target`; whatever entry had that name is replaced."""
        if self.is_dir(name):  # rename(2) cannot replace a directory by a symlink
            raise _refused(self.at(name), "is a directory where driftcheck keeps a symlink")
        replace_symlink_at(self.fd, name, target)

    def mkdir(self, name: str) -> None:
        os.mkdir(name, 0o755, dir_fd=self.fd)

    def rename(self, old: str, new: str) -> None:
        os.rename(old, new, src_dir_fd=self.fd, dst_dir_fd=self.fd)

    def remove(self, name: str) -> None:
        """Remove entry `name`: a directory with its content (rmtree by fd, never through a
        symlink), anything else (a symlink included) by unlink."""
        st = self.lstat(name)
        if st is None:
            return
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(name, dir_fd=self.fd)
        else:
            os.unlink(name, dir_fd=self.fd)

    def fsync(self) -> None:
        os.fsync(self.fd)

    @contextmanager
    def subdir(self, name: str) -> Iterator[ReportDir]:
        """The subdirectory `name`, made if absent; a symlink is refused."""
        if self.lstat(name) is None:
            self.mkdir(name)
            self.fsync()
        with self.existing_subdir(name) as sub:
            if sub is None:
                raise FileNotFoundError(errno.ENOENT, "removed meanwhile", str(self.at(name)))
            yield sub

    @contextmanager
    def existing_subdir(self, name: str) -> Iterator[ReportDir | None]:
        """The subdirectory `name`, None if absent; a symlink is refused."""
        try:
            fd = os.open(name, _DIR, dir_fd=self.fd)
        except FileNotFoundError:
            fd = -1
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise _refused(self.at(name), "is a symlink or not a directory") from None
            raise
        try:
            yield None if fd < 0 else ReportDir(self.at(name), fd)
        finally:
            if fd >= 0:
                os.close(fd)

    # --- SQLite -------------------------------------------------------------------------

    def database(self, name: str, *, create: bool) -> tuple[int, int] | None:
        """Check database `name` and its side files before SQLite opens them by path; create it
        (O_NOFOLLOW) if asked. Its (st_dev, st_ino), or None if absent and not `create`."""
        for side in SQLITE_SIDE_FILES:
            self._regular_or_absent(name + side)
        if self.lstat(name) is None and not create:
            return None
        fd = self.open_file(name, os.O_RDWR | os.O_CREAT if create else os.O_RDONLY)
        try:
            st = os.fstat(fd)
        finally:
            os.close(fd)
        return st.st_dev, st.st_ino

    def same_file(self, name: str, identity: tuple[int, int]) -> None:
        """After connecting: the entry is still the checked file, its side files regular."""
        st = self.lstat(name)
        if st is None or (st.st_dev, st.st_ino) != identity:
            raise _refused(self.at(name), "was replaced while driftcheck opened it")
        for side in SQLITE_SIDE_FILES:
            self._regular_or_absent(name + side)

    def _regular_or_absent(self, name: str) -> None:
        st = self.lstat(name)
        if st is not None and not stat.S_ISREG(st.st_mode):
            kind = "is a symlink" if stat.S_ISLNK(st.st_mode) else "is not a regular file"
            raise _refused(self.at(name), kind)


@contextmanager
def open_report_dir(path: Path, *, create: bool) -> Iterator[ReportDir]:
    """Open `path` as the report directory (creating it if asked) and check it as OpenSSH's
    StrictModes would; OSErrors become OutputError (exit 74) with the reason."""
    path = Path(path)
    with output_errors(path, "cannot write" if create else "cannot read"):
        if create and not os.path.lexists(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.mkdir(mode=0o755, exist_ok=True)
        try:
            fd = os.open(path, _DIR)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise _refused(path, "is a symlink or not a directory") from None
            raise
    try:
        check_strict_modes(path, os.fstat(fd))
        yield ReportDir(path, fd)
    finally:
        os.close(fd)


def check_strict_modes(path: Path, st: os.stat_result) -> None:
    """Refuse a directory others could write in: another owner (root excepted), or mode g+w/o+w."""
    me = os.geteuid()
    if st.st_uid not in (me, 0):
        raise ReportDirError(
            f"{path}: report directory is owned by uid {st.st_uid}, not by uid {me} running "
            "driftcheck or root: refusing it (as OpenSSH's StrictModes refuses a foreign ~/.ssh)"
        )
    if st.st_mode & LOOSE_MODE:
        raise ReportDirError(
            f"{path}: report directory is group- or world-writable "
            f"(mode {stat.S_IMODE(st.st_mode):04o}): refusing it; run `chmod go-w {path}`"
        )


@contextmanager
def output_errors(path: Path, doing: str = "cannot write") -> Iterator[None]:
    """OSError, and SQLite's storage failures, become one clear OutputError (exit 74)."""
    try:
        yield
    except OSError as exc:
        raise OutputError(f"{path}: {doing}: {_reason(exc)}") from exc
    except sqlite3.OperationalError as exc:
        failure = storage_failure(exc, path)
        if failure is None:
            raise
        raise OutputError(f"{path}: {doing}: {failure}") from exc


def storage_failure(exc: sqlite3.Error, path: Path) -> str | None:
    """What went wrong if `exc` is SQLite failing to store (full, read-only, I/O), else None."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None or code & 0xFF not in _SQLITE_STORAGE:
        return None
    if code & 0xFF == 13 or _disk_full(path):
        return "No space left on device (SQLite: database or disk is full)"
    return f"{_SQLITE_STORAGE[code & 0xFF]} (SQLite: {exc})"


def _disk_full(path: Path) -> bool:
    """A disk I/O error from SQLite on a full file system is a full disk (shm allocation)."""
    try:
        probe = path if path.is_dir() else path.parent
        return os.statvfs(probe).f_bavail == 0
    except OSError:
        return False


def _reason(exc: OSError) -> str:
    where = f" ({exc.filename})" if isinstance(exc.filename, str) else ""
    return f"{exc.strerror or exc}{where}"


def _refused(path: Path, what: str) -> ReportDirError:
    return ReportDirError(
        f"{path} {what}: refusing it (driftcheck never follows a symlink or writes a special "
        "file in a report directory); remove it and run again"
    )
