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

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from driftcheck.model.vocab import NOT_AUDITED
from driftcheck.nightly.history import History, HostState, RunState, finding_key

UNAUDITED = NOT_AUDITED
_INTERNAL = ("new", "carried")


@dataclass
class HostDelta:
    new: list[dict[str, Any]] = field(default_factory=list)
    resolved: list[dict[str, Any]] = field(default_factory=list)
    carried: list[dict[str, Any]] = field(default_factory=list)
    became: str | None = None  # "unreachable" | "error" | "unchecked" when the host newly is so


def annotate(report: Mapping[str, Any], history: History) -> dict[str, Any]:
    """A copy of `report` with first_seen/last_seen/new on every finding and `changes`."""
    out = copy.deepcopy(dict(report))
    previous = history.previous_run()
    baselines = history.baselines() if previous else {}
    seen = out["run"]["started"]
    deltas = {}
    for host in out["hosts"]:
        baseline = baselines.get(host["name"])
        _stamp(host["findings"], baseline, seen, has_history=previous is not None)
        _count_runs(host, baseline, history)
        deltas[host["name"]] = host_delta(host["status"], host["findings"], baseline)
    out["changes"] = _changes(previous.id if previous else None, deltas)
    return out


def diff_runs(a: RunState, b: RunState) -> dict[str, Any]:
    """`driftcheck diff A B`: the changes from run A to run B, shaped like report["changes"]."""
    deltas = {
        name: host_delta(state.status, _observed(state), a.hosts.get(name))
        for name, state in sorted(b.hosts.items())
    }
    changes = _changes(a.id, deltas)
    changes["run"] = b.id
    return changes


def host_delta(
    status: str, findings: Iterable[Mapping[str, Any]], baseline: HostState | None
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


def summary_line(changes: Mapping[str, Any]) -> str:
    """What the text summary leads with, e.g. "3 new findings on 2 hosts, 1 resolved"."""
    if changes.get("previous_run") is None:
        return "first recorded run"
    new = [f for f in changes["new"] if not f.get("waived")]
    line = (
        f"{_n(len(new), 'new finding')} on {_n(len({f['host'] for f in new}), 'host')}, "
        f"{len(changes['resolved'])} resolved"
    )
    for status in UNAUDITED:
        hosts = changes.get(f"newly_{status}") or []
        if hosts:
            line += f", {_n(len(hosts), 'host')} newly {status} ({', '.join(hosts)})"
    if changes.get("carried"):
        line += f", {_n(len(changes['carried']), 'finding')} not re-checked"
    return line


def _stamp(
    findings: list[dict[str, Any]], baseline: HostState | None, seen: str, *, has_history: bool
) -> None:
    before = baseline.findings if baseline else {}
    for finding in findings:
        old = before.get(finding_key(finding))
        finding["first_seen"] = old["first_seen"] if old else seen
        finding["last_seen"] = seen
        finding["new"] = has_history and old is None


def _count_runs(host: dict[str, Any], baseline: HostState | None, history: History) -> None:
    """`runs`: how many audited runs each finding has been there, this one included."""
    before = baseline.findings if baseline else {}
    for finding in host["findings"]:
        old = before.get(finding_key(finding))
        if old is None:
            finding["runs"] = 1
        elif old.get("runs") is not None:
            finding["runs"] = int(old["runs"]) + 1
        else:  # recorded before the count was: estimated once, then carried
            finding["runs"] = history.runs_since(host["name"], old["first_seen"]) + 1


def _changes(previous: str | None, deltas: Mapping[str, HostDelta]) -> dict[str, Any]:
    def collect(attribute: str) -> list[dict[str, Any]]:
        return [{"host": name, **f} for name, d in deltas.items() for f in getattr(d, attribute)]

    changes: dict[str, Any] = {
        "previous_run": previous,
        "new": collect("new") if previous else [],
        "resolved": collect("resolved"),
        "carried": collect("carried"),
        **{f"newly_{s}": [n for n, d in deltas.items() if d.became == s] for s in UNAUDITED},
    }
    changes["line"] = summary_line(changes)
    return changes


def _observed(state: HostState) -> list[Mapping[str, Any]]:
    return [f for f in state.findings.values() if not f.get("carried")]


def _public(finding: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in finding.items() if k not in _INTERNAL}


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
