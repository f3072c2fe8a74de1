"""One declared directory from its section (dc_dir in collect.sh): a first line saying what the
path is (`dir`, `absent`, `notdir TYPE`, `err WHY`), then, after `dir`, every entry name followed
by a NUL byte. Names are split on NUL only: a newline inside a name is part of it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from driftcheck.collectors.sections import ParseError, RawSection
from driftcheck.errors import LimitError
from driftcheck.limits import MAX_DIRECTORY_ENTRIES
from driftcheck.model import DeclaredState, DirectoryListing, Outcome, Section, uncollected
from driftcheck.shell import quote

_TYPES = frozenset({"symlink", "file", "fifo", "socket", "device", "other"})


def directory_calls(state: DeclaredState) -> list[str]:
    """One dc_dir per declared directory, in declaration order (section dir.INDEX)."""
    return [f"dc_dir {i} {quote(path)}" for i, path in enumerate(state.directories)]


def directories_section(
    get: Callable[[str], RawSection | None], missing: Callable[[str], str], state: DeclaredState
) -> Section[Mapping[str, DirectoryListing]]:
    """Every declared directory's listing; a section missing from the output fails them all
    (the output was cut or garbled: nothing after it is to be trusted)."""
    found: dict[str, DirectoryListing] = {}
    for i, path in enumerate(state.directories):
        raw = get(f"dir.{i}")
        if raw is None:
            return uncollected(Outcome.FAILED, missing(f"dir.{i}"))
        try:
            found[path] = parse_listing(raw.body, path)
        except ParseError as exc:
            found[path] = DirectoryListing(path, "", error=f"garbled collector output: {exc}")
    return Section(Outcome.COLLECTED, found)


def parse_listing(raw: bytes, path: str, limit: int = MAX_DIRECTORY_ENTRIES) -> DirectoryListing:
    """ParseError for a body dc_dir does not print; LimitError past `limit` names."""
    head, newline, rest = raw.partition(b"\n")
    word, _, why = head.decode("ascii", errors="replace").partition(" ")
    if word == "dir" and newline:
        return DirectoryListing(path, "directory", _names(rest, limit))
    if rest:
        raise ParseError(f"unexpected text after {head[:40]!r} in a directory section")
    if word == "absent" and not why:
        return DirectoryListing(path, "absent")
    if word == "notdir" and why in _TYPES:
        return DirectoryListing(path, why)
    if word == "err" and why:
        return DirectoryListing(path, "", error=f"cannot list: {why[:200]}")
    raise ParseError(f"not a directory section: {head[:40]!r}")


def _names(body: bytes, limit: int) -> tuple[str, ...]:
    """Every NUL-terminated name, as text (bytes that are not UTF-8 written as \\xNN). What
    follows the last NUL is no name: dc_dir ends each one with a NUL."""
    if body.count(b"\0") > limit:
        raise LimitError(f"a declared directory holds more than {limit:,} entries")
    found = body.split(b"\0")
    if found[-1]:
        raise ParseError("a directory section ends inside a name")
    names = {name.decode("utf-8", errors="backslashreplace") for name in found[:-1]}
    if "" in names or any("/" in name for name in names):
        raise ParseError("an empty name or a name with '/' in a directory section")
    return tuple(sorted(names))
