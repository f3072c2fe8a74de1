"""The comparison engine, table-style: declared + observed -> exactly these findings."""

from __future__ import annotations

import hashlib

import pytest

from driftcheck.compare import compare
from driftcheck.model import (
    DeclaredState,
    FileSpec,
    FileState,
    HostFacts,
    HostSpec,
    Observed,
    Outcome,
    Package,
    PackageSpec,
    Section,
    ServiceSpec,
    ServiceState,
)

NOW = 1_800_000_000.0
DAY = 86400


def pkgs(**versions: str) -> Section:
    return Section(
        Outcome.COLLECTED,
        {
            n.replace("_", "-"): (Package(n.replace("_", "-"), v, "amd64", "dpkg"),)
            for n, v in versions.items()
        },
    )


def spec(name: str, op: str, version: str | None = None) -> PackageSpec:
    return PackageSpec(name, op, version)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def file_ok(path: str, text: str, mode: str = "0644") -> FileState:
    return FileState(path, True, "file", sha(text), mode, "root", "root", text.encode())


def facts(**kw: object) -> Section:
    base = {"now": NOW, "provisioned": NOW - 5 * DAY, "zombies": 0}
    return Section(Outcome.COLLECTED, HostFacts(**{**base, **kw}))  # type: ignore[arg-type]


UNSUPPORTED = Section(Outcome.UNSUPPORTED, None, "dpkg-query, rpm and apk not found")
FAILED = Section(Outcome.FAILED, None, "systemctl exited 1")

