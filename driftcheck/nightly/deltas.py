"""What changed since the previous run.

Per finding: `first_seen` (kept from run to run while the finding persists), `last_seen` (this
run), `runs` (how many runs it has been observed in, this one included) and `new`. Per report:
`changes` = {previous_run, new, resolved, carried, newly_unreachable, newly_error, line}.

"Could not check" is never "fixed": a host that was unreachable or in error this run resolves
nothing. Findings it had before and did not show now go to `changes.carried` (each with
`"carried": true` and its old first/last seen) instead of `resolved`; the history stores them as
carried so their first_seen survives until the host is audited again. A host missing from this
run altogether (a `--limit`, or removed from the inventory) is neither resolved nor carried.

Each host is compared with its own baseline, its state in the latest recorded run that
included it, so a `--limit web` run in between does not make everything else look new.
On the very first recorded run nothing is marked new: there is nothing to be new against.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from driftcheck.model.document import Changes, FindingEntry, HostEntry, Report, RunDiff
from driftcheck.model.vocab import NOT_AUDITED, Status
from driftcheck.nightly.history import History
from driftcheck.nightly.rows import HostState, RunState, finding_key

UNAUDITED = NOT_AUDITED


@dataclass
class HostDelta:
    new: list[FindingEntry] = field(default_factory=list)
    resolved: list[FindingEntry] = field(default_factory=list)
    carried: list[FindingEntry] = field(default_factory=list)
    became: str | None = None  # "unreachable" | "error" | "unchecked" when the host newly is so


def annotate(report: Report, history: History) -> Report:
    """A copy of `report` with first_seen/last_seen/new/runs on every finding and `changes`;
    `report` itself is left as it was."""
    previous = history.previous_run()
    baselines = history.baselines() if previous else {}
    seen = report["run"]["started"]
    hosts: list[HostEntry] = []
    deltas = {}
    for host in report["hosts"]:
        baseline = baselines.get(host["name"])
        findings = [
            _stamped(f, baseline, seen, history, host["name"], has_history=previous is not None)
            for f in host["findings"]
        ]
        hosts.append({**host, "findings": findings})
        deltas[host["name"]] = host_delta(host["status"], findings, baseline)
    return {
        **report,
        "hosts": hosts,
        "changes": _changes(previous.id if previous else None, deltas),
    }


def diff_runs(a: RunState, b: RunState) -> RunDiff:
    """`driftcheck diff A B`: the changes from run A to run B, shaped like report["changes"]."""
    return {**run_changes(a, b), "run": b.id}


def run_changes(a: RunState, b: RunState) -> Changes:
    """Run B's `changes` against run A, as if B had been annotated right after A."""
    deltas = {
        name: host_delta(state.status, _observed(state), a.hosts.get(name))
        for name, state in sorted(b.hosts.items())
    }
    return _changes(a.id, deltas)


def host_delta(
    status: str, findings: Iterable[FindingEntry], baseline: HostState | None
) -> HostDelta:
    """One host's new, resolved and carried findings against its baseline (None: no baseline)."""
    findings = list(findings)
    before = baseline.findings if baseline else {}
    delta = HostDelta(new=[_public(f) for f in findings if finding_key(f) not in before])
    if baseline is None:
        return delta
    current = {finding_key(f) for f in findings}
    gone = [_public(f) for key, f in sorted(before.items()) if key not in current]
    if status in UNAUDITED:
        delta.carried = [{**f, "carried": True} for f in gone]
        delta.became = status if baseline.status != status else None
    else:
        delta.resolved = gone
    return delta


def summary_line(changes: Changes) -> str:
    """What the text summary leads with, e.g. "3 new findings on 2 hosts, 1 resolved"."""
    if changes.get("previous_run") is None:
        return "first recorded run"
    new = [f for f in changes["new"] if not f.get("waived")]
    line = (
        f"{_n(len(new), 'new finding')} on {_n(len({f['host'] for f in new}), 'host')}, "
        f"{len(changes['resolved'])} resolved"
    )
    newly = _newly(changes)
    for status in UNAUDITED:
        hosts = newly[status]
        if hosts:
            line += f", {_n(len(hosts), 'host')} newly {status} ({', '.join(hosts)})"
    if changes.get("carried"):
        line += f", {_n(len(changes['carried']), 'finding')} not re-checked"
    return line


def _newly(changes: Changes) -> dict[str, list[str]]:
    """`newly_<status>` per not-audited status (model.vocab.NOT_AUDITED); a report written
    before `unchecked` existed has no `newly_unchecked`."""
    return {
        Status.UNREACHABLE.value: changes.get("newly_unreachable") or [],
        Status.ERROR.value: changes.get("newly_error") or [],
        Status.UNCHECKED.value: changes.get("newly_unchecked") or [],
    }


def _stamped(
    finding: FindingEntry,
    baseline: HostState | None,
    seen: str | None,
    history: History,
    host: str,
    *,
    has_history: bool,
) -> FindingEntry:
    """`finding` with first_seen, last_seen, new and runs (how many audited runs it has been
    there, this one included)."""
    old = baseline.findings.get(finding_key(finding)) if baseline else None
    counted = None if old is None else old.get("runs")
    if old is None:
        runs = 1
    elif counted is not None:
        runs = counted + 1
    else:  # recorded before the count was: estimated once, then carried
        runs = history.runs_since(host, old.get("first_seen") or "") + 1  # never NULL there
    return {
        **finding,
        "first_seen": old["first_seen"] if old else seen,
        "last_seen": seen,
        "new": has_history and old is None,
        "runs": runs,
    }


def _changes(previous: str | None, deltas: Mapping[str, HostDelta]) -> Changes:
    def collect(found: Iterable[tuple[str, list[FindingEntry]]]) -> list[FindingEntry]:
        return [{"host": name, **f} for name, findings in found for f in findings]

    def became(status: Status) -> list[str]:
        return [n for n, d in deltas.items() if d.became == status.value]

    changes: Changes = {
        "previous_run": previous,
        "new": collect((n, d.new) for n, d in deltas.items()) if previous else [],
        "resolved": collect((n, d.resolved) for n, d in deltas.items()),
        "carried": collect((n, d.carried) for n, d in deltas.items()),
        "newly_unreachable": became(Status.UNREACHABLE),
        "newly_error": became(Status.ERROR),
        "newly_unchecked": became(Status.UNCHECKED),
        "line": "",
    }
    changes["line"] = summary_line(changes)
    return changes


def _observed(state: HostState) -> list[FindingEntry]:
    return [f for f in state.findings.values() if not f.get("carried")]


def _public(finding: FindingEntry) -> FindingEntry:
    """`finding` without what only the history keeps (new, carried)."""
    public = finding.copy()
    public.pop("new", None)
    public.pop("carried", None)
    return public


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
