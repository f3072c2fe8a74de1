"""Files: existence, type, content digest, mode, owner, group; unified diffs for content drift.

Sensitive files are compared by digest only: neither content, diff nor digest reaches a report.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace

from driftcheck.limits import MAX_DIFF_BYTES, MAX_DIFF_INPUT_LINES, MAX_DIFF_TOTAL, size_text
from driftcheck.model import DeclaredState, FileSpec, FileState, Finding, Section
from driftcheck.model.vocab import Kind

DIFF_LINES_MAX = 400  # a diff longer than this is cut: a report is for reading


def compare_files(
    declared: DeclaredState, section: Section[Mapping[str, FileState]], target: str
) -> list[Finding]:
    findings: list[Finding] = []
    for spec in declared.files.values():
        state = section.value.get(spec.path) if section.ok else None
        if state is None or state.error:
            reason = state.error if state else section.reason or "not reported"
            detail = f"file could not be checked: {reason}"
            findings.append(Finding(target, "file", spec.path, Kind.UNKNOWN, detail=detail))
            continue
        findings += _check(spec, state, target)
    return findings


def _check(spec: FileSpec, state: FileState, target: str) -> Iterator[Finding]:
    if spec.absent:
        if state.exists:
            yield Finding(target, "file", spec.path, "unexpected", "absent", state.type)
        return
    if not state.exists:
        yield Finding(target, "file", spec.path, "missing", "present", "absent")
        return
    wants_content = spec.sha256 is not None or spec.content is not None
    wants_content |= spec.keys is not None or spec.lines is not None  # compare/keysets.py
    if wants_content and state.type != "file":
        yield Finding(target, "file", spec.path, "type", "file", state.type)
        return
    yield from _content(spec, state, target)
    for kind, wanted, actual in (
        ("mode", spec.mode, state.mode),
        ("owner", spec.owner, state.owner),
        ("group", spec.group, state.group),
    ):
        if wanted is not None and wanted != actual:
            yield Finding(target, "file", spec.path, kind, wanted, actual)


def _content(spec: FileSpec, state: FileState, target: str) -> Iterator[Finding]:
    expected = spec.sha256
    if spec.content is not None:
        expected = hashlib.sha256(spec.content.encode()).hexdigest()
    if expected is None or expected.lower() == state.sha256:
        return
    if spec.sensitive:
        yield Finding(
            target,
            "file",
            spec.path,
            "content",
            "(sensitive)",
            "(sensitive: differs)",
            detail="sensitive file: compared by digest only",
        )
        return
    diff, detail = _diff(spec, state)
    yield Finding(
        target,
        "file",
        spec.path,
        "content",
        f"sha256:{expected}",
        f"sha256:{state.sha256}",
        diff=diff,
        detail=detail,
    )


def _diff(spec: FileSpec, state: FileState) -> tuple[str | None, str | None]:
    if spec.content is None:
        return None, None
    if state.content is None:
        return None, "content not collected"
    if b"\0" in state.content:
        return None, "binary content differs"
    declared = spec.content.splitlines(keepends=True)
    actual = state.content.decode("utf-8", errors="replace").splitlines(keepends=True)
    if max(len(declared), len(actual)) > MAX_DIFF_INPUT_LINES:
        # difflib is quadratic on crafted input (100,000 lines: minutes): no diff, the finding stays
        return None, f"no diff: more than {MAX_DIFF_INPUT_LINES:,} lines"
    lines = list(
        difflib.unified_diff(
            declared, actual, fromfile=f"declared:{spec.path}", tofile=f"host:{spec.path}"
        )
    )
    detail = None
    if state.content_truncated:
        detail = f"the host's content was cut at {len(state.content)} bytes for the diff"
    if len(lines) > DIFF_LINES_MAX:
        lines = lines[:DIFF_LINES_MAX]
        detail = f"diff cut at {DIFF_LINES_MAX} lines"
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    if len(text.encode()) > MAX_DIFF_BYTES:
        text = _cut(text, MAX_DIFF_BYTES)
        detail = f"diff cut at {size_text(MAX_DIFF_BYTES)}"
    return text, detail


def _cut(text: str, size: int) -> str:
    """At most `size` bytes of UTF-8, ending at a line end when there is one."""
    head = text.encode()[:size].decode("utf-8", errors="ignore")
    end = head.rfind("\n")
    return head[: end + 1] if end >= 0 else head


def bound_diffs(findings: Iterable[Finding], total: int = MAX_DIFF_TOTAL) -> list[Finding]:
    """A host's diffs, in finding order, until `total` bytes; later diffs are left out (the
    findings stay, with a detail saying why): every report and history row stays small."""
    kept: list[Finding] = []
    room = total
    why = f"diff left out: this host's diffs passed {size_text(total)}"
    for finding in findings:
        size = len(finding.diff.encode()) if finding.diff else 0
        if size > room:
            kept.append(replace(finding, diff=None, detail=why))
            continue
        room -= size
        kept.append(finding)
    return kept