CASES = {
    "package present, installed": (
        DeclaredState(packages={"openssh-server": spec("openssh-server", "present")}),
        Observed(packages=pkgs(openssh_server="1:9.2p1-2")),
        [],
    ),
    "package present, missing": (
        DeclaredState(packages={"curl": spec("curl", "present")}),
        Observed(packages=pkgs(openssh_server="1:9.2p1-2")),
        [("package", "curl", "missing", "present", "absent")],
    ),
    "package absent, installed": (
        DeclaredState(packages={"telnetd": spec("telnetd", "absent")}),
        Observed(packages=pkgs(telnetd="0.17-44")),
        [("package", "telnetd", "unexpected", "absent", "0.17-44")],
    ),
    "exact version differs (downgrade)": (
        DeclaredState(packages={"acme-agent": spec("acme-agent", "=", "1.3.0")}),
        Observed(packages=pkgs(acme_agent="1.2.0")),
        [("package", "acme-agent", "version", "1.3.0", "1.2.0")],
    ),
    "range satisfied with epoch and tilde ordering": (
        DeclaredState(packages={"nginx-light": spec("nginx-light", ">=", "1.22")}),
        Observed(packages=pkgs(nginx_light="1.22.1-9")),
        [],
    ),
    "range not satisfied: tilde sorts before the release": (
        DeclaredState(packages={"acme": spec("acme", ">=", "1.3")}),
        Observed(packages=pkgs(acme="1.3~rc1")),
        [("package", "acme", "version", ">= 1.3", "1.3~rc1")],
    ),
    "unexpected packages reported": (
        DeclaredState(packages={"a": spec("a", "present")}, unexpected_packages="report"),
        Observed(packages=pkgs(a="1", debug_tool="0.9")),
        [("package", "debug-tool", "unexpected", "not declared", "0.9")],
    ),
    "unexpected packages ignored by default": (
        DeclaredState(packages={"a": spec("a", "present")}),
        Observed(packages=pkgs(a="1", debug_tool="0.9")),
        [],
    ),
    "no package manager: unknown, never missing": (
        DeclaredState(packages={"a": spec("a", "present"), "b": spec("b", "absent")}),
        Observed(packages=UNSUPPORTED),
        [("package", "a", "unknown", "present", None), ("package", "b", "unknown", "absent", None)],
    ),
    "file content, mode and owner drift": (
        DeclaredState(
            files={"/etc/x.conf": FileSpec("/etc/x.conf", content="a\n", mode="0644", owner="root")}
        ),
        Observed(
            files=Section(
                Outcome.COLLECTED,
                {
                    "/etc/x.conf": FileState(
                        "/etc/x.conf", True, "file", sha("b\n"), "0666", "www", "root", b"b\n"
                    )
                },
            )
        ),
        [
            ("file", "/etc/x.conf", "content", "sha256:" + sha("a\n"), "sha256:" + sha("b\n")),
            ("file", "/etc/x.conf", "mode", "0644", "0666"),
            ("file", "/etc/x.conf", "owner", "root", "www"),
        ],
    ),
    "file matches by sha256": (
        DeclaredState(files={"/etc/y": FileSpec("/etc/y", sha256=sha("y"), mode="0644")}),
        Observed(files=Section(Outcome.COLLECTED, {"/etc/y": file_ok("/etc/y", "y")})),
        [],
    ),
    "file missing and file that must be absent": (
        DeclaredState(
            files={
                "/etc/a": FileSpec("/etc/a", mode="0644"),
                "/etc/b": FileSpec("/etc/b", absent=True),
            }
        ),
        Observed(
            files=Section(
                Outcome.COLLECTED,
                {"/etc/a": FileState("/etc/a", False), "/etc/b": file_ok("/etc/b", "")},
            )
        ),
        [
            ("file", "/etc/a", "missing", "present", "absent"),
            ("file", "/etc/b", "unexpected", "absent", "file"),
        ],
    ),
    "unreadable file is unknown": (
        DeclaredState(files={"/etc/shadow": FileSpec("/etc/shadow", mode="0640")}),
        Observed(
            files=Section(
                Outcome.COLLECTED,
                {"/etc/shadow": FileState("/etc/shadow", True, error="Permission denied")},
            )
        ),
        [("file", "/etc/shadow", "unknown", None, None)],
    ),
    "sensitive file: no digest, no diff": (
        DeclaredState(files={"/etc/k": FileSpec("/etc/k", content="secret\n", sensitive=True)}),
        Observed(
            files=Section(
                Outcome.COLLECTED, {"/etc/k": FileState("/etc/k", True, "file", sha("other"))}
            )
        ),
        [("file", "/etc/k", "content", "(sensitive)", "(sensitive: differs)")],
    ),
    "directory where a file is declared": (
        DeclaredState(files={"/etc/d": FileSpec("/etc/d", sha256=sha("x"))}),
        Observed(
            files=Section(Outcome.COLLECTED, {"/etc/d": FileState("/etc/d", True, "directory")})
        ),
        [("file", "/etc/d", "type", "file", "directory")],
    ),
    "service stopped and disabled": (
        DeclaredState(services={"nginx.service": ServiceSpec("nginx.service", True, True)}),
        Observed(
            services=Section(
                Outcome.COLLECTED,
                {"nginx.service": ServiceState("nginx.service", "loaded", "inactive", "disabled")},
            )
        ),
        [
            ("service", "nginx.service", "disabled", "enabled", "disabled"),
            ("service", "nginx.service", "stopped", "running", "inactive"),
        ],
    ),
    "service that must not run": (
        DeclaredState(services={"telnet.service": ServiceSpec("telnet.service", False, False)}),
        Observed(
            services=Section(
                Outcome.COLLECTED,
                {"telnet.service": ServiceState("telnet.service", "loaded", "active", "enabled")},
            )
        ),
        [
            ("service", "telnet.service", "enabled", "disabled", "enabled"),
            ("service", "telnet.service", "running", "stopped", "active"),
        ],
    ),
    "service unit not installed": (
        DeclaredState(services={"x.service": ServiceSpec("x.service", True)}),
        Observed(
            services=Section(
                Outcome.COLLECTED,
                {"x.service": ServiceState("x.service", "not-found", "inactive", "")},
            )
        ),
        [("service", "x.service", "missing", "installed", "not-found")],
    ),
    "no systemd: unknown": (
        DeclaredState(services={"x.service": ServiceSpec("x.service", True)}),
        Observed(services=FAILED),
        [("service", "x.service", "unknown", None, None)],
    ),
    "host too old and zombies": (
        DeclaredState(host=HostSpec(max_age_seconds=30 * DAY, max_zombies=0)),
        Observed(facts=facts(provisioned=NOW - 90 * DAY, zombies=2)),
        [("host", "age", "age", "<= 30d", "90d"), ("host", "zombies", "zombies", "<= 0", "2")],
    ),
    "host young and clean": (
        DeclaredState(host=HostSpec(max_age_seconds=30 * DAY, max_zombies=0)),
        Observed(facts=facts()),
        [],
    ),
    "host age unknown": (
        DeclaredState(host=HostSpec(max_age_seconds=30 * DAY)),
        Observed(facts=facts(provisioned=None)),
        [("host", "age", "unknown", None, None)],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_compare_table(name: str) -> None:
    declared, observed, expected = CASES[name]
    got = [
        (f.category, f.item, f.kind, f.expected, f.actual)
        for f in compare(declared, observed, now=NOW)
    ]
    assert got == sorted(expected)


def test_content_diff_marks_added_and_removed_lines() -> None:
    declared = DeclaredState(files={"/etc/x": FileSpec("/etc/x", content="keep\nold\n")})
    observed = Observed(
        files=Section(Outcome.COLLECTED, {"/etc/x": file_ok("/etc/x", "keep\nnew <b>\n")})
    )
    (finding,) = compare(declared, observed, now=NOW)
    assert finding.diff is not None
    assert "-old\n" in finding.diff
    assert "+new <b>\n" in finding.diff


def test_binary_content_gets_no_diff() -> None:
    declared = DeclaredState(files={"/etc/x": FileSpec("/etc/x", content="text\n")})
    raw = b"\x00\xff\xfe binary"
    state = FileState("/etc/x", True, "file", hashlib.sha256(raw).hexdigest(), content=raw)
    (finding,) = compare(
        declared, Observed(files=Section(Outcome.COLLECTED, {"/etc/x": state})), now=NOW
    )
    assert finding.diff is None
    assert finding.detail == "binary content differs"


def test_findings_are_sorted_deterministically() -> None:
    declared = DeclaredState(
        packages={n: spec(n, "present") for n in ("zz", "aa", "mm")},
    )
    got = compare(declared, Observed(packages=pkgs(other="1")), now=NOW)
    assert [f.item for f in got] == ["aa", "mm", "zz"]
