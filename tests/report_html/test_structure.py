"""The page's structure without a browser: escaping, CSP hashes, embedded data, clusters."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest

from driftcheck.model.vocab import Status
from driftcheck.nightly.trend import history_block
from driftcheck.render import html
from tests.report_html.fixtures import HOSTILE, hostile_report, lab_report, nightly_lab

TEMPLATES = Path(html.__file__).parent / "templates"


def inline(page: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", page, re.DOTALL)


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_csp_allows_exactly_the_inline_script_and_style() -> None:
    page = html.render_html(lab_report())
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert csp is not None
    policy = csp.group(1).replace("&#39;", "'")
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    scripts = inline(page, "script")
    assert len(scripts) == 2  # the JSON block and the code
    assert f"script-src {sha256(scripts[1])}" in policy
    assert f"style-src {sha256(inline(page, 'style')[0])}" in policy
    assert page.index("Content-Security-Policy") < page.index("<style>")


def test_no_external_reference() -> None:
    page = html.render_html(lab_report())
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "@import" not in page
    assert "url(" not in inline(page, "style")[0]


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_values_are_escaped(payload: str) -> None:
    page = html.render_html(hostile_report(payload))
    assert page.count("<script") == 2
    assert "<img" not in page
    assert not re.search(r"<[a-zA-Z][^<>]*\son\w+\s*=", page)  # no event handler in any tag
    data = json.loads(inline(page, "script")[0])
    shown = html.visible(payload)
    assert shown in data["values"] or any(shown in str(h) for h in data["hosts"])
    assert "</script" not in inline(page, "script")[0].lower()


def test_templates_never_mark_data_safe() -> None:
    for template in TEMPLATES.glob("*.j2"):
        assert "|safe" not in template.read_text().replace(" ", ""), template.name
    assert html.environment().autoescape is True


def test_host_ids_are_injective_and_plain() -> None:
    names = ["web02", "db-1.lab", "web_02", "web 02", "web_20_02", "x" + HOSTILE[1], "ü", "_"]
    ids = [html.host_id(n) for n in names]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"host-[A-Za-z0-9._-]+", i) for i in ids)
    assert html.host_id("web02") == "host-web02"


def test_clusters_group_identical_drift_and_ignore_waived() -> None:
    clusters, unique = html.drift_clusters(html.drift_groups(lab_report()["hosts"]))
    assert [c.hosts for c in clusters] == [
        tuple(f"web{i:02d}" for i in range(1, 7)),
        ("app1", "app2", "app3"),
    ]
    assert unique == ["db01", "web07"]
    assert all("telnet" not in str(c.drift) for c in clusters)
    db01 = next(h for h in lab_report()["hosts"] if h["name"] == "db01")
    assert len(html.signature(db01)) == 3  # the waived telnet finding is not drift


def test_hosts_not_audited_are_never_compliant() -> None:
    report = lab_report()
    report["summary"] = {"hosts": 16, "compliant": 16}  # a wrong summary does not win
    cards = html.summary_cards(report["hosts"])
    assert (cards["compliant"], cards["unreachable"], cards["error"]) == (2, 2, 1)
    assert cards["audited"] == 13
    page = html.render_html(report)
    assert "3 hosts NOT AUDITED" in page


def test_hosts_not_audited_are_grouped_by_cause_count_first() -> None:
    report = lab_report()
    changed = "10.0.0.{}:22: host key CHANGED: the host offers ssh-ed25519 SHA256:x"
    report["hosts"] += [
        {"name": f"moved{i}", "status": "unreachable", "cause": "key changed",
         "error": changed.format(i), "findings": []}
        for i in range(263)
    ]  # fmt: skip
    page = html.render_html(report)
    summaries = re.findall(
        r'<summary><span class="count">(\d+)</span> <span class="cause">([^<]+)</span>', page
    )
    assert summaries[0] == ("263", "key changed")
    assert sum(int(n) for n, _ in summaries) == 266
    assert page.split("<script")[0].count(changed.format(0)) == 1
    assert "… and 163 more" in page  # each group lists 100 hosts, then says how many more


def test_findings_are_deduplicated_in_the_embedded_data() -> None:
    data = html.page_data(lab_report()["hosts"], [], {})
    refs = [ref for host in data["hosts"] for ref in host[9]]
    assert len(refs) == 18
    assert len(data["findings"]) == 8  # the 6 web hosts and 3 app hosts share their findings


def test_minimal_and_empty_reports_render() -> None:
    assert "No snowflakes" in html.render_html({"schema": "driftcheck.report/1", "hosts": []})
    report = lab_report()
    del report["changes"], report["package_spread"]
    page = html.render_html(report)
    assert 'id="changes"' not in page
    assert "No package version differs" in page


def test_clusters_list_hosts_and_drift_in_natural_order() -> None:
    assert sorted(["web10", "web2", "db1"], key=html.natural) == ["db1", "web2", "web10"]
    hosts = [
        {
            "name": f"web{i}",
            "status": "snowflake",
            "findings": [{"item": "lib-10"}, {"item": "lib-9"}],
        }
        for i in (10, 2)
    ]
    [cluster], unique = html.drift_clusters(html.drift_groups(hosts))
    assert cluster.hosts == ("web2", "web10")
    assert [row[2] for row in cluster.drift] == ["lib-9", "lib-10"]
    assert unique == []


def test_control_and_bidi_characters_are_shown_not_obeyed() -> None:
    report = lab_report()
    report["hosts"][0]["name"] = "web\u202egnp.exe"
    report["hosts"][0]["findings"][0]["actual"] = "1.2.0\x1b[2J"
    report["hosts"][1]["error"] = "tab\tand\nnewline stay"
    page = html.render_html(report)
    assert "\u202e" not in page
    assert "\x1b" not in page
    assert "web\\x202egnp.exe" in page  # in the cluster list, server-side
    data = json.loads(inline(page, "script")[0])
    assert data["hosts"][0][0] == "web\\x202egnp.exe"
    assert "1.2.0\\x1b[2J" in data["values"]
    assert data["hosts"][1][5] == "tab\tand\nnewline stay"


def test_every_status_has_a_place_and_a_mark() -> None:
    assert sorted(html.STATUSES) == sorted(Status) == sorted(html.MARKS)


def test_unchecked_hosts_are_listed_with_the_hosts_not_audited() -> None:
    report = lab_report()
    report["hosts"][0] = {**report["hosts"][0], "status": "unchecked", "findings": []}
    listed = html.not_audited(report["hosts"])
    assert report["hosts"][0]["name"] in [h["name"] for h in listed]
    assert "Nothing is declared for any host" not in html.render_html(report)


@pytest.mark.parametrize(
    ("refs", "expected"),
    [
        ([1, 1, 2], (1, 2)),
        ([1, 2], (-1, 0)),  # a tie is no consensus
        ([0, 0, 1], (0, 2)),  # not installed is a value, and can be the majority
        ([1, 1, 2, 2, 3], (-1, 0)),  # most common is not a majority
        ([], (-1, 0)),
    ],
)
def test_spread_majority(refs: list[int], expected: tuple[int, int]) -> None:
    assert html.majority_of(refs) == expected


def test_a_bad_rollout_seen_by_peers_is_one_cluster() -> None:
    """3 of 10 hosts on a new version: the same peer finding on each, so one drift cluster."""
    peer = {
        "target": "host", "category": "package", "item": "acme-agent", "kind": "peer",
        "expected": "1.2.0 (7 of 10 in web)", "actual": "1.3.0",
        "detail": "differs from the majority of its peer group web",
    }  # fmt: skip
    hosts = [
        {"name": f"web{i:02d}", "status": "snowflake" if i < 3 else "compliant",
         "findings": [dict(peer)] if i < 3 else []}
        for i in range(10)
    ]  # fmt: skip
    clusters, unique = html.drift_clusters(html.drift_groups(hosts))
    assert [c.hosts for c in clusters] == [("web00", "web01", "web02")]
    assert unique == []


def test_trend_keeps_the_page_self_contained(tmp_path: Path) -> None:
    last = nightly_lab(tmp_path / "reports", 4)[-1]
    page = html.render_html(last)
    scripts = inline(page, "script")
    assert len(scripts) == 2
    policy = html.content_security_policy()
    assert f"script-src {sha256(scripts[1])}" in policy
    svg = page[page.index('<svg class="trend"') : page.index("</svg>")]
    assert " style=" not in svg  # inline style attributes would need 'unsafe-inline'
    hrefs = re.findall(r'(?:href|url\()="?([^")]+)', svg)
    assert hrefs
    assert all(h.startswith(("#", "runs/")) for h in hrefs), hrefs
    assert 'role="img"' in svg
    assert svg.count('class="point"') == 4


def test_hostile_run_ids_never_reach_a_path_or_markup(tmp_path: Path) -> None:
    report = lab_report()
    evil = '../../x"><script>alert(1)</script>'
    past = [{"id": evil, "started": "2026-10-01T03:00:00+00:00", "hosts": 1, "compliant": 1}]
    report["history"] = history_block(report, past, {}, kept=[evil])
    page = html.render_html(report)
    assert page.count("<script") == 2
    assert 'href="runs/../' not in page
    assert "&lt;script&gt;alert(1)" in page
