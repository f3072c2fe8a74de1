"""The HTML report of the lab fleet's real audit, as a reviewer opens it: in Debian's chromium,
from file://, with the lab's hostile host (odd01) and its hosts that could not be audited."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.browser import Recorder, save_screenshot
from tests.lab.lab import Lab

pytestmark = [pytest.mark.lab, pytest.mark.browser]

DRIFTCHECK = str(Path(sys.executable).with_name("driftcheck"))


@pytest.fixture(scope="module")
def lab_html(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "report.html"
    argv = [DRIFTCHECK, "scan", "-i", str(lab.inventory), "--known-hosts", str(lab.known_hosts),
            "-F", str(lab.ssh_config), "--timeout", "10", "--format", "html"]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == lab.exit_code, proc.stderr
    path.write_text(proc.stdout, encoding="utf-8")
    return path


def test_reviewer_sees_snowflakes_failures_and_clusters(
    lab: Lab, lab_html: Path, page: Any, recorder: Recorder
) -> None:
    page.goto(lab_html.as_uri())
    page.wait_for_selector("body[data-ready]")
    save_screenshot(page, "html-report-lab-fleet.png")
    # odd01 declares files full of <script> and onerror=: nothing of it ran or was fetched
    assert recorder.dialogs == []
    assert recorder.errors == []
    assert [c for c in recorder.console if c.startswith("error")] == []
    assert recorder.requests == [lab_html.as_uri()]
    text = page.inner_text("body")
    for name, expected in lab.expected.items():
        assert name in text
        if expected.status in ("unreachable", "error"):
            assert name in page.inner_text(".not-audited"), name
    assert "Drift clusters" in text


def test_a_link_to_a_lab_host_opens_it(lab_html: Path, page: Any, recorder: Recorder) -> None:
    page.goto(lab_html.as_uri() + "#host-app01")
    page.wait_for_selector("body[data-ready]")
    section = page.locator("#host-app01")
    section.wait_for()
    assert "interval = 5" in section.inner_text()  # the sed -i drift, in the diff
    assert recorder.errors == []
