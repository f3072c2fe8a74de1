"""The report over time in headless Chromium: the trend chart, host strips, linked changes, print
of every host, and no trend (and no error) without history. The reports are published for real
into a report directory (history.sqlite and run folders), night after night."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from driftcheck.render.html import render_html
from tests.browser import Recorder, save_screenshot
from tests.report_html.conftest import OpenReport
from tests.report_html.fixtures import host, lab_report, nightly_lab

pytestmark = pytest.mark.browser
NIGHTS = 6


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    nightly_lab(tmp_path / "reports", NIGHTS, keep=3)
    return tmp_path / "reports"


def goto(page: Any, path: Path, fragment: str = "") -> str:
    url = path.as_uri()
    page.goto(url + fragment)
    page.wait_for_selector("body[data-ready]")
    return url


def local_only(recorder: Recorder) -> None:
    assert recorder.errors == []
    assert [m for m in recorder.console if m.startswith("error")] == []
    assert all(url.startswith("file://") for url in recorder.requests), recorder.requests


def test_trend_has_one_point_per_run_with_hover_titles_and_links(
    page: Any, reports: Path, recorder: Recorder
) -> None:
    goto(page, reports / "report.html")
    svg = page.locator("#trend svg[role=img]")
    assert svg.is_visible()
    assert page.locator("#trend svg.trend g.run circle.point").count() == NIGHTS
    titles = page.locator("#trend g.run > title").all_text_contents()
    runs = sorted(p.name for p in (reports / "runs").iterdir())  # the 3 kept, oldest first
    assert len(titles) == NIGHTS
    assert titles[-1].startswith(f"run {runs[-1]} · 2026-10-06T03:00:00+00:00 · 16 hosts: ")
    assert "11 snowflake" in titles[-1]
    assert "17 findings" in titles[-1]
    links = page.locator("#trend svg g.run a.run-link")
    assert links.evaluate_all("(all) => all.map((a) => a.getAttribute('href'))") == [
        f"runs/{run}/report.html" for run in runs
    ]
    summary = page.inner_text("#trend-summary")
    assert re.search(r"snowflakes 5 → 11, .* over 6 runs", summary), summary
    save_screenshot(page, "html-report-trend.png")
    links.first.click()  # a point opens that run's own page, kept in its folder
    page.wait_for_selector("body[data-ready]")
    assert page.url.endswith(f"/runs/{runs[0]}/report.html")
    # Opened from its run folder, the page points at its sibling folders; its trend ends at
    # itself (with the folders kept when it was written).
    hrefs = page.locator("#trend svg a.run-link").evaluate_all(
        "(all) => all.map((a) => a.getAttribute('href'))"
    )
    assert hrefs[-1] == f"../{runs[0]}/report.html"
    assert all(href.startswith("../") for href in hrefs)
    assert page.locator("#trend svg.trend g.run circle.point").count() == NIGHTS - 2
    local_only(recorder)


def test_host_strip_since_and_linked_changes(page: Any, reports: Path, recorder: Recorder) -> None:
    goto(page, reports / "report.html", "#host-web01")
    cells = page.locator("#host-web01 .strip span")
    assert cells.count() == NIGHTS
    assert cells.all_inner_texts() == ["✓"] * (NIGHTS - 1) + ["❄"]
    assert cells.last.get_attribute("title").endswith("2026-10-06T03:00:00+00:00: snowflake")
    assert "since 2026-10-06, 1 run" in page.inner_text("#host-web01 table.findings")
    page.goto(page.url.split("#")[0] + "#host-app1")
    assert "since 2026-10-01, 6 runs" in page.inner_text("#host-app1 table.findings")
    callout = page.inner_text("#changes .new-clusters .lead")
    assert callout == "New since the last run: 6 hosts, acme-agent 1.2.0"
    page.click("#cluster-new-1 a[href='#host-web04']")
    assert page.locator("#host-web04").is_visible()
    local_only(recorder)


def test_print_shows_every_host(page: Any, open_report: OpenReport) -> None:
    report = lab_report()
    report["hosts"] += [host(f"ok{i:03d}", ["ok"], "compliant", []) for i in range(120)]
    open_report(report)
    page.select_option("#f-status", "snowflake")  # a filter on screen does not limit the print
    assert page.locator("#fleet-body tr").count() == 11
    page.emulate_media(media="print")
    expect(page.locator("#fleet-body tr")).to_have_count(136)
    assert page.locator("#host-list .host").count() == 136
    assert page.locator("#host-ok119").is_visible()
    assert not page.locator(".filters").is_visible()
    assert not page.locator(".pager").is_visible()
    page.emulate_media(media="screen")
    expect(page.locator("#fleet-body tr")).to_have_count(11)


def test_no_history_no_trend_and_no_error(
    page: Any, open_report: OpenReport, recorder: Recorder, tmp_path: Path
) -> None:
    url = open_report(lab_report())
    assert page.locator("#trend").count() == 0
    assert page.locator(".strip").count() == 0
    local_only(recorder)
    first = nightly_lab(tmp_path / "first", 1)[0]  # a first run: history, but nothing before it
    assert "history" not in first
    assert 'id="trend"' not in render_html(first)
    goto(page, tmp_path / "first" / "report.html")
    assert page.locator("#trend").count() == 0
    assert url
    assert page.locator("#fleet-body tr").count() == 16
    local_only(recorder)
