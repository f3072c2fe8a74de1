"""Render state files and file templates with Jinja2 and the host's variables.

Only local files under the states directory are templates; remote data is never template input.
"Under" is decided on real paths, in the one loader every template goes through (a state
file, `template:`, `{% include %}`, `{% import %}`, `{% from %}`, `{% extends %}`): a symlink
is followed only while its target stays inside the states directory, because a rendered
template ends up in reports (`ln -s /root/.ssh states/templates/keys` must not put a private
key in a diff). Ansible follows every symlink, but promises no containment; we do.
`StrictUndefined`: a missing variable is an error, never an empty string. `trim_blocks` as in
Ansible's template module, so `{% for %}` lines leave no blank lines behind.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from driftcheck.errors import DriftcheckError, StateError, VariableError
from driftcheck.jinjaenv import TemplateVarError, sandbox
from driftcheck.model import Origin, Vars
from driftcheck.state import containment
from driftcheck.templating import template_variables


class TemplateRefused(jinja2.TemplateError):
    """A template whose real path leaves the states directory, or that is no regular file."""


class StatesLoader(jinja2.BaseLoader):
    """Loads templates from one directory by *real* path, never from outside it (containment.py:
    the rules, which a plain file read without Jinja2 follows too)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        try:
            shown = containment.shown_path(self.root, template)
            real = containment.resolve(shown, self.real_root, template)
            source, mtime = containment.read_regular(real, template)
        except containment.SourceMissing:
            raise jinja2.TemplateNotFound(template) from None
        except containment.SourceRefused as exc:
            raise TemplateRefused(str(exc)) from None

        def uptodate() -> bool:
            try:
                return os.path.realpath(shown) == real and os.stat(real).st_mtime == mtime
            except OSError:
                return False

        return source, shown, uptodate


@functools.lru_cache(maxsize=16)
def environment(states_dir: str) -> SandboxedEnvironment:
    """One environment per states directory, shared by every host: Jinja2 compiles each file
    once (its cache re-checks the file's real path and mtime), not once per host — measured
    ~4 ms per host. Inventory variables that are templates render when a template reads them
    (LazyContext)."""
    return sandbox(StatesLoader(states_dir))


class TemplateRenderer:
    """Renders templated files of one states directory with one host's variables (a plain
    file never comes here: sources.Renderer returns it as it is)."""

    def __init__(self, states_dir: Path, variables: Vars) -> None:
        self.states_dir = states_dir
        self._root = os.path.normpath(os.path.abspath(states_dir))
        self._vars = dict(template_variables(variables))
        self._env = environment(self._root)
        self._loader = StatesLoader(self._root)  # reads sources by the environment's rule

    def source(self, path: Path) -> str:
        """The unrendered text of a file, for mapping rendered lines back to it (read through
        the loader: the same containment as rendering)."""
        name = self._name(path, None)
        try:
            return self._loader.get_source(self._env, name)[0]
        except UnicodeDecodeError as exc:
            raise StateError(str(path), None, f"not valid UTF-8 ({exc.reason})") from None
        except jinja2.TemplateError as exc:
            raise StateError(str(path), None, exc.message or str(exc)) from None

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
            where = self._where(exc, path, referrer)
            raise StateError(
                where.path, where.line or None, f"template not found: {exc.name}"
            ) from None
        except TemplateRefused as exc:
            where = self._where(exc, path, referrer)
            raise StateError(where.path, where.line or None, f"refused: {exc.message}") from None
        except UnicodeDecodeError as exc:
            raise StateError(str(path), None, f"not valid UTF-8 ({exc.reason})") from None
        except TemplateVarError as exc:
            where = self._frame(exc.__traceback__) or Origin(str(path), 0)
            raise VariableError(where.path, where.line or None, f"template error: {exc}") from None
        except Exception as exc:  # a user's template failing is an input error
            where = self._frame(exc.__traceback__) or Origin(str(path), 0)
            raise StateError(where.path, where.line or None, _describe(exc)) from None

    def _name(self, path: Path, referrer: Origin | None) -> str:
        return containment.template_name(self._root, self.states_dir, path, referrer)

    def _where(self, exc: Exception, path: Path, referrer: Origin | None) -> Origin:
        """The line that asked for a template: an `{% include %}` frame, else the referrer."""
        return self._frame(exc.__traceback__) or referrer or Origin(str(path), 0)

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
