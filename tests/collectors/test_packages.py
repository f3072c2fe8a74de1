"""The package parsers' shortcuts give what the plain way gives."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from driftcheck.collectors import packages
from driftcheck.collectors.packages import DPKG_INSTALLED, parse_dpkg, parse_rpm
from driftcheck.collectors.sections import ParseError
from driftcheck.model import Package

FIXTURES = Path(__file__).parent


def _decoded(status: str) -> str | None:
    try:
        return packages._dpkg_status(status)
    except ParseError:
        return None


def test_the_abbreviated_status_shortcut_agrees_with_decoding_it() -> None:
    """Every 3-character status over dpkg's letters and a few others: taken as installed by the
    set lookup exactly when decoding it says installed."""
    letters = "uihrpncHUFWti RX?"
    for status in map("".join, itertools.product(letters, repeat=3)):
        shortcut = status in packages._DPKG_INSTALLED_ABBREV
        assert shortcut == (_decoded(status) in DPKG_INSTALLED), status


def test_hosts_with_the_same_packages_share_the_records() -> None:
    """A second host's list is equal to freshly built records, and made of the same objects."""
    fixture = json.loads((FIXTURES / "dpkg" / "status_abbrev_states.json").read_text())
    raw = fixture["raw"].encode()
    first, second = parse_dpkg(raw), parse_dpkg(raw)
    fresh = [Package(p.name, p.version, p.arch, p.manager) for p in first]
    assert first == second == fresh
    assert all(a is b for a, b in zip(first, second, strict=True))
    rpm = parse_rpm(b"bash\t(none)\t5.1.8\t9.el9\tx86_64\n")
    assert rpm == [Package("bash", "5.1.8-9.el9", "x86_64", "rpm")]
    assert rpm[0] is not first[0]  # the manager is part of the record


def test_the_shared_table_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packages, "_SHARED", {})
    monkeypatch.setattr(packages, "_SHARED_MAX", 10)
    lines = b"".join(b"ii \tp%d\t1.0\tamd64\n" % i for i in range(25))
    assert [p.name for p in parse_dpkg(lines)] == [f"p{i}" for i in range(25)]
    assert len(packages._SHARED) <= 10
