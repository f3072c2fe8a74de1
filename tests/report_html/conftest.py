"""A real headless Chromium (Debian's) driven by Playwright, and a page that records everything
a hostile report could make it do: dialogs, console errors, page errors, requests."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from driftcheck.report.html import render_html
from tests.report_html.chromium import CHROMIUM, CHROMIUM_ARGS

ARTIFACTS = Path(__file__).resolve().parents[2] / "reports" / "artifacts"


@dataclass
class Recorder:
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def attach(self, page: Any) -> None:
        page.on("dialog", self.on_dialog)
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (bash tests/setup-system.sh)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def page(browser: Any, recorder: Recorder) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    recorder.attach(tab)
    yield tab
    context.close()


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


def save_screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
