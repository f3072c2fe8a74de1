"""Waivers: loading with file:line errors, applying, expiry."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pytest

from driftcheck.errors import WaiverError
from driftcheck.nightly.waivers import apply_waivers, load_waivers

from .reports import finding, findings_by_host, host, report

TODAY = dt.date(2026, 11, 28)

WAIVERS = """\
# accepted drift
- host: "web*"
  category: package
  item: acme-debug
  reason: debug build for OPS-123
  expires: 2026-12-31
  by: alice
- host: db01
  target: host
  category: file
  item: /etc/mysql/*
  kind: mode
  reason: vendor default
  expires: "2026-11-28"
- host: "*"
  category: package
  item: telnetd
  reason: old migration
  expires: 2026-11-27
  by: bob
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "waivers.yml"
    path.write_text(text)
    return path


def test_load(tmp_path: Path) -> None:
    waivers = load_waivers(write(tmp_path, WAIVERS))
    assert [(w.host, w.item, w.expires, w.by) for w in waivers] == [
        ("web*", "acme-debug", dt.date(2026, 12, 31), "alice"),
        ("db01", "/etc/mysql/*", dt.date(2026, 11, 28), None),
        ("*", "telnetd", dt.date(2026, 11, 27), "bob"),
    ]
    assert [str(w.origin) for w in waivers] == [f"{tmp_path}/waivers.yml:{n}" for n in (2, 8, 15)]
    assert waivers[0].target == waivers[0].kind == "*"
    assert load_waivers(write(tmp_path, "# nothing waived\n")) == []


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("- host: a\n  category: package\n  item: x\n  expires: 2027-01-01\n", 1, "needs a reason"),
        ("- host: a\n  category: package\n  item: x\n  reason: ''\n  expires: 2027-01-01\n", 1,
         "needs a reason"),
        ("- host: a\n  category: package\n  item: x\n  reason: r\n", 1, "needs an expiry date"),
        ("- host: a\n  category: package\n  item: x\n  reason: r\n  expires: soon\n", 5,
         "must be a date"),
        ("- host: a\n  category: package\n  item: x\n  reason: r\n  expires: 2027-01-01\n"
         "  expiry: 2027-01-01\n", 6, "unknown key 'expiry'"),
        ("- host: a\n  category: package\n  item: 22\n  reason: r\n  expires: 2027-01-01\n", 3,
         "must be a string"),
        ("- host: a\n  item: x\n  reason: r\n  expires: 2027-01-01\n", 1, "needs `category`"),
        ("host: a\n", 1, "YAML list of waivers"),
        ("- host: a\n  reason: [unclosed\n", 3, "invalid YAML"),
        ("- just a string\n", 1, "a waiver is a mapping"),
    ],
)  # fmt: skip
def test_errors_name_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(WaiverError, match=message) as caught:
        load_waivers(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")


W = "- host: a\n  category: package\n  item: x\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (W + "  reason: r\n  expires: 2027-01-01\n  reason: other\n", 6,
         "duplicate key 'reason' (first at line 4)"),
        (W + "  reason: r\n  expires: 2099-13-45\n", 5, "'2099-13-45' is not a valid date"),
        (W + "  reason: r\n  expires: 20270101\n", 5, "must be a date"),
        (W + "  reason: &r [*r]\n  expires: 2027-01-01\n", 4, "contains it"),
    ],
)  # fmt: skip
def test_hostile_waivers_name_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(WaiverError, match=re.escape(message)) as caught:
        load_waivers(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_alias_bomb_as_a_reason_is_refused_fast(tmp_path: Path) -> None:
    anchors = "".join(
        f"    - &a{n} [{', '.join([f'*a{n - 1}' if n else 'lol'] * 9)}]\n" for n in range(9)
    )
    path = write(tmp_path, W + "  expires: 2027-01-01\n  reason:\n" + anchors)
    started = time.monotonic()
    with pytest.raises(WaiverError, match="alias bomb") as caught:
        load_waivers(path)
    assert time.monotonic() - started < 2
    assert str(caught.value).startswith(f"{path}:12: ")


def test_a_modest_alias_as_a_reason_is_shown_bounded(tmp_path: Path) -> None:
    anchors = "".join(
        f"    - &a{n} [{', '.join([f'*a{n - 1}' if n else 'lol'] * 3)}]\n" for n in range(6)
    )
    path = write(tmp_path, W + "  expires: 2027-01-01\n  reason:\n" + anchors)
    with pytest.raises(WaiverError, match="must be a string") as caught:
        load_waivers(path)
    assert str(caught.value).startswith(f"{path}:5: ")
    assert len(str(caught.value)) < 300


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WaiverError, match="cannot read waivers"):
        load_waivers(tmp_path / "absent.yml")


def test_apply_active_and_expired(tmp_path: Path) -> None:
    waivers = load_waivers(write(tmp_path, WAIVERS))
    mode = finding("/etc/mysql/my.cnf", "file", "mode", expected="0640", actual="0644")
    before = report(
        1,
        [
            host("web01", [finding("acme-debug")]),  # fully waived -> compliant
            host("web02", [finding("acme-debug"), finding("telnetd")]),  # expired -> snowflake
            host("db01", [mode]),  # waiver expires today: still applies
            host("db02", [finding("telnetd")], status="unreachable"),
        ],
    )
    after = apply_waivers(before, waivers, TODAY)
    assert before["hosts"][0]["status"] == "snowflake"  # the input is not modified
    status = {h["name"]: h["status"] for h in after["hosts"]}
    assert status == {
        "web01": "compliant",
        "web02": "snowflake",
        "db01": "compliant",
        "db02": "unreachable",
    }
    found = findings_by_host(after)
    assert found["web01"]["acme-debug"]["waived"] == {
        "reason": "debug build for OPS-123",
        "expires": "2026-12-31",
        "by": "alice",
        "origin": f"{tmp_path}/waivers.yml:2",
    }
    assert found["web02"]["telnetd"]["waived"] is None
    lapsed = found["web02"]["package telnetd"]
    assert (lapsed["category"], lapsed["kind"]) == ("waiver", "expired")
    assert "expired on 2026-11-27" in lapsed["detail"]
    assert after["summary"] == {
        "hosts": 4,
        "compliant": 2,
        "snowflake": 1,
        "unchecked": 0,
        "unreachable": 1,
        "error": 0,
        "findings": 4,  # telnetd and its expired-waiver finding, on web02 and on db02
        "waived": 3,
    }
    assert after["waivers"]["active"] == 2
    assert after["waivers"]["applied"] == 3
    assert [(e["origin"].rsplit(":", 1)[1], e["hosts"]) for e in after["waivers"]["expired"]] == [
        ("15", ["web02", "db02"])
    ]


@pytest.mark.parametrize("kind", ["unknown", "truncated", "limit"])
def test_unknown_checks_are_never_waived(tmp_path: Path, kind: str) -> None:
    path = write(
        tmp_path,
        "- {host: '*', category: '*', item: '*', reason: r, expires: 2030-01-01}\n",
    )
    unknown = finding("nginx.service", "service", kind, detail="not checked")
    after = apply_waivers(
        report(1, [host("app01", [finding("x"), unknown], status="error")]),
        load_waivers(path),
        TODAY,
    )
    app01 = after["hosts"][0]
    assert app01["status"] == "error"
    assert [(f["item"], bool(f["waived"])) for f in app01["findings"]] == [
        ("x", True),
        ("nginx.service", False),
    ]
