"""Hosts whose collectors print the same packages share one parsed list, and one versions map."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftcheck.collectors import packages
from driftcheck.collectors.packages import installed
from driftcheck.collectors.script import PARSERS
from driftcheck.collectors.sections import ParseError
from driftcheck.model import Observed, Outcome, Section
from driftcheck.scan import _package_versions

RAW = json.loads((Path(__file__).parent / "dpkg" / "status_abbrev_states.json").read_text())["raw"]


def test_the_same_bytes_are_parsed_once_and_shared_read_only() -> None:
    raw = RAW.encode()
    first = installed([("dpkg", raw)], PARSERS)
    again = installed([("dpkg", bytes(bytearray(raw)))], PARSERS)  # equal bytes, another object
    assert again is first
    assert dict(first) == packages.by_name(packages.parse_dpkg(raw))
    with pytest.raises(TypeError):
        first["bash"] = ()  # type: ignore[index]
    other = installed([("dpkg", raw.replace(b"5.2.15-2+b8", b"5.2.15-2+b9"))], PARSERS)
    assert other is not first
    assert other["bash"][0].version == "5.2.15-2+b9"


def test_a_parse_error_is_raised_for_every_host() -> None:
    bad = [("dpkg", b"ii \tbash\n")]
    for _ in range(2):
        with pytest.raises(ParseError, match="not a package record"):
            installed(bad, PARSERS)


def test_hosts_with_one_package_list_share_one_versions_map() -> None:
    def observed(raw: bytes) -> Observed:
        failed: Section[object] = Section(Outcome.FAILED, None, "not collected")
        pkgs = Section(Outcome.COLLECTED, installed([("dpkg", raw)], PARSERS))
        return Observed(packages=pkgs, files=failed, services=failed, facts=failed)

    one, two = observed(RAW.encode()), observed(RAW.encode())
    versions = _package_versions(one)
    assert versions is not None
    assert versions is _package_versions(two)
    assert versions["bash"] == "5.2.15-2+b8"
    three = _package_versions(observed(RAW.replace("5.2.15-2+b8", "5.3").encode()))
    assert three is not None
    assert three["bash"] == "5.3"


def test_a_large_package_list_is_parsed_for_its_host_and_never_kept() -> None:
    """A kept list holds its raw bytes and records alive: 16 distinct 50 MB lists were held
    for nothing (no two hosts sent the same). Only lists up to 1 MiB are shared."""
    line = "ii \tp{:06d}-" + "x" * 100 + "\t1.0\tamd64\n"
    raw = "".join(line.format(n) for n in range(12_000)).encode()  # 1.4 MB, 12,000 packages
    first = installed([("dpkg", raw)], PARSERS)
    assert installed([("dpkg", raw)], PARSERS) is not first
    assert (("dpkg", raw),) not in packages._PARSED
    failed: Section[object] = Section(Outcome.FAILED, None, "not collected")
    observed = Observed(
        packages=Section(Outcome.COLLECTED, first), files=failed, services=failed, facts=failed
    )
    versions = _package_versions(observed)
    assert versions is not None
    assert len(versions) == 12_000
    assert _package_versions(observed) is not versions  # not kept for sharing either
