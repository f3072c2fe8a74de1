"""Declared + observed -> findings. Pure functions: no I/O, no clock (the caller passes `now`).

A check that could not be made is a finding of kind `unknown`, never a pass and never `missing`.
"""

from __future__ import annotations

from dataclasses import replace

from driftcheck.causes import cause_of_exception
from driftcheck.compare.changed import compare_changed
from driftcheck.compare.containers import compare_containers
from driftcheck.compare.directories import compare_directories
from driftcheck.compare.files import compare_files
from driftcheck.compare.host import compare_host
from driftcheck.compare.keysets import compare_keysets
from driftcheck.compare.modified import compare_modified
from driftcheck.compare.packages import compare_packages
from driftcheck.compare.services import compare_services
from driftcheck.errors import LimitError
from driftcheck.limits import MAX_FINDINGS
from driftcheck.model import DeclaredState, Finding, HostResult, Observed
from driftcheck.model.vocab import UNKNOWN_KINDS, Kind, Status

# Findings that say a check was not made (or not completely): never compliant, never waived.


def compare(
    declared: DeclaredState, observed: Observed, *, now: float, target: str = "host"
) -> list[Finding]:
    """All findings for one target, sorted so that run-to-run diffs mean something."""
    findings = [
        *compare_packages(declared, observed.packages, target),
        *compare_files(declared, observed.files, target),
        *compare_keysets(declared, observed.files, target),
        *compare_directories(declared, observed.directories, target),
        *compare_services(declared, observed.services, target),
        *compare_host(declared.host, observed.facts, target, now),
        *compare_modified(declared, observed, target),
        *compare_containers(declared, observed, lambda d, o, t: compare(d, o, now=now, target=t)),
        *compare_changed(declared, observed),
    ]
    if observed.truncated:
        findings.append(
            Finding(
                target,
                "collector",
                "output",
                Kind.TRUNCATED,
                detail="the host's output hit the size cap; what was cut is unknown",
            )
        )
    return sorted(findings)


def is_unknown(finding: Finding) -> bool:
    return finding.kind in UNKNOWN_KINDS


def too_many_findings(count: int, how: str = "") -> str:
    """What a host past the findings limit is told, by the scan and by the fleet stage alike."""
    return f"more than {MAX_FINDINGS:,} findings ({count:,}{how}); none kept"


def limit_finding(why: str, kind: str = Kind.LIMIT) -> Finding:
    """The one finding of a host past a limit (driftcheck.limits): never a partial list."""
    return Finding("host", "collector", "output", kind, detail=f"{why} (README: Limits)")


def limit_error(why: str) -> str:
    """The error of a host past a limit."""
    return f"a per-host limit was passed: {why}"


def limited(result: HostResult, why: str) -> HostResult:
    """A host found past a limit after its own audit (by the fleet stage): `error`, with the one
    finding that says how many there were, as the scan leaves a host past a limit."""
    return replace(
        result,
        status=Status.ERROR,
        findings=(limit_finding(why),),
        error=limit_error(why),
        cause=cause_of_exception(LimitError(why)),
    )
