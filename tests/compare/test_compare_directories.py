"""`directories:` and a file's `keys:` / `lines:`, table-style: declared + observed -> exactly
these findings (category, item, kind, expected, actual). Key fingerprints are ssh-keygen -l's."""

from __future__ import annotations

import pytest

from driftcheck.compare import compare
from driftcheck.errors import LimitError
from driftcheck.model import (
    DeclaredState,
    DirectoryListing,
    DirectorySpec,
    FileSpec,
    FileState,
    Observed,
    Outcome,
    Section,
    uncollected,
)

Row = tuple[str, str, str, str | None, str | None]
CRON = "/etc/cron.d"
KEYS = "/root/.ssh/authorized_keys"
ALICE = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHWkuNCU5n4alu+jJu9cKs29MtzL+ZaRiStLHyXvoXgS alice",
    "SHA256:bZ5o2MqmYOjUkz9Ahqp1fd1z4WDuNP5wH+HYKdFxVE8",
)
BOB = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEGAeKfOztW3G7GC+gZHQPEOInELVa+quxFKSe9vUcJb bob",
    "SHA256:jqtMThZK2I+YTKWUQxvFIMinelx33gKWBgTHxZrt2C8",
)
CAROL = (
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBMx0vXX2YsF1FMSxDMDc"
    "B0jOpCCTXPVXugFF/IRyjGj7h7tJ9lQ8cAnGJy/r7cs2vEHa9t1KAU57lojDfee7Gwo= carol",
    "SHA256:n3nhJrVs8BKZuWn/5nEjtih9yW72caJRToceA673uGE",
)


def listing(*names: str, type: str = "directory", error: str = "") -> Observed:
    found = DirectoryListing(CRON, type, tuple(sorted(names)), error)
    return Observed(directories=Section(Outcome.COLLECTED, {CRON: found}))


def cron(*names: str, ignore: tuple[str, ...] = ()) -> DeclaredState:
    return DeclaredState(directories={CRON: DirectorySpec(CRON, names, ignore)})


def unexpected(name: str) -> Row:
    return ("file", f"{CRON}/{name}", "unexpected", "not declared", "present")


DIRECTORY_CASES: dict[str, tuple[DeclaredState, Observed, list[Row]]] = {
    "exactly what is declared: nothing": (cron("a", "b"), listing("a", "b"), []),
    "one more: unexpected, by its full path": (
        cron("e2scrub_all"), listing("e2scrub_all", "backdoor"), [unexpected("backdoor")],
    ),
    "one declared gone: missing": (
        cron("e2scrub_all", "php"), listing("e2scrub_all"),
        [("file", f"{CRON}/php", "missing", "present", "absent")],
    ),
    "hidden, hostile and newline names are entries too": (
        cron(), listing(".hidden", "a\nb", "$(x)"),
        [unexpected("$(x)"), unexpected(".hidden"), unexpected("a\nb")],
    ),
    "ignored globs are no drift, declared ones still required": (
        cron("php", "x.dpkg-old", ignore=("*.dpkg-*", "*~")),
        listing("php", "php.dpkg-dist", "php~"),
        [("file", f"{CRON}/x.dpkg-old", "missing", "present", "absent")],
    ),
    "globs are case-sensitive": (cron(ignore=("*.bak",)), listing("x.BAK"), [unexpected("x.BAK")]),
    "the directory absent: one missing, not one per entry": (
        cron("a", "b"), listing(type="absent"), [("file", CRON, "missing", "directory", "absent")],
    ),
    "a symlink in its place: type": (
        cron("a"), listing(type="symlink"), [("file", CRON, "type", "directory", "symlink")],
    ),
    "not listable: unknown": (
        cron("a"), listing(type="", error="cannot list: Permission denied"),
        [("file", CRON, "unknown", None, None)],
    ),
    "section not collected: unknown": (
        cron("a"), Observed(directories=uncollected(Outcome.FAILED, "the output was cut")),
        [("file", CRON, "unknown", None, None)],
    ),
}  # fmt: skip


def rows(declared: DeclaredState, observed: Observed) -> list[Row]:
    return [
        (f.category, f.item, f.kind, f.expected, f.actual)
        for f in compare(declared, observed, now=0)
    ]


@pytest.mark.parametrize("case", DIRECTORY_CASES)
def test_directories(case: str) -> None:
    declared, observed, expected = DIRECTORY_CASES[case]
    assert rows(declared, observed) == sorted(expected)


def test_unknown_says_why() -> None:
    findings = compare(cron(), listing(type="", error="cannot list: Permission denied"), now=0)
    assert findings[0].detail == "directory could not be listed: cannot list: Permission denied"


# --- keys and lines --------------------------------------------------------------------------


def file_with(content: bytes, *, truncated: bool = False, path: str = KEYS) -> Observed:
    state = FileState(path, True, "file", "0" * 64, "0600", "root", "root", content, truncated)
    return Observed(files=Section(Outcome.COLLECTED, {path: state}))


def keys(*lines: str, **extra: object) -> DeclaredState:
    return DeclaredState(files={KEYS: FileSpec(KEYS, keys=lines, **extra)})  # type: ignore[arg-type]


def key_item(key: tuple[str, str], comment: str, options: str = "") -> str:
    kind = key[0].split()[0]
    return f"{KEYS} {kind} {key[1]} {comment}" + (f" (options {options})" if options else "")


