"""A real headless Chromium (Debian's) driven by Playwright, and a page that records everything
a hostile report could make it do: dialogs, console errors, page errors, requests.

One session browser for the whole suite (tests/conftest.py registers these fixtures): two sync
Playwright instances cannot live in one process.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest
from playwright import sync_api

from tests.report_html.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.tools import unavailable

ARTIFACTS = Path(__file__).resolve().parents[1] / "reports" / "artifacts"


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


def _unavailable(reason: str) -> NoReturn:
    """In CI a missing browser fails the test (never a silent skip); elsewhere it skips."""
    unavailable(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        _unavailable("Debian's chromium is not installed (bash tests/setup-system.sh)")
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


def save_screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
