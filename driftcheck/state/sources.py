"""State files and templates as read from disk, without Jinja2.

`Renderer` reads a file by the containment rules of render.py's loader (containment.py, which
every template goes through) and returns it as it is when it holds no template markup; only a
file with markup (or one that cannot be read, so that the loader says why) reaches Jinja2, which
is then imported.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from driftcheck.model import Origin, Vars
from driftcheck.state.containment import (
    SourceMissing,
    SourceRefused,
    read_regular,
    resolve,
    shown_path,
    template_name,
)

if TYPE_CHECKING:
    from driftcheck.state.render import TemplateRenderer

# What makes a file a template. Jinja2 also turns "\r\n" into "\n": such a file goes through it.
_MARKUP = ("{{", "{%", "{#", "\r")


def is_plain(text: str) -> bool:
    """True when rendering `text` with Jinja2 would give `text` back unchanged."""
    return not any(mark in text for mark in _MARKUP)


class Renderer:
    """Renders files of one states directory with one host's variables: a plain file is its
    own rendering; anything else goes to Jinja2 (render.TemplateRenderer)."""

    def __init__(self, states_dir: Path, variables: Vars) -> None:
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
