"""Version ordering, checked against the real tools (dpkg, rpm) and apk-tools' own test vectors."""

from __future__ import annotations

import subprocess
from itertools import pairwise

import pytest

from driftcheck.model import PackageSpec
from driftcheck.versions import compare_versions, satisfies
from tests.tools import require_tools

# Awkward Debian pairs: epochs, `~` (before anything, even the end), `+`, revisions, letters
# against digits, leading zeros, native against revisioned versions.
DPKG_VERSIONS = [
    "0",
    "0.0",
    "0~",
    "0~~",
    "0~a",
    "1.0~rc1",
    "1.0~rc1-1",
    "1.0",
    "1.0-0",
    "1.0-1",
    "1.0-1~bpo12+1",
    "1.0-1+b1",
    "1.0-1.1",
    "1.0+dfsg-1",
    "1.0a",
    "1.0.0",
    "1.00",
    "1.01",
    "1.1",
    "1.10",
    "1.9",
    "2:0.1",
    "1:9.2p1-2",
    "1:9.2p1-2+deb12u3",
    "1:9.2p1-10",
    "9.2p1-2",
    "1.2.3-4ubuntu0.1",
    "1.2.3-4ubuntu0.1~22.04",
    "2.36-9+deb12u4",
    "2.36-9+deb12u10",
    "1.0-a",
    "1.0-A",
    "1.0-+",
    "1.0-.",
    "0:1.0",
]

RPM_VERSIONS = [
    "1.0",
    "1.0-1",
    "1.0-2",
    "1.0-10",
    "1.0-1.el9",
    "1.0-1.el9_2",
    "1:0.5-1",
    "0:1.0-1",
    "2:1.0",
    "1.0~rc1",
    "1.0~rc1-3",
    "1.0~~",
    "1.0^",
    "1.0^git1",
    "1.0^git1~pre",
    "1.0.1",
    "1.0a",
    "1.0.a",
    "1.a",
    "1.001",
    "1.01",
    "1.1",
    "1.10",
    "1.9",
    "1_0",
    "1+0",
    "a",
    "B",
    "2.0.0-0.rc1.fc39",
    "5.14.0-362.8.1.el9_3",
    "5.14.0-362.18.1.el9_3",
    "20230808-1.git7d2d6a4",
    "1.2.3-1.módulo",
]


def _pairs(versions: list[str]) -> list[tuple[str, str]]:
    return [(a, b) for a in versions for b in versions]


def _dpkg_truth(a: str, b: str) -> int:
    for op, result in (("lt", -1), ("eq", 0)):
        if subprocess.run(["dpkg", "--compare-versions", a, op, b], check=False).returncode == 0:
            return result
    return 1


def test_dpkg_matches_dpkg_compare_versions() -> None:
    require_tools("dpkg")
    # Adjacent pairs in both directions and against a few pivots keep the subprocess count low
    # while every version meets its neighbours, an epoch, a tilde and a revision.
    pivots = ["1.0", "1.0~rc1", "1:9.2p1-2", "1.0-1"]
    pairs = list(pairwise(DPKG_VERSIONS)) + [(v, p) for v in DPKG_VERSIONS for p in pivots]
    pairs += [(b, a) for a, b in pairs]
    wrong = [(a, b) for a, b in pairs if compare_versions("dpkg", a, b) != _dpkg_truth(a, b)]
    assert wrong == []


def _rpm_truth(pairs: list[tuple[str, str]]) -> list[int]:
    """All pairs in one rpm process: rpm's lua `rpm.vercmp`, the EVR comparison rpm itself uses."""
    body = " ".join(f"print(rpm.vercmp([==[{a}]==], [==[{b}]==]) .. ' ')" for a, b in pairs)
    out = subprocess.run(
        ["rpm", "--eval", f"%{{lua: {body}}}"], check=True, capture_output=True, text=True
    ).stdout
    return [int(x) for x in out.split()]


def test_rpm_matches_rpm_vercmp() -> None:
    require_tools("rpm")
    pairs = _pairs(RPM_VERSIONS)
    truth = _rpm_truth(pairs)
    assert len(truth) == len(pairs)
    wrong = [
        (a, b, want)
        for (a, b), want in zip(pairs, truth, strict=True)
        if compare_versions("rpm", a, b) != want
    ]
    assert wrong == []


