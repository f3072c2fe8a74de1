"""Peer splits, merged names and the strongest evidence first in the text report, the exit
status, JUnit and Prometheus (the HTML report: tests/report_html/test_peer_splits.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, cast

from driftcheck.model.document import HostEntry, Report, exit_status, summarize
from driftcheck.render.junit import render_junit
from driftcheck.render.prometheus import render_prometheus
from driftcheck.render.text import render_text, summary_line

EVIL = "1.0\x1b[2J<script>alert(1)</script>"


def peer(item: str, expected: str, actual: str = "x") -> dict[str, Any]:
    return {"target": "host", "category": "package", "item": item, "kind": "peer",
            "expected": expected, "actual": actual, "diff": None,
            "detail": "differs from the majority of its peer group web"}  # fmt: skip


def host(name: str, status: str, findings: list[dict[str, Any]], **peers: Any) -> dict[str, Any]:
    return {"name": name, "address": f"10.0.0.{len(name)}", "groups": ["web"], "status": status,
            "error": None, "duration": 0.1, "state_files": [], "facts": {}, "findings": findings,
            "peers": {"group": "web", "voters": 4, "reason": "", **peers}}  # fmt: skip


def report(splits: list[dict[str, Any]] | None = None) -> Report:
    hosts = [
        host("web01", "compliant", [], same_as=["web01-alias"]),
        host("web01-alias", "compliant", [], same_as=["web01"]),
        host("web02", "snowflake", [
            peer("weak", "1 (2 of 3 in web)"),
            {**peer("declared", "1.0"), "kind": "version", "detail": None},
            peer("strong", "absent (499 of 500 in web)"),
        ]),
        host("web03", "compliant", []),
    ]  # fmt: skip
    data: dict[str, Any] = {
        "schema": "driftcheck.report/1",
        "run": {"id": "r1", "started": "2026-12-01T03:00:00+00:00",
                "finished": "2026-12-01T03:00:04+00:00", "duration": 4.0},
        "summary": summarize(cast(list[HostEntry], hosts)),
        "hosts": hosts,
        "package_spread": {},
    }  # fmt: skip
    if splits is not None:
        data["peer_splits"] = splits
    return cast(Report, data)


SPLIT = {"group": "web", "category": "package", "item": "nginx", "values": [
    {"value": "1.24", "hosts": ["web01", "web02"]},
    {"value": EVIL, "hosts": ["web03", "web04"]},
]}  # fmt: skip


def test_a_split_alone_makes_exit_1_and_quiet_names_it() -> None:
    clean = report([])
    clean["hosts"] = [h for h in clean["hosts"] if h["status"] == "compliant"]
    clean["summary"] = summarize(clean["hosts"])
    assert exit_status(clean) == 0
    split = {**clean, "peer_splits": [SPLIT]}
    assert exit_status(cast(Report, split)) == 1
    line = summary_line(cast(Report, split))
    assert line.startswith("3 hosts: 3 compliant, 0 snowflake; 1 peer split (no majority); ")


def test_text_lists_the_splits_after_the_host_table_escaped() -> None:
    text = render_text(report([SPLIT]))
    assert "\x1b" not in text
    lines = text.splitlines()
    at = lines.index("PEER SPLITS: no majority in the peer group (1):")
    assert lines[at + 1] == (
        "  web: package nginx: 1.24 on web01, web02; 1.0\\x1b[2J<script>alert(1)</script> on "
        "web03, web04"
    )
    assert lines.index("One machine under several names (it voted once in its peer group):") > at
    assert "  web01 = web01-alias" in lines
    assert lines[at - 1] == ""
    assert lines[at - 2].startswith("web03 ")  # the host table's last row comes first


def test_no_split_section_without_splits() -> None:
    text = render_text(report([]))
    assert "PEER SPLITS" not in text
    assert "peer split" not in text.splitlines()[0]


def test_text_ranks_a_hosts_peer_findings_strongest_first_after_declared_ones() -> None:
    text = render_text(report([]))
    details = text[text.index("== web02") :]
    order = [details.index(f" {item} ") for item in ("declared", "strong", "weak")]
    assert order == sorted(order)


def test_junit_a_failing_case_per_split() -> None:
    root = ET.fromstring(render_junit(report([SPLIT])))
    suite = next(s for s in root if s.get("name") == "peer splits")
    case = suite.find("testcase")
    assert case is not None
    assert (case.get("name"), case.get("classname")) == ("package nginx", "driftcheck.peers.web")
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == (
        "no majority in peer group web: 1.24 on web01, web02; "
        "1.0\\x1b[2J<script>alert(1)</script> on web03, web04"
    )
    assert int(root.get("failures", "0")) >= 1 + 1  # web02's check and the split


def test_prometheus_gauge_per_group_zero_included() -> None:
    assert 'driftcheck_peer_splits{group="web"} 1\n' in render_prometheus(report([SPLIT]))
    assert 'driftcheck_peer_splits{group="web"} 0\n' in render_prometheus(report([]))
    assert "driftcheck_peer_splits" not in render_prometheus(report(None))
