"""Render state files and file templates with Jinja2 and the host's variables.

Only local files under the states directory are templates; remote data is never template input.
`StrictUndefined`: a missing variable is an error, never an empty string. `trim_blocks` as in
Ansible's template module, so `{% for %}` lines leave no blank lines behind.

A file with no Jinja2 markup at all renders to itself, so it is returned as read and Jinja2 (about
60 ms to import) is loaded only once a file has markup.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from driftcheck.errors import StateError
from driftcheck.models import Origin

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment

# What makes a file a template. Jinja2 also turns "\r\n" into "\n": such a file goes through it.
_MARKUP = ("{{", "{%", "{#", "\r")


def is_plain(text: str) -> bool:
    """True when rendering `text` with Jinja2 would give `text` back unchanged."""
    return not any(mark in text for mark in _MARKUP)


@functools.lru_cache(maxsize=16)
def environment(states_dir: str) -> SandboxedEnvironment:
    """One environment per states directory, shared by every host: Jinja2 compiles each file
    once (its cache re-checks the file's mtime), not once per host — measured ~4 ms per host."""
    import jinja2  # noqa: PLC0415 - on demand: plain state files never need it
    from jinja2.sandbox import SandboxedEnvironment  # noqa: PLC0415 - idem

    return SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(states_dir),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        autoescape=False,  # renders YAML and config files, never HTML
    )


class Renderer:
    """Renders files of one states directory with one host's variables."""

    def __init__(self, states_dir: Path, variables: Mapping[str, Any]) -> None:
        self.states_dir = states_dir
        self._root = os.path.normpath(os.path.abspath(states_dir))
        self._vars = dict(variables)

    def source(self, path: Path) -> str:
        """The unrendered text of a file, for mapping rendered lines back to it."""
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise StateError(str(path), None, f"not valid UTF-8 ({exc.reason})") from None
        except OSError as exc:
            raise StateError(str(path), None, f"cannot read: {exc.strerror}") from None

    def render(self, path: Path, referrer: Origin | None = None) -> str:
        """Render `path` (inside the states directory). Errors name the template file and line."""
        name = self._name(path, referrer)
        text = _read(path)
        if text is not None and is_plain(text):
            return text
        import jinja2  # noqa: PLC0415 - on demand, see the module's docstring

        try:
            return environment(self._root).get_template(name).render(self._vars)
        except jinja2.TemplateSyntaxError as exc:
            raise StateError(
                exc.filename or str(path), exc.lineno, exc.message or str(exc)
            ) from None
        except jinja2.TemplateNotFound as exc:
            origin = self._frame(exc.__traceback__)
            if origin is None and referrer is not None:
                origin = referrer
            where = origin or Origin(str(path), 0)
            raise StateError(
                where.path, where.line or None, f"template not found: {exc.name}"
            ) from None
        except UnicodeDecodeError as exc:
            raise StateError(str(path), None, f"not valid UTF-8 ({exc.reason})") from None
        except Exception as exc:  # a user's template failing is an input error
            where = self._frame(exc.__traceback__) or Origin(str(path), 0)
            raise StateError(where.path, where.line or None, _describe(exc)) from None

    def _name(self, path: Path, referrer: Origin | None) -> str:
        full = os.path.normpath(os.path.abspath(path))
        if not full.startswith(self._root + os.sep):
            where = referrer or Origin(str(path), 0)
            raise StateError(where.path, where.line or None, f"{path} is outside {self.states_dir}")
        return Path(os.path.relpath(full, self._root)).as_posix()

    def _frame(self, tb: TracebackType | None) -> Origin | None:
        """The innermost traceback frame that runs template code (Jinja2 rewrites them)."""
        found = None
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            if os.path.normpath(os.path.abspath(filename)).startswith(self._root + os.sep):
                found = Origin(filename, tb.tb_lineno)
            tb = tb.tb_next
        return found


def _read(path: Path) -> str | None:
    """The file's text, or None when Jinja2 should be the one to say what is wrong with it."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _describe(exc: Exception) -> str:
    import jinja2  # noqa: PLC0415 - only after a template failed, so it is loaded already

    if isinstance(exc, jinja2.UndefinedError):
        return f"template error: {exc.message}"
    return f"template error: {type(exc).__name__}: {exc}"
