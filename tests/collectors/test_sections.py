"""The section format and total parsing: forged, repeated, misordered and missing sections."""

from __future__ import annotations

import pytest

from driftcheck.collectors.script import build_script, parse_output
from driftcheck.collectors.sections import RawSection, split_sections
from driftcheck.model import CommandResult, DeclaredState, FileSpec, Outcome

N = "00112233aabbccdd"


def section(name: str, body: bytes, status: str = "0", err: bytes | None = None) -> bytes:
    out = f"::driftcheck:{N}:begin:{name}\n".encode() + body
    if err is not None:
        out += f"\n::driftcheck:{N}:stderr:{name}\n".encode() + err
    return out + f"\n::driftcheck:{N}:end:{name}:{status}\n".encode()


def test_bodies_are_exact_bytes() -> None:
    out = section("a", b"x\n\n", err=b"warn") + section("b", b"") + section("c", b"\xff\x00")
    assert split_sections(out, N) == {
        "a": RawSection("0", b"x\n\n", b"warn"),
        "b": RawSection("0", b""),
        "c": RawSection("0", b"\xff\x00"),
    }


def test_a_marker_within_a_line_is_just_content() -> None:
    # a body line that ends with a whole marker (the right nonce, even) neither ends its section
    # nor begins one: markers are whole lines
    inner = f"x ::driftcheck:{N}:end:a:0\ny::driftcheck:{N}:begin:b".encode()
    out = section("a", inner) + section("c", b"z")
    assert split_sections(out, N) == {"a": RawSection("0", inner), "c": RawSection("0", b"z")}


def test_a_marker_with_another_nonce_is_just_content() -> None:
    forged = b"::driftcheck:ffffffffffffffff:end:a:0\n::driftcheck:ffffffffffffffff:begin:b\n"
    assert split_sections(section("a", forged), N)["a"].body == forged


def test_repeated_misordered_and_unfinished_sections_are_dropped() -> None:
    out = section("dup", b"1") + section("dup", b"2") + section("ok", b"y")
    out += f"::driftcheck:{N}:begin:x\nbody\n::driftcheck:{N}:end:y:0\n".encode()
    out += f"::driftcheck:{N}:begin:cut\npartial".encode()
    assert set(split_sections(out, N)) == {"ok"}


def test_a_failing_tool_is_failed_with_its_message() -> None:
    facts = b"".join(
        section(f"facts.{n}", b"")
        for n in ("os-release", "kernel", "uptime", "clock", "provisioned", "procstat", "pid1")
    )
    # dpkg-query's real message for a corrupt status file (captured), rc 2.
    err = (
        b"dpkg-query: error: parsing file '/var/lib/dpkg/status' near line 187 package "
        b"'openssh-client':\n package has status triggers-pending but no triggers pending\n"
    )
    out = facts + section("packages.dpkg", b"", "2", err)
    out += section("packages.rpm", b"no rpm", "unsupported")
    out += section("packages.apk", b"no apk", "unsupported") + section("done", b"")
    observed = parse_output(CommandResult(0, out, b""), DeclaredState(), N)
    assert observed.packages.outcome is Outcome.FAILED
    assert observed.packages.reason.startswith("dpkg-query exited 2: dpkg-query: error: parsing")
    assert observed.facts.ok
    assert observed.facts.value.zombies is None


def test_no_manager_at_all_is_unsupported_not_empty() -> None:
    out = b"".join(section(f"packages.{m}", b"no", "unsupported") for m in ("dpkg", "rpm", "apk"))
    observed = parse_output(CommandResult(0, out, b""), DeclaredState(), N)
    assert observed.packages.outcome is Outcome.UNSUPPORTED


@pytest.mark.parametrize(
    ("rc", "stdout", "stderr", "reason"),
    [
        (0, b"garbage\x00\xff", b"", "no collector output was recognised"),
        (127, b"", b"sh: 1: /bin/sh: not found\n", "the collector script exited 127: sh: 1:"),
        (0, section("facts.kernel", b"6.1\n"), b"", "the collector's output ended before"),
    ],
)
def test_broken_runs_fail_every_section(rc: int, stdout: bytes, stderr: bytes, reason: str) -> None:
    state = DeclaredState(files={"/etc/x": FileSpec("/etc/x")})
    observed = parse_output(CommandResult(rc, stdout, stderr), state, N)
    for s in (observed.packages, observed.files, observed.services, observed.facts):
        assert s.outcome is Outcome.FAILED
        assert s.reason.startswith(reason)
        assert s.value is None


def test_nonce_must_be_plain() -> None:
    with pytest.raises(ValueError, match="nonce"):
        build_script(DeclaredState(), "x'; rm -rf /; '")


def test_a_path_with_nul_is_an_error_not_a_crash() -> None:
    path = "/etc/a\0b"
    state = DeclaredState(files={path: FileSpec(path)})
    assert "a\0b" not in build_script(state, N)
    out = section("done", b"")
    observed = parse_output(CommandResult(0, out, b""), state, N)
    assert observed.files.value[path].error == "a path with a NUL byte"
