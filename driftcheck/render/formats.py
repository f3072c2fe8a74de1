"""Every output format, by name. Each renders the report document (model/document.py)."""

from __future__ import annotations

import importlib
from typing import cast

from driftcheck.model.document import Renderer, Report

# name -> (module, function); imported on use so `scan --format text` never loads jinja2.
FORMATS: dict[str, tuple[str, str]] = {
    "text": ("driftcheck.render.text", "render_text"),
    "json": ("driftcheck.model.document", "render_json"),
    "html": ("driftcheck.render.html", "render_html"),
    "junit": ("driftcheck.render.junit", "render_junit"),
    "prometheus": ("driftcheck.render.prometheus", "render_prometheus"),
}


def render(fmt: str, report: Report) -> str:
    module, function = FORMATS[fmt]
    renderer = cast(Renderer, getattr(importlib.import_module(module), function))
    return renderer(report)
