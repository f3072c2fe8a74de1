"""Evidence in the text report: one indented line per item under its finding, every value
cleaned (a host wrote them all: an escape sequence must not reach the reader's terminal)."""

from __future__ import annotations

from driftcheck.model.document import EvidenceEntry, FindingEntry, HostEntry
from driftcheck.render.text import evidence_line, host_details


def entry(source: str, time: str | None, summary: str, user: str | None = None,
          command: str | None = None) -> EvidenceEntry:  # fmt: skip
    return {"source": source, "time": time, "summary": summary, "user": user, "command": command}


def test_lines_as_the_readme_shows_them() -> None:
    apt = entry("apt history", "2026-12-07T05:01:02Z", "install acme-debug 1.0", "alice",
                "apt-get install acme-debug")  # fmt: skip
    assert evidence_line(apt) == (
        "apt history 2026-12-07T05:01:02Z: install acme-debug 1.0 "
        "(apt-get install acme-debug, requested by alice)"
    )
    login = entry("wtmp", "2026-12-07T05:00:00Z", "root logged in on pts/0 (...)", "root")
    assert evidence_line(login) == "wtmp 2026-12-07T05:00:00Z: root logged in on pts/0 (...)"
    assert evidence_line(entry("wtmp", None, "no login session was open then")) == (
        "wtmp: no login session was open then"
    )


def test_hostile_values_are_cleaned_and_each_item_is_one_line() -> None:
    evil = entry("apt history", "2026-12-07T05:01:02Z", "install x\x1b[2J\nfake line",
                 "eve\r", "apt-get \u202einstall")  # fmt: skip
    finding: FindingEntry = {
        "target": "host", "category": "package", "item": "x", "kind": "unexpected",
        "expected": "absent", "actual": "1", "diff": None, "detail": None, "evidence": [evil],
    }  # fmt: skip
    host: HostEntry = {
        "name": "web01", "address": "10.0.0.1", "groups": [], "status": "snowflake",
        "error": None, "duration": 0.1, "state_files": [], "facts": {}, "findings": [finding],
    }  # fmt: skip
    lines = list(host_details(host))
    at = lines.index("   x (unexpected), by the host's own records:")
    assert lines[at + 1] == (
        "     apt history 2026-12-07T05:01:02Z: install x\\x1b[2J\\x0afake line "
        "(apt-get \\x202einstall, requested by eve\\x0d)"
    )
    assert len(lines) == at + 2
