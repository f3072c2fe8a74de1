"""Opening a rendered report in the session's Chromium (tests/browser.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from driftcheck.render.html import render_html

OpenReport = Callable[..., str]


@pytest.fixture
def open_report(page: Any, tmp_path: Path) -> OpenReport:
    """Render `report` to a file, open it at `fragment` and wait until the script has drawn it."""

    def opener(report: dict[str, Any], fragment: str = "", name: str = "report.html") -> str:
        path = tmp_path / name
        path.write_text(render_html(report), encoding="utf-8")
        url = path.as_uri()
        page.goto(url + fragment)
        page.wait_for_selector("body[data-ready]")
        return url

    return opener
