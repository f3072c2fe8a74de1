"""State files and templates as read from disk, without Jinja2.

The containment rules of render.py's loader, which every template goes through, as plain
functions: a name is joined to the states directory as written, the file read is its real path,
which must stay inside the directory, opened without following a last-moment symlink, and a
regular file. `Renderer` reads a file by these rules and returns it as it is when it holds no
template markup; only a file with markup (or one that cannot be read, so that the loader says
why) reaches Jinja2, which is then imported.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftcheck.errors import StateError
from driftcheck.models import Origin

if TYPE_CHECKING:
    from driftcheck.state.render import TemplateRenderer

# What makes a file a template. Jinja2 also turns "\r\n" into "\n": such a file goes through it.
_MARKUP = ("{{", "{%", "{#", "\r")


class SourceMissing(Exception):
    """No such file (or a name with `..`, which never names one)."""


class SourceRefused(Exception):
    """A file outside the states directory, or no regular file."""


def is_plain(text: str) -> bool:
    """True when rendering `text` with Jinja2 would give `text` back unchanged."""
    return not any(mark in text for mark in _MARKUP)


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


class Renderer:
    """Renders files of one states directory with one host's variables: a plain file is its
    own rendering; anything else goes to Jinja2 (render.TemplateRenderer)."""

    def __init__(self, states_dir: Path, variables: Mapping[str, Any]) -> None:
        self.states_dir = states_dir
        self._root = os.path.normpath(os.path.abspath(states_dir))
        self._real_root = os.path.realpath(self._root)
        self._variables = variables
        self._templates: TemplateRenderer | None = None

    def source(self, path: Path) -> str:
        """The unrendered text of a file, for mapping rendered lines back to it."""
        text = self._read(path, None)
        return text if text is not None else self._jinja().source(path)

    def render(self, path: Path, referrer: Origin | None = None) -> str:
        """Render `path` (inside the states directory). Errors name the template file and line."""
        text = self._read(path, referrer)
        if text is not None and is_plain(text):
            return text
        return self._jinja().render(path, referrer)

    def _read(self, path: Path, referrer: Origin | None) -> str | None:
        """The file's text, read by the loader's rules; None when it cannot be read, so that
        Jinja2's loader reports it as it reports a template it cannot load."""
        name = template_name(self._root, self.states_dir, path, referrer)
        try:
            real = resolve(shown_path(self._root, name), self._real_root, name)
            return read_regular(real, name)[0]
        except (SourceMissing, SourceRefused, UnicodeDecodeError):
            return None

    def _jinja(self) -> TemplateRenderer:
        if self._templates is None:
            from driftcheck.state.render import TemplateRenderer  # noqa: PLC0415 - on demand

            self._templates = TemplateRenderer(self.states_dir, self._variables)
        return self._templates
