"""The containment rules every template read follows, with or without Jinja2.

A name is joined to the states directory as written; the file read is its real path, which must
stay inside the directory, opened without following a last-moment symlink, and a regular file.
Both readers use these functions: render.py's loader, which every template goes through, and
sources.py's plain reader, which returns a file without markup as it is. They live here, below
both, so that neither reader imports the other for them.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from driftcheck.errors import StateError
from driftcheck.model import Origin


class SourceMissing(Exception):
    """No such file (or a name with `..`, which never names one)."""


class SourceRefused(Exception):
    """A file outside the states directory, or no regular file."""


def template_name(root: str, states_dir: Path, path: Path, referrer: Origin | None) -> str:
    """`path`'s name relative to `root` (the states directory, absolute and normalised), as the
    loader takes it; a path outside the directory is a StateError at `referrer`."""
    full = os.path.normpath(os.path.abspath(path))
    if not full.startswith(root + os.sep):
        where = referrer or Origin(str(path), 0)
        raise StateError(where.path, where.line or None, f"{path} is outside {states_dir}")
    return Path(os.path.relpath(full, root)).as_posix()


def shown_path(root: str, template: str) -> str:
    """`template` (a `/`-separated name) joined to `root` as written, split as Jinja2's
    split_template_path splits it: `..` anywhere is not found."""
    pieces = []
    for piece in template.split("/"):
        if os.sep in piece or (os.altsep and os.altsep in piece) or piece == os.pardir:
            raise SourceMissing(template)
        if piece and piece != ".":
            pieces.append(piece)
    return os.path.join(root, *pieces)


def resolve(shown: str, real_root: str, template: str) -> str:
    """The real path of `shown`, which must lie inside `real_root`."""
    try:
        real = str(Path(shown).resolve(strict=True))
    except (OSError, RuntimeError):  # missing, or a symlink loop
        raise SourceMissing(template) from None
    if os.path.commonpath([real, real_root]) != real_root or real == real_root:
        raise SourceRefused(f"{template} resolves to {real}, outside the states directory")
    return real


def read_regular(real: str, template: str) -> tuple[str, float]:
    """The text and mtime of a regular file (a FIFO would block, a device never ends)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        raise SourceRefused(f"{template}: cannot open: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SourceRefused(f"{template} is not a regular file")
        return handle.read().decode("utf-8"), info.st_mtime