KEY_CASES: dict[str, tuple[DeclaredState, Observed, list[Row]]] = {
    "the same keys, other comments, order and blank lines: nothing": (
        keys(ALICE[0], BOB[0]),
        file_with(f"# keys\n\n{BOB[0].replace(' bob', ' robert')}\n{ALICE[0]}\n".encode()),
        [],
    ),
    "a key added: unexpected, named by fingerprint": (
        keys(ALICE[0]), file_with(f"{ALICE[0]}\n{BOB[0]}\n".encode()),
        [("file", key_item(BOB, "bob"), "unexpected", "not declared", "present")],
    ),
    "a key gone: missing": (
        keys(ALICE[0], CAROL[0]), file_with(f"{ALICE[0]}\n".encode()),
        [("file", key_item(CAROL, "carol"), "missing", "present", "absent")],
    ),
    "options added to a declared key: options": (
        keys(ALICE[0]), file_with(f'command="/bin/sh",from="*" {ALICE[0]}\n'.encode()),
        [("file", key_item(ALICE, "alice"), "options", "(none)", 'command="/bin/sh",from="*"')],
    ),
    "a line sshd cannot use is a key of its own": (
        keys(ALICE[0]), file_with(f"{ALICE[0]}\nssh-ed25519 not-base64!\n".encode()),
        [("file", f"{KEYS} unusable SHA256:", "unexpected", "not declared", "present")],
    ),
    "an empty file against keys: []: nothing": (keys(), file_with(b""), []),
    "content cut at the cap: unknown, never a partial verdict": (
        keys(ALICE[0]), file_with(ALICE[0].encode()[:20], truncated=True),
        [("file", KEYS, "unknown", None, None)],
    ),
    "not a file: compare_files says type, no key findings": (
        keys(ALICE[0]),
        Observed(files=Section(Outcome.COLLECTED, {KEYS: FileState(KEYS, True, "directory")})),
        [("file", KEYS, "type", "file", "directory")],
    ),
    "absent: missing once": (
        keys(ALICE[0]), Observed(files=Section(Outcome.COLLECTED, {KEYS: FileState(KEYS, False)})),
        [("file", KEYS, "missing", "present", "absent")],
    ),
    "mode checked beside the keys": (
        keys(ALICE[0], mode="0644"), file_with(f"{ALICE[0]}\n".encode()),
        [("file", KEYS, "mode", "0644", "0600")],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", KEY_CASES)
def test_keys(case: str) -> None:
    declared, observed, expected = KEY_CASES[case]
    got = rows(declared, observed)
    if case.startswith("a line sshd cannot use"):  # its fingerprint is a digest of the line
        got = [(c, i[: len(expected[0][1])], *rest) for c, i, *rest in got]  # type: ignore[misc]
    assert got == sorted(expected)


def test_no_key_material_in_any_finding() -> None:
    declared, observed, _ = KEY_CASES["a key added: unexpected, named by fingerprint"]
    declared2, observed2, _ = KEY_CASES["a key gone: missing"]
    for finding in [*compare(declared, observed, now=0), *compare(declared2, observed2, now=0)]:
        text = repr(finding)
        assert "AAAAC3" not in text
        assert "AAAAE2" not in text


def test_too_many_lines_is_a_limit() -> None:
    with pytest.raises(LimitError):
        compare(keys(ALICE[0]), file_with(b"#\n" * 10_001), now=0)


HOSTS_ALLOW = "/etc/hosts.allow"


def lines(*declared: str, sensitive: bool = False) -> DeclaredState:
    spec = FileSpec(HOSTS_ALLOW, lines=declared, sensitive=sensitive)
    return DeclaredState(files={HOSTS_ALLOW: spec})


LONG = "x" * 300
LINE_CASES: dict[str, tuple[DeclaredState, Observed, list[Row]]] = {
    "any order, repeats and blank lines: nothing": (
        lines("a", "b"), file_with(b"b\n\na\nb\r\n", path=HOSTS_ALLOW), [],
    ),
    "a line added and one gone": (
        lines("sshd: 10.0.0.0/8", "ALL: LOCAL"),
        file_with(b"sshd: ALL\nALL: LOCAL\n", path=HOSTS_ALLOW),
        [("file", f"{HOSTS_ALLOW}: sshd: ALL", "unexpected", "not declared", "present"),
         ("file", f"{HOSTS_ALLOW}: sshd: 10.0.0.0/8", "missing", "present", "absent")],
    ),
    "whitespace is part of a line": (
        lines("a"), file_with(b" a\n", path=HOSTS_ALLOW),
        [("file", f"{HOSTS_ALLOW}:  a", "unexpected", "not declared", "present"),
         ("file", f"{HOSTS_ALLOW}: a", "missing", "present", "absent")],
    ),
    "sensitive: how many, never which": (
        lines("secret=1", sensitive=True), file_with(b"secret=2\n", path=HOSTS_ALLOW),
        [("file", HOSTS_ALLOW, "content", "(sensitive)",
          "(sensitive: 1 lines not declared, 1 missing)")],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", LINE_CASES)
def test_lines(case: str) -> None:
    declared, observed, expected = LINE_CASES[case]
    assert rows(declared, observed) == sorted(expected)


def test_a_long_line_is_cut_in_its_item_and_stays_its_own() -> None:
    observed = file_with(f"{LONG}a\n{LONG}b\n".encode(), path=HOSTS_ALLOW)
    items = [f.item for f in compare(lines(), observed, now=0)]
    assert len(set(items)) == 2
    assert all(len(item) < 200 and "(sha256:" in item for item in items)
