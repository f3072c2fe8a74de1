"""modified_config, table-style: declared + observed conffiles -> exactly these findings."""

from __future__ import annotations

from typing import Any

import pytest

from driftcheck.compare import compare
from driftcheck.model import (
    ConfFile,
    DeclaredState,
    FileSpec,
    FileState,
    Observed,
    Outcome,
    Package,
    Section,
)

NGINX = "/etc/nginx/nginx.conf"
SHIPPED = "a" * 32


def conf(path: str, digest: str | None = SHIPPED, error: str = "") -> ConfFile:
    return ConfFile(path, "nginx-common", "md5", SHIPPED, digest, "0644", "root", "root", error)


def observed(*files: ConfFile, manager: str = "dpkg", **sections: Any) -> Observed:
    packages = {"nginx-common": (Package("nginx-common", "1.22", "all", manager),)}
    return Observed(
        packages=Section(Outcome.COLLECTED, packages),
        conffiles=sections.get("conffiles")
        or Section(Outcome.COLLECTED, {f.path: f for f in files}),
        files=Section(Outcome.COLLECTED, {NGINX: FileState(NGINX, True, "file", "0" * 64, "0644")}),
    )


REPORT = DeclaredState(modified_config="report")
SHIPPED_TEXT = f"as shipped by nginx-common (md5:{SHIPPED})"
CASES = {
    "unmodified: nothing": (REPORT, observed(conf(NGINX)), []),
    "edited: modified, naming the package": (
        REPORT,
        observed(conf(NGINX, "b" * 32)),
        [("file", NGINX, "modified", SHIPPED_TEXT, f"md5:{'b' * 32}")],
    ),
    "deleted: modified, absent": (
        REPORT,
        observed(conf(NGINX, None, "missing")),
        [("file", NGINX, "modified", SHIPPED_TEXT, "absent")],
    ),
    "unreadable: unknown, never a pass": (
        REPORT,
        observed(conf(NGINX, None, "not readable")),
        [("file", NGINX, "unknown", SHIPPED_TEXT, None)],
    ),
    "rpm %config(missingok) deleted: nothing, as rpm -V says": (
        REPORT,
        observed(ConfFile(NGINX, "nginx", "sha256", "a" * 64, error="missing", missing_ok=True)),
        [],
    ),
    "ignore (the default): nothing": (DeclaredState(), observed(conf(NGINX, "b" * 32)), []),
    "declared: checked against the declaration only": (
        DeclaredState(modified_config="report", files={NGINX: FileSpec(NGINX, mode="0644")}),
        observed(conf(NGINX, "b" * 32)),
        [],
    ),
    "apk: one unknown, no guess": (
        REPORT,
        observed(manager="apk", conffiles=Section(Outcome.UNSUPPORTED, None, "no dpkg-query")),
        [("file", "*", "unknown", "unmodified package config", None)],
    ),
    "collection failed: one unknown": (
        REPORT,
        observed(conffiles=Section(Outcome.FAILED, None, "dpkg-query exited 2")),
        [("file", "*", "unknown", "unmodified package config", None)],
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_modified_config(case: str) -> None:
    declared, seen, expected = CASES[case]
    found = compare(declared, seen, now=0.0)
    got = [(f.category, f.item, f.kind, f.expected, f.actual) for f in found]
    assert got == expected


def test_apk_says_why() -> None:
    seen = observed(manager="apk", conffiles=Section(Outcome.UNSUPPORTED, None, "no dpkg-query"))
    (finding,) = compare(REPORT, seen, now=0.0)
    assert finding.detail is not None
    assert "apk keeps no record" in finding.detail
