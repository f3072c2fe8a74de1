"""Evidence: what a host's own records say about how a finding came to be. Pure functions, run
per host after the comparison and after the fleet stage (peer findings exist only then).

- A package finding gets the package log entries that touched its package: apt's history
  (with the command line and who asked, where apt recorded them), dpkg.log, rpm's install time.
- A file finding gets the file's times (mtime, ctime), then either the package transaction of
  its package (any package, when the file's package is not known) within WINDOW seconds of its
  ctime, or "changed outside any package transaction" when the logs read reach back that far;
  and the wtmp login sessions open at its ctime (or that none was, when wtmp reaches back).

Evidence is what the records say, never a verdict: logs rotate, clocks drift, root can write
anything. It never changes what a finding is (Finding.evidence is not compared).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import NamedTuple

from driftcheck.limits import MAX_EVIDENCE_PER_FINDING
from driftcheck.model import (
    Evidence,
    Finding,
    HostRecords,
    HostResult,
    Login,
    Observed,
    PackageChange,
    Transaction,
)
from driftcheck.model.shared import Sharing
from driftcheck.model.vocab import UNKNOWN_KINDS, Category

WINDOW = 5.0  # seconds between a package transaction and a file's ctime: "during" it
LOGIN_SLACK = 1.0  # stat's times are whole seconds, wtmp's are not
_PACKAGE_LOGS = ("apt history", "dpkg.log", "rpm")


class FileTimes(NamedTuple):
    """A named tuple, not a frozen dataclass: a host has thousands, built and compared in C."""

    mtime: int | None
    ctime: int | None
    package: str = ""  # the package that ships it (a package config file), when known


@dataclass(frozen=True)
class HostEvidence:
    """A host's records as the fleet stage carries them to the attaching: small, bounded."""

    records: HostRecords
    files: Mapping[str, FileTimes] = field(default_factory=dict)


_SHARING: Sharing[FileTimes] = Sharing(lambda times: times)


def gather(observed: Observed) -> HostEvidence | None:
    """The records and the times of every file the comparison or the peers can name (declared
    files, package config files, config-tree entries); None when no records were collected."""
    if not observed.records.ok:
        return None
    files: dict[str, FileTimes] = {}
    if observed.trees.ok:
        for path, entry in observed.trees.value.entries.items():
            files[path] = FileTimes(entry.mtime, entry.ctime)
    if observed.conffiles.ok:
        for path, conf in observed.conffiles.value.items():
            files[path] = FileTimes(conf.mtime, conf.ctime, conf.package)
    if observed.files.ok:
        for path, state in observed.files.value.items():
            package = files[path].package if path in files else ""
            if state.exists and state.ctime is not None:
                files[path] = FileTimes(state.mtime, state.ctime, package)
    # kept until the fleet stage for every host (peers): one copy of what hosts of an image share
    return HostEvidence(observed.records.value(), _SHARING.share(files))


def keep_for(evidence: HostEvidence, findings: Iterable[Finding]) -> HostEvidence:
    """Only what explains `findings`: for a host whose findings are final before the fleet
    stage (no peers), the rest need not be kept until then."""
    packages, paths = set(), set()
    for finding in findings:
        if finding.category == Category.PACKAGE:
            packages.add(finding.item)
        elif finding.category == Category.FILE:
            paths.add(finding.item)
    files = {p: t for p, t in evidence.files.items() if p in paths}
    ctimes = [t.ctime for t in files.values() if t.ctime is not None]
    records = evidence.records
    kept = tuple(
        t
        for t in records.transactions
        if any(c.package in packages for c in t.changes) or any(_during(t, c) for c in ctimes)
    )
    logins = tuple(s for s in records.logins if any(_open_at(s, c) for c in ctimes))
    oldest = min((t.start for t in records.transactions), default=None)
    # the oldest entry read stays: it says how far back "outside any package transaction" holds
    first = [t for t in records.transactions if t.start == oldest][:1]
    kept = tuple(sorted(set(kept) | set(first), key=lambda t: t.start))
    return HostEvidence(replace(records, transactions=kept, logins=logins), files)


def with_evidence(result: HostResult, evidence: HostEvidence | None) -> HostResult:
    if evidence is None or not result.findings:
        return result
    return replace(result, findings=attach(result.findings, evidence))


def attach(findings: Sequence[Finding], evidence: HostEvidence) -> tuple[Finding, ...]:
    """Every finding, with the evidence its host's records hold for it."""
    by_package = _by_package(evidence.records.transactions)
    out = []
    for finding in findings:
        found = explain(finding, evidence, by_package)
        out.append(replace(finding, evidence=found) if found else finding)
    return tuple(out)


def explain(
    finding: Finding,
    evidence: HostEvidence,
    by_package: Mapping[str, Sequence[Transaction]] | None = None,
) -> tuple[Evidence, ...]:
    """The host's own findings only: a container's packages and files are not in its logs."""
    if finding.target != "host" or finding.kind in UNKNOWN_KINDS or finding.item == "*":
        return ()
    if by_package is None:
        by_package = _by_package(evidence.records.transactions)
    if finding.category == Category.PACKAGE:
        return package_evidence(finding.item, by_package.get(finding.item, ()))
    if finding.category == Category.FILE:
        times = evidence.files.get(finding.item)
        return file_evidence(times, evidence.records, by_package) if times else ()
    return ()


