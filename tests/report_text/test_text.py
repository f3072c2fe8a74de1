"""The text report: what a person reads in a terminal or a cron mail."""

from __future__ import annotations

from typing import Any

from driftcheck.model.document import summarize
from driftcheck.render.text import render_text


def report(hosts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"run": {"duration": 1.25}, "summary": summarize(hosts), "hosts": hosts}


def host(
    name: str, status: str, findings: list[dict[str, Any]], error: str | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "address": "127.0.0.9",
        "status": status,
        "error": error,
        "findings": findings,
    }


def finding(item: str, kind: str = "content", **kw: Any) -> dict[str, Any]:
    return {"target": "host", "category": "file", "item": item, "kind": kind,
            "expected": None, "actual": None, "diff": None, "detail": None, **kw}  # fmt: skip


def test_summary_never_hides_unaudited_hosts() -> None:
    text = render_text(report([
        host("a", "compliant", []),
        host("b", "unreachable", [], error="cannot connect: Connection refused"),
    ]))  # fmt: skip
    first = text.splitlines()[0]
    assert first.startswith("2 hosts: 1 compliant, 0 snowflake; ")
    assert "1 unreachable, 0 error (NOT AUDITED: 1 refused)" in first
    assert "cannot connect: Connection refused" in text


def test_hosts_not_audited_are_grouped_by_cause_count_first() -> None:
    changed = "10.0.0.{}:22: host key CHANGED: the host offers ssh-ed25519 SHA256:x"
    hosts = [host(f"k{i}", "unreachable", [], error=changed.format(i)) for i in range(3)]
    hosts.append(host("t", "unreachable", [], error="10.0.0.9:22: TCP connect timed out"))
    hosts[0]["cause"] = "key changed"  # recorded by a new scan; the others fall back
    text = render_text(report(hosts))
    assert "(NOT AUDITED: 3 key changed, 1 timed out)" in text.splitlines()[0]
    assert "  3 key changed: k0, k1, k2" in text
    assert "  1 timed out: t" in text


def test_terminal_escapes_from_hosts_are_neutralised() -> None:
    evil = "\x1b]0;pwned\x07\x1b[2J/etc/x\rOK\u202e"
    text = render_text(report([
        host(evil, "snowflake", [finding(evil, diff=f"--- a\n+++ b\n+{evil}\n", actual=evil)])
    ]))  # fmt: skip
    assert "\x1b" not in text
    assert "\r" not in text
    assert "\u202e" not in text
    assert "\\x1b]0;pwned" in text


def test_digests_are_short_in_the_table_only() -> None:
    digest = "sha256:" + "ab" * 32
    text = render_text(report([host("a", "snowflake", [finding("/etc/x", expected=digest)])]))
    assert "sha256:abababababab…" in text
    assert digest not in text


def test_new_and_waived_marks() -> None:
    waived = {"reason": "r", "expires": "2099-01-01", "by": "me"}
    text = render_text(report([
        host("a", "snowflake", [finding("/etc/x", new=True), finding("/etc/y", waived=waived)])
    ]))  # fmt: skip
    assert "content (new)" in text
    assert "content (waived)" in text


def test_unchecked_hosts_are_not_audited_and_the_summary_says_how_to_start() -> None:
    text = render_text(report([host("a", "unchecked", [], error="nothing was checked")]))
    first = text.splitlines()[0]
    assert "1 hosts: 0 compliant, 0 snowflake; 0 unreachable, 0 error, 1 unchecked" in first
    assert "`driftcheck scan --peers` or `driftcheck capture`" in first
    mixed = render_text(report([host("a", "unchecked", []), host("b", "compliant", [])]))
    assert "driftcheck capture" not in mixed.splitlines()[0]  # only when every host is
