"""The text report stays readable in a 120-column terminal with peer findings: digests cut to
12 hex digits, long values wrapped within their column; the JSON report keeps them whole."""

from __future__ import annotations

import json
from typing import cast

from driftcheck.model.document import Report
from driftcheck.render.formats import render
from driftcheck.render.text import WIDTH, render_text
from tests.nightly.reports import finding, host, report

MD5 = "9830e3dbb6a828f2cc824db8db0ceaf7"
OTHER = "a145b7e96ce3d7acbc7aae343d5c9310"
KEY = "/root/.ssh/authorized_keys: ssh-ed25519 SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU"


def peers_report() -> Report:
    findings = [
        finding(
            "/etc/cron.d/a-long-name-someone-dropped-by-hand-on-this-host-only",
            category="file", kind="extra", expected="absent (499 of 500 in web-frontends)",
            actual=f"file md5:{MD5} 0644 root:root",
        ),
        finding("/etc/motd", category="file", kind="since-last-run",
                expected=f"md5:{MD5} 0644 root:root", actual=f"md5:{OTHER} 0644 root:root"),
        finding(KEY + " mallory@elsewhere", category="file", kind="extra",
                expected="absent (11 of 12 in web)", actual="present"),
    ]  # fmt: skip
    return cast(Report, report(1, [host("web01", findings)]))


def test_peer_findings_fit_120_columns_with_digests_cut() -> None:
    text = render_text(peers_report())
    assert max(len(line) for line in text.splitlines()) <= WIDTH, text
    assert f"md5:{MD5[:12]}…" in text
    assert MD5 not in text
    assert "mallory" in text  # wrapped within its cell, never cut


def test_the_json_report_keeps_every_value_whole() -> None:
    data = json.loads(render("json", peers_report()))
    values = {f["actual"] for h in data["hosts"] for f in h["findings"]}
    assert f"file md5:{MD5} 0644 root:root" in values
    assert f"md5:{OTHER} 0644 root:root" in values


def test_a_narrow_table_is_left_as_it_was() -> None:
    text = render_text(cast(Report, report(1, [host("web01", [finding("nginx")])])))
    assert any(line.split()[:2] == ["package", "nginx"] for line in text.splitlines()), text
