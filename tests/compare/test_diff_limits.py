"""Diffs are bounded: difflib's quadratic worst case, one file's diff, and a host's diffs in all.

The content finding always stays (the digests differ); only what a report shows is cut.
"""

from __future__ import annotations

import hashlib
import random
import time

from driftcheck.compare import compare
from driftcheck.compare.files import bound_diffs
from driftcheck.limits import MAX_DIFF_BYTES, MAX_DIFF_INPUT_LINES
from driftcheck.model import (
    DeclaredState,
    FileSpec,
    FileState,
    Finding,
    Observed,
    Outcome,
    Section,
)

NOW = 1_800_000_000.0


def _content_finding(declared: str, actual: bytes) -> Finding:
    state = FileState(
        "/etc/x", True, "file", hashlib.sha256(actual).hexdigest(), "0644", "root", "root", actual
    )
    observed = Observed(files=Section(Outcome.COLLECTED, {"/etc/x": state}))
    spec = DeclaredState(files={"/etc/x": FileSpec("/etc/x", content=declared)})
    (finding,) = compare(spec, observed, now=NOW)
    assert finding.kind == "content"
    return finding


def test_crafted_content_is_not_diffed_past_the_line_limit() -> None:
    """100,000 lines of 120 values (none frequent enough for difflib's junk heuristic) took
    three minutes to diff; the host controls that content."""
    rng = random.Random(1)
    declared = "".join(f"{rng.randint(0, 120)}\n" for _ in range(100_000))
    actual = "".join(f"{rng.randint(0, 120)}\n" for _ in range(100_000)).encode()
    started = time.monotonic()
    finding = _content_finding(declared, actual)
    assert time.monotonic() - started < 5
    assert finding.diff is None
    assert finding.detail == f"no diff: more than {MAX_DIFF_INPUT_LINES:,} lines"


def test_one_file_diff_is_cut_at_its_byte_limit() -> None:
    declared = "".join(f"{'a' * 2000} {n}\n" for n in range(300))
    actual = "".join(f"{'b' * 2000} {n}\n" for n in range(300)).encode()
    finding = _content_finding(declared, actual)
    assert finding.diff is not None
    assert len(finding.diff.encode()) <= MAX_DIFF_BYTES
    assert finding.diff.endswith("\n")
    assert finding.detail == "diff cut at 256 KiB"


def test_a_hosts_diffs_stop_at_the_total_and_the_findings_stay() -> None:
    findings = [Finding("host", "file", f"/f{n}", "content", diff="x" * 100) for n in range(5)]
    kept = bound_diffs(findings, total=250)
    assert [f.item for f in kept] == [f.item for f in findings]
    assert [f.diff is not None for f in kept] == [True, True, False, False, False]
    assert kept[2].detail == "diff left out: this host's diffs passed 250 bytes"
    assert bound_diffs(findings) == findings  # 2 MiB by default