# A selection from apk-tools' own test vectors (test/version.data in alpinelinux/apk-tools):
# suffixes, revisions, letters, leading zeros, multiple suffixes, and an invalid version.
APK_VECTORS = """
2.34 > 0.1.0_alpha
23_foo > 4_beta
1.0 < 1.0bc
0.1.0_alpha = 0.1.0_alpha
0.1.0_alpha < 0.1.3_alpha
0.1.0_alpha2 > 0.1.0_alpha
0.1.0_alpha < 2.2.39-r1
1.0.4-r3 < 1.0.4-r4
1.1 > 1.1_alpha1
1.2.1 > 1.2
1.2 < 1.3_alpha
1.3_alpha2 < 1.3_alpha3
0.7.0 < 0.8_beta1
0.8_beta4 < 4.8-r1
3.10.18-r1 > 2.3.0b-r1
2.3.0b-r1 < 2.3.0b-r2
0.12.3 > 0.12
0.12 < 0.13_beta1
1.2.11 < 1.2.12.1
0.2.0-r1 = 0.2.0-r1
0.2.0-r1 < 3.1_p16
3.1_p16 < 3.1_p17
1.06-r6 < 006
1.2.2-r1 > 1.2.2
2.59 < 20050718-r1
2.01.01_alpha10 > 0.94
0.99.3.20040818 > 0.7
1.39 > 1.00_beta2
4.2.52_p2-r1 < 4.2.52_p4-r2
1.05-r18 < 1.05-r19
2.18.3-r10 > 1.05-r18
20060720 > 3.0.20060720
0.7.18-r2 < 0.17-r6
2.5.1-r8 < 2.5.1a-r1
1.3.5-r10 > 1.3.5-r8
20040401 > 2.0.0_rc3-r1
3.0.0-r2 < 021109-r3
0.9.16-r1 < 3.9_pre20060124
6b-r7 > 1.12-r7
0.10.0-r1 > 0.10.0
0.10.0 < 0.10.1_rc1
1.1a < 1.3a
0.15.1b-r2 > 0.15.1b
22.7.3-r1 > 22.7
2.1_pre20 < 2.1_pre26
2.10.1 > 02.08.01b
1.6d > 1.2.07.8
1.2.07.8 < 1.2.12.04
0.1_pre20060810 < 0.1_pre20060817
0.59s-r11 < 0.65
0.20070118 < 0.20070207_rc1
3.7_p1 > 1.3
4.5_p1-r1 > 4.5_p1
0.9.8c-r1 < 0.9.8d
013 < 014-r1
1.7 < 1.7b
1.8.5 < 1.8.5_p2
2.9.11_pre20051101-r3 > 2.9.11_pre20051101
1.6.8_p12-r1 > 1.6.8_p9-r2
0.9.28-r2 < 0.9.28.1
087-r1 < 103
104-r11 > 104-r9
1.2.5_rc2 > 0.1
2.12r-r4 < 2.12r-r5
7.0.17 < 7.0.174
1.3-r0 < 1.3.1-r0
1.3_pre1-r1 < 1.3.2
1.0_p10-r0 > 1.0_p9-r0
0.1.0_alpha_pre2 < 0.1.0_alpha
1.0.0_pre20191002222144-r0 < 1.0.0_pre20210530193627-r0
6.0_pre1 < 6.0
6.1_pre1 < 6.1
6.0_p1 > 6.0
6.1_p1 > 6.1
"""


def _apk_cases() -> list[tuple[str, str, str]]:
    rows = [line.split() for line in APK_VECTORS.strip().splitlines()]
    return [(a, op, b) for a, op, b in rows]


@pytest.mark.parametrize(("a", "op", "b"), _apk_cases())
def test_apk_matches_apk_tools_vectors(a: str, op: str, b: str) -> None:
    want = {"<": -1, "=": 0, ">": 1}[op]
    assert compare_versions("apk", a, b) == want
    assert compare_versions("apk", b, a) == -want


@pytest.mark.parametrize(
    ("manager", "installed", "op", "version", "ok"),
    [
        ("dpkg", "1:9.2p1-2", ">=", "1:9.0", True),
        ("dpkg", "9.2p1-2", ">=", "1:9.0", False),  # no epoch: older than any epoch 1
        ("dpkg", "1.22.1-9", "=", "1.22.1-9", True),
        ("dpkg", "1.22.1-9", "=", "1.22.1", False),  # Debian: the revision is part of it
        ("dpkg", "1.0~rc1", "<", "1.0", True),
        ("rpm", "1.3.0-1.el9", "=", "1.3.0", True),  # rpm: no release named, any release fits
        ("rpm", "1.3.0-1.el9", "=", "1.3.0-2.el9", False),
        ("rpm", "1:1.0-1", ">", "2.0", True),
        ("rpm", "1.0~rc1-1", "<", "1.0", True),
        ("apk", "1.2.3-r0", ">=", "1.2.3_rc1", True),
        ("apk", "1.2.3-r1", "<=", "1.2.3-r0", False),
        ("dpkg", "1.0", "=", "not a version", False),  # cannot be compared: never satisfied
    ],
)
def test_satisfies(manager: str, installed: str, op: str, version: str, ok: bool) -> None:
    assert satisfies(manager, installed, PackageSpec("p", op, version)) is ok


def test_present_and_unknown_manager() -> None:
    assert satisfies("apk", "1", PackageSpec("p", "present"))
    with pytest.raises(ValueError, match="unknown package manager"):
        compare_versions("pacman", "1", "2")
