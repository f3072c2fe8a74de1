"""The HTML report in headless Chromium: hostile content never runs, nothing is fetched, and
filters, sort, drill-down and #host-NAME links work."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from playwright.sync_api import expect

from driftcheck.render.html import host_id, visible
from tests.browser import ARTIFACTS, Recorder, save_screenshot
from tests.report_html.conftest import OpenReport
from tests.report_html.fixtures import HOSTILE, hostile_report, lab_report

pytestmark = pytest.mark.browser


def rows(page: Any) -> list[str]:
    names: list[str] = page.locator("#fleet-body th[scope=row]").all_inner_texts()
    return names


def assert_quiet(recorder: Recorder, url: str) -> None:
    assert recorder.dialogs == []
    assert recorder.errors == []
    assert [m for m in recorder.console if m.startswith("error")] == []
    assert set(recorder.requests) <= {url}, recorder.requests


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_content_never_runs(
    page: Any, open_report: OpenReport, recorder: Recorder, payload: str
) -> None:
    report = hostile_report(payload)
    evil = report["hosts"][-2]["name"]
    url = open_report(report, "#" + host_id(evil))
    section = page.locator(f"#{host_id(evil)}")
    assert section.is_visible()
    assert visible(evil) in section.inner_text()  # shown as text, not markup
    evidence = section.locator("ul.evidence li")  # the host's records, as text too
    assert evidence.all_inner_texts() == [f"{visible(payload)} {visible(payload)}: "
                                          f"{visible(payload)} ({visible(payload)}, "
                                          f"requested by {visible(payload)})"]  # fmt: skip
    page.locator("details").evaluate_all("(all) => all.forEach((d) => { d.open = true; })")
    page.fill("#f-text", payload[:12])
    page.select_option("#f-status", "error")
    page.click("#f-reset")
    page.click(f"#fleet-body a[href='#{host_id('err' + payload)}']")
    assert "not audited" in page.locator(f"#{host_id('err' + payload)}").inner_text().lower()
    assert page.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
    assert page.evaluate("document.scripts.length") == 2
    if payload == HOSTILE[2]:
        save_screenshot(page, "html-report-hostile.png")
    assert_quiet(recorder, url)


def test_lab_report_overview(page: Any, open_report: OpenReport, recorder: Recorder) -> None:
    url = open_report(lab_report())
    assert page.inner_text("#summary").count("not audited") >= 2
    assert "3 hosts NOT AUDITED" in page.inner_text(".not-audited")
    lead = page.inner_text("#clusters .lead")
    assert "6 hosts share package acme-agent: version (1.2.0 instead of 1.3.0)" in lead
    assert "2 are unique" in lead
    assert page.locator("#fleet-body tr").count() == 16
    assert rows(page)[:3] == ["cache01", "edge01", "edge02"]  # not audited first
    save_screenshot(page, "html-report-lab.png")
    assert_quiet(recorder, url)


def test_filters(page: Any, open_report: OpenReport) -> None:
    open_report(lab_report())
    page.select_option("#f-status", "not-audited")
    assert rows(page) == ["cache01", "edge01", "edge02"]
    page.select_option("#f-group", "edge")
    assert rows(page) == ["edge01", "edge02"]
    assert "2 of 16 hosts" in page.inner_text("#fleet-count")
    page.click("#f-reset")
    page.fill("#f-text", "ACME-DEBUG")
    assert rows(page) == ["app1", "app2", "app3"]
    assert page.locator("#host-list .host").count() == 3  # the host sections follow the table
    page.click("#f-reset")
    page.click("#cluster-1 button.show-cluster")
    assert rows(page) == [f"web{i:02d}" for i in range(1, 7)]
    assert page.input_value("#f-cluster") == "1"
    page.select_option("#f-cluster", "unique")
    assert rows(page) == ["db01", "web07"]
    page.click("button.show-status")
    assert rows(page) == ["cache01", "edge01", "edge02"]
    assert page.input_value("#f-cluster") == ""


def test_prints_without_controls(page: Any, open_report: OpenReport) -> None:
    open_report(lab_report())
    page.emulate_media(media="print")
    assert not page.locator(".filters").is_visible()
    assert not page.locator("#page-next").is_visible()
    assert page.locator("#host-web07 pre.diff").is_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(ARTIFACTS / "html-report-lab.pdf"))


def test_sort_by_any_column_by_keyboard(page: Any, open_report: OpenReport) -> None:
    open_report(lab_report())
    page.focus("th[data-col=total] button")
    page.keyboard.press("Enter")
    assert page.get_attribute("th[data-col=total]", "aria-sort") == "ascending"
    page.keyboard.press("Enter")
    assert page.get_attribute("th[data-col=total]", "aria-sort") == "descending"
    assert rows(page)[0] == "db01"  # 3 unwaived findings
    page.click("th[data-col=name] button")
    names = rows(page)
    assert names == sorted(
        names, key=lambda n: (n.rstrip("0123456789"), int(n[len(n.rstrip("0123456789")) :]))
    )
    page.click("th[data-col=age] button")
    page.click("th[data-col=age] button")
    assert rows(page)[0] == "db01"  # 412 days
    for column in (
        "status",
        "groups",
        "package",
        "file",
        "service",
        "host",
        "container",
        "other",
        "os",
    ):
        page.click(f"th[data-col={column}] button")
        assert page.get_attribute(f"th[data-col={column}]", "aria-sort") == "ascending"


def test_drill_down_from_the_table(page: Any, open_report: OpenReport) -> None:
    open_report(lab_report())
    page.click("#fleet-body a[href='#host-web07']")
    section = page.locator("#host-web07")
    expect(section).to_be_visible()  # hashchange is handled as a task: wait, never sleep
    page.wait_for_function("document.activeElement.id === 'host-web07'", timeout=5000)
    expect(section.locator("h4")).to_have_text(["file (1)", "service (1)"])
    assert section.locator("pre.diff .add").all_inner_texts() == [
        "+worker_processes 1;",
        "+include /etc/nginx/debug.conf;",
    ]
    assert section.locator("pre.diff .del").count() == 2
    db01 = page.locator("#host-db01")
    assert "WAIVED" in db01.inner_text()
    assert "NEW" in db01.inner_text()
    db01.locator("details.facts summary").click()
    assert "machine-id birth" in db01.inner_text()
    assert "connection refused" in page.inner_text("#host-edge01 .reason-box")


def test_link_to_a_host_opens_it(page: Any, open_report: OpenReport) -> None:
    report = lab_report()
    for i in range(100):  # enough hosts for several pages
        extra = copy.deepcopy(report["hosts"][0])
        extra["name"] = f"zz{i:03d}"
        report["hosts"].append(extra)
    open_report(report, "#host-zz099")
    assert page.locator("#host-zz099").is_visible()
    assert "page 3 of 3" in page.inner_text("#page-info")
    page.select_option("#f-status", "compliant")
    page.evaluate("location.hash = '#host-edge02'")  # filtered out: the filters make way
    page.wait_for_selector("#host-edge02")
    assert page.locator("#host-edge02").is_visible()
    assert page.input_value("#f-status") == ""
    page.click("#page-next")
    assert "page 2 of 3" in page.inner_text("#page-info")


def test_package_spread_matrix(page: Any, open_report: OpenReport) -> None:
    open_report(lab_report())
    page.click("details.spread:has-text('web') summary")
    matrix = page.locator("details.spread:has-text('web') table")
    # the matrix is built when its <details> opens: wait for it, never a fixed sleep
    expect(matrix.locator("thead th")).to_have_text(
        ["host", "acme-agentmajority: 1.2.0 (6 of 7)", "nginxmajority: 1.22.1-9 (6 of 7)"]
    )
    web07 = matrix.locator("tr:has(a[href='#host-web07']) td").all_inner_texts()
    assert web07 == ["≠ 1.3.0", "≠ —"]
    web01 = matrix.locator("tr:has(a[href='#host-web01']) td").all_inner_texts()
    assert web01 == ["1.2.0", "1.22.1-9"]


def test_package_spread_says_no_consensus(page: Any, open_report: OpenReport) -> None:
    report = lab_report()
    report["package_spread"] = {"pair": {"curl": {"a1": "7.88", "a2": "8.0"}}}
    open_report(report)
    page.click("details.spread:has-text('pair') summary")
    matrix = page.locator("details.spread:has-text('pair') table")
    expect(matrix.locator("thead th")).to_have_text(["host", "curlno consensus"])
    assert matrix.locator("td").all_inner_texts() == ["7.88", "8.0"]  # nothing marked odd


def test_host_section_says_whom_it_was_compared_with(page: Any, open_report: OpenReport) -> None:
    report = lab_report()
    report["hosts"][0]["peers"] = {"group": "web", "voters": 7, "reason": ""}
    alone = {"group": None, "voters": 0, "reason": "no inventory group with at least 3 hosts"}
    report["hosts"][1]["peers"] = alone
    first, second = report["hosts"][0]["name"], report["hosts"][1]["name"]
    open_report(report, f"#host-{first}")
    expect(page.locator(f"#host-{first} p.meta")).to_contain_text("peers: web (7 audited hosts)")
    open_report(report, f"#host-{second}")
    expect(page.locator(f"#host-{second} p.meta")).to_contain_text(f"peers: {alone['reason']}")
