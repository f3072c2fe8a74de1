"""Render state files and file templates with Jinja2 and the host's variables.

Only local files under the states directory are templates; remote data is never template input.
`StrictUndefined`: a missing variable is an error, never an empty string. `trim_blocks` as in
Ansible's template module, so `{% for %}` lines leave no blank lines behind.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from driftcheck.errors import DriftcheckError, StateError
from driftcheck.models import Origin
from driftcheck.templating import raw_variables, sandbox


@functools.lru_cache(maxsize=16)
def environment(states_dir: str) -> SandboxedEnvironment:
    """One environment per states directory, shared by every host: Jinja2 compiles each file
    once (its cache re-checks the file's mtime), not once per host — measured ~4 ms per host.
    Inventory variables that are templates render when a template reads them (LazyContext)."""
    return sandbox(jinja2.FileSystemLoader(states_dir))


class Renderer:
    """Renders files of one states directory with one host's variables."""

    def __init__(self, states_dir: Path, variables: Mapping[str, Any]) -> None:
        self.states_dir = states_dir
        self._root = os.path.normpath(os.path.abspath(states_dir))
        self._vars = dict(raw_variables(variables))
        self._env = environment(self._root)

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
        try:
            return self._env.get_template(name).render(self._vars)
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


def _describe(exc: Exception) -> str:
    if isinstance(exc, DriftcheckError):  # a vaulted value's str(): names variable and file
        return f"template error: {exc}"
    if isinstance(exc, jinja2.UndefinedError):
        return f"template error: {exc.message}"
    return f"template error: {type(exc).__name__}: {exc}"
