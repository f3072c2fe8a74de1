"""Files declared with `keys:` (an authorized_keys file holds exactly these keys) or `lines:`
(a file holds exactly these lines, in any order; blank lines and repeats do not count).

Keys are compared by identity, their type and SHA256 fingerprint, and named as `ssh-keygen -l`
names them: a report never holds key material. A key in both with other options (`from=`,
`command=`) is one `options` finding. Whether the file is there and a regular file is
compare/files.py's to say; here only its content counts, and content cut at the cap is
`unknown`, never a partial verdict.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace

from driftcheck.collectors.authkeys import UNUSABLE, parse_authorized_keys, parse_key_line
from driftcheck.collectors.sections import lines as split_lines
from driftcheck.limits import MAX_DECLARED_LINES
from driftcheck.model import AuthorizedKey, DeclaredState, FileSpec, FileState, Finding, Section
from driftcheck.model.vocab import Kind

CATEGORY = "file"
SHOWN = 120  # characters of a comment, options or line shown in an item


def compare_keysets(
    declared: DeclaredState, section: Section[Mapping[str, FileState]], target: str
) -> list[Finding]:
    findings: list[Finding] = []
    for spec in declared.files.values():
        if spec.absent or (spec.keys is None and spec.lines is None):
            continue
        state = section.value.get(spec.path) if section.ok else None
        if state is None or state.error or not state.exists or state.type != "file":
            continue  # unknown, missing or not a file: compare_files says which
        if state.content is None or state.content_truncated:
            why = "not collected" if state.content is None else "cut at the content cap"
            detail = f"its content was {why}: which {_what(spec)} it holds is unknown"
            findings.append(Finding(target, CATEGORY, spec.path, Kind.UNKNOWN, detail=detail))
            continue
        if spec.keys is not None:
            findings += _keys(spec, spec.keys, state.content, target)
        if spec.lines is not None:
            findings += _lines(spec, spec.lines, state.content, target)
    return findings


def _what(spec: FileSpec) -> str:
    return "keys" if spec.keys is not None else "lines"


# --- keys ----------------------------------------------------------------------------------

Identity = tuple[str, str]  # (type, fingerprint)


def _keys(
    spec: FileSpec, declared: tuple[str, ...], content: bytes, target: str
) -> Iterator[Finding]:
    wanted = _by_identity(parse_key_line(line) for line in declared)
    found = _by_identity(parse_authorized_keys(content))
    for ident in sorted(found.keys() - wanted.keys()):
        item = f"{spec.path} {_name(found[ident])}"
        yield Finding(target, CATEGORY, item, Kind.UNEXPECTED, "not declared", "present")
    for ident in sorted(wanted.keys() - found.keys()):
        key = wanted[ident]
        detail = "sshd cannot use this declared line" if key.type == UNUSABLE else None
        item = f"{spec.path} {_name(key)}"
        yield Finding(target, CATEGORY, item, Kind.MISSING, "present", "absent", detail=detail)
    for ident in sorted(wanted.keys() & found.keys()):
        want, have = wanted[ident].options, found[ident].options
        if want != have:
            item = f"{spec.path} {_name(replace(found[ident], options=''))}"
            yield Finding(
                target, CATEGORY, item, "options", _cut(want) or "(none)", _cut(have) or "(none)"
            )


def _by_identity(
    keys: Iterable[AuthorizedKey],
) -> dict[Identity, AuthorizedKey]:
    """The first line of each key (a key written twice is one key to sshd too)."""
    found: dict[Identity, AuthorizedKey] = {}
    for key in keys:
        found.setdefault((key.type, key.fingerprint), key)
    return found


def _name(key: AuthorizedKey) -> str:
    """ssh-keygen -l's name of the key, its comment and options cut to a readable length."""
    return replace(key, comment=_cut(key.comment), options=_cut(key.options)).describe()


# --- lines ---------------------------------------------------------------------------------


def _lines(
    spec: FileSpec, declared: tuple[str, ...], content: bytes, target: str
) -> Iterator[Finding]:
    wanted = {line for line in declared if line.strip()}
    found = {
        line
        for line in split_lines(content, MAX_DECLARED_LINES, f"{spec.path} (lines:)")
        if line.strip()
    }
    added, gone = sorted(found - wanted), sorted(wanted - found)
    if spec.sensitive:
        if added or gone:
            actual = f"(sensitive: {len(added)} lines not declared, {len(gone)} missing)"
            yield Finding(
                target, CATEGORY, spec.path, "content", "(sensitive)", actual,
                detail="sensitive file: its lines are not shown",
            )  # fmt: skip
        return
    for line in added:
        item = f"{spec.path}: {_shown(line)}"
        yield Finding(target, CATEGORY, item, Kind.UNEXPECTED, "not declared", "present")
    for line in gone:
        yield Finding(
            target, CATEGORY, f"{spec.path}: {_shown(line)}", Kind.MISSING, "present", "absent"
        )


def _cut(text: str) -> str:
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."


def _shown(line: str) -> str:
    """A line as an item: a long one cut, with a digest of the whole so that two long lines
    with the same beginning stay two items."""
    if len(line) <= SHOWN:
        return line
    digest = hashlib.sha256(line.encode("utf-8", errors="surrogateescape")).hexdigest()[:12]
    return f"{line[: SHOWN - 3]}... (sha256:{digest})"
