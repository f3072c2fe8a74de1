"""`directories:`: a directory holds exactly the declared entries (names matching an `ignore`
glob aside). Every other entry is `unexpected`, every declared one not there is `missing`; both
are `file` findings on the entry's full path. A directory that is not there is one `missing`
(its entries are not listed one by one), one that is something else (a symlink is never
followed) one `type`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase

from driftcheck.model import DeclaredState, DirectoryListing, DirectorySpec, Finding, Section
from driftcheck.model.vocab import Kind

CATEGORY = "file"
DIRECTORY = "directory"


def compare_directories(
    declared: DeclaredState, section: Section[Mapping[str, DirectoryListing]], target: str
) -> list[Finding]:
    findings: list[Finding] = []
    for spec in declared.directories.values():
        listing = section.value.get(spec.path) if section.ok else None
        if listing is None or listing.error:
            reason = listing.error if listing else section.reason or "not reported"
            detail = f"directory could not be listed: {reason}"
            findings.append(Finding(target, CATEGORY, spec.path, Kind.UNKNOWN, detail=detail))
            continue
        findings += _check(spec, listing, target)
    return findings


def _check(spec: DirectorySpec, listing: DirectoryListing, target: str) -> Iterator[Finding]:
    if listing.type == "absent":
        yield Finding(target, CATEGORY, spec.path, Kind.MISSING, DIRECTORY, "absent")
        return
    if listing.type != DIRECTORY:
        yield Finding(target, CATEGORY, spec.path, "type", DIRECTORY, listing.type)
        return
    declared, present = set(spec.exactly), set(listing.names)
    for name in sorted(present - declared):
        if not any(fnmatchcase(name, glob) for glob in spec.ignore):
            yield Finding(
                target, CATEGORY, entry(spec.path, name), Kind.UNEXPECTED, "not declared",
                "present", detail=f"{spec.path} is declared to hold exactly {_count(spec)}",
            )  # fmt: skip
    for name in sorted(declared - present):
        yield Finding(target, CATEGORY, entry(spec.path, name), Kind.MISSING, "present", "absent")


def entry(directory: str, name: str) -> str:
    return f"{directory.rstrip('/')}/{name}"


def _count(spec: DirectorySpec) -> str:
    count = len(spec.exactly)
    return "no entries" if not count else "1 entry" if count == 1 else f"{count} entries"