# --- packages -------------------------------------------------------------------------------


def package_evidence(package: str, touched: Iterable[Transaction]) -> tuple[Evidence, ...]:
    """The log entries that changed `package`, oldest first; the newest are kept. dpkg.log's
    `configure` lines are left out: each follows an install or upgrade the log names too."""
    found = [
        _package_item(t, c)
        for t in touched
        for c in t.changes
        if c.package == package and c.action != "configure"
    ]
    found.sort(key=lambda e: (e.time or "", e.source))
    return tuple(found[-MAX_EVIDENCE_PER_FINDING:])


def _package_item(transaction: Transaction, change: PackageChange) -> Evidence:
    version = f" {change.version}" if change.version else ""
    return _said_by(transaction, f"{change.action} {change.package}{version}")


def _said_by(transaction: Transaction, summary: str) -> Evidence:
    """What one package transaction says, with who asked for it and how, where it records it."""
    return Evidence(
        transaction.source,
        when(transaction.start),
        summary,
        user=transaction.user or None,
        command=transaction.command or None,
    )


def _by_package(transactions: Iterable[Transaction]) -> dict[str, list[Transaction]]:
    found: dict[str, list[Transaction]] = {}
    for t in transactions:
        for name in {c.package for c in t.changes}:
            found.setdefault(name, []).append(t)
    return found


# --- files ----------------------------------------------------------------------------------


def file_evidence(
    times: FileTimes,
    records: HostRecords,
    by_package: Mapping[str, Sequence[Transaction]] | None = None,
) -> tuple[Evidence, ...]:
    if times.ctime is None:
        return ()
    ctime = float(times.ctime)
    found = [_times_item(times)]
    found += _transaction_items(times, ctime, records, by_package)
    found += _login_items(ctime, records)
    return tuple(found[:MAX_EVIDENCE_PER_FINDING])


def _times_item(times: FileTimes) -> Evidence:
    changed = when(times.ctime)
    if times.mtime is None:
        return Evidence("stat", changed, f"last changed {changed}")
    if times.mtime == times.ctime:
        return Evidence("stat", changed, f"modified {changed}")
    return Evidence(
        "stat", changed, f"content modified {when(times.mtime)}, last changed {changed}"
    )


def _transaction_items(
    times: FileTimes,
    ctime: float,
    records: HostRecords,
    by_package: Mapping[str, Sequence[Transaction]] | None,
) -> Iterator[Evidence]:
    logs = [t for t in records.transactions if t.source in _PACKAGE_LOGS]
    if not logs:
        return  # no package log read: nothing to say either way
    if times.package:
        own = by_package.get(times.package, ()) if by_package is not None else logs
        candidates = [t for t in own if any(c.package == times.package for c in t.changes)]
    else:
        candidates = logs
    during = [t for t in candidates if _during(t, ctime)]
    if during:
        nearest = min(during, key=lambda t: abs(t.start - ctime))
        what = _changes_text(nearest.changes, times.package)
        yield _said_by(nearest, f"changed during a package transaction ({what})")
        return
    oldest = min(t.start for t in logs)
    if ctime < oldest - WINDOW:
        yield Evidence(
            "stat",
            when(ctime),
            f"changed before the oldest package log entry read ({when(oldest)}): "
            "not known whether by a package",
        )
        return
    whose = f" of {times.package}" if times.package else ""
    yield Evidence(
        "stat",
        when(ctime),
        f"changed outside any package transaction{whose}: a hand edit "
        "(or a tool other than the package manager)",
    )


def _changes_text(changes: Sequence[PackageChange], package: str) -> str:
    shown = [c for c in changes if c.package == package] if package else list(changes)
    words = [f"{c.action} {c.package} {c.version}".strip() for c in shown[:3]]
    more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
    return ", ".join(words) + more


def _login_items(ctime: float, records: HostRecords) -> list[Evidence]:
    sessions = [s for s in records.logins if _open_at(s, ctime)]
    if not sessions:
        if records.logins_since is not None and records.logins_since <= ctime:
            return [Evidence("wtmp", None, "no login session was open then")]
        return []
    return [_login_item(s) for s in sessions[-(MAX_EVIDENCE_PER_FINDING - 2) :]]


def _login_item(session: Login) -> Evidence:
    where = f" from {session.host}" if session.host else ""
    until = when(session.end) if session.end is not None else "still open when read"
    return Evidence(
        "wtmp",
        when(session.start),
        f"{session.user} logged in on {session.line}{where} ({when(session.start)} to {until})",
        user=session.user or None,
    )


# --- time -------------------------------------------------------------------------------------


def _during(transaction: Transaction, ctime: float) -> bool:
    end = transaction.end if transaction.end is not None else transaction.start
    return transaction.start - WINDOW <= ctime <= max(end, transaction.start) + WINDOW


def _open_at(session: Login, moment: float) -> bool:
    end = session.end if session.end is not None else float("inf")
    return session.start - LOGIN_SLACK <= moment <= end + LOGIN_SLACK


def when(epoch: float | None) -> str | None:
    """ISO 8601 in UTC, to the second: 2026-12-07T05:01:02Z."""
    if epoch is None:
        return None
    try:
        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return None
