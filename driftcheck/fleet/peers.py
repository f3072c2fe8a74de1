"""`scan --peers`: each audited host against the other audited hosts of its peer group.

The peer group: by default the host's most specific inventory group (the deepest; ties go by
Ansible's group order) with at least MIN_PEERS audited hosts; `all` and `ungrouped` count only
when nothing else qualifies. `--peer-group NAME` (repeatable) names the groups to use instead.
A host with no such group is compared with nothing, and its PeerNote says so.

Hosts that were not audited (unreachable, error) and hosts without peer data (`peers: false`)
do not vote. What a host's declared state names is checked against the declaration only.
Majority: see majority.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from driftcheck.fleet.majority import Difference, Tally, differences, tally
from driftcheck.fleet.values import PeerValues, peer_values, split_item
from driftcheck.model import DeclaredState, Finding, Host, HostResult, PeerNote
from driftcheck.model.vocab import Kind, Status, audited_status

__all__ = ["PeerValues", "apply_peers", "peer_values", "with_peers"]

MIN_PEERS = 3
FALLBACK = ("ungrouped", "all")
_VOTING = (Status.COMPLIANT, Status.SNOWFLAKE, Status.UNCHECKED)


def with_peers(state: DeclaredState, asked: bool) -> DeclaredState:
    """The state as `scan --peers` (asked) runs it: peers on unless the state says
    `peers: false`; modified_config on with peers unless the state says `ignore`."""
    peers = state.peers if state.peers is not None else asked
    modified = state.modified_config or ("report" if peers else None)
    return replace(state, peers=peers, modified_config=modified)


@dataclass(frozen=True)
class PeerInput:
    """One audit as the fleet stage needs it: the result and, if collected, its peer values."""

    result: HostResult
    values: PeerValues | None


def apply_peers(
    audits: Sequence[PeerInput],
    depths: Mapping[str, int],
    named: Sequence[str] = (),
) -> list[HostResult]:
    """Every result, with peer findings and a PeerNote where peer values were collected."""
    voters = {
        a.result.host.name: (a.result.host, a.values)
        for a in audits
        if a.values is not None and a.result.status in _VOTING
    }
    members = _members(voters.values())
    chosen = {
        name: choose_group(host, members, depths, named) for name, (host, _) in voters.items()
    }
    tallies = {g: tally(g, members[g]) for g in set(chosen.values()) if g is not None}
    results = []
    for audit in audits:
        name = audit.result.host.name
        if name in voters:
            group = chosen[name]
            tally_ = tallies.get(group or "")
            results.append(_compared(audit.result, voters[name][1], tally_, _alone(named)))
        else:
            results.append(_not_compared(audit))
    return results


def _members(voters: Iterable[tuple[Host, PeerValues]]) -> dict[str, list[PeerValues]]:
    members: dict[str, list[PeerValues]] = {}
    for host, values in voters:
        for group in (*host.groups, "all"):
            members.setdefault(group, []).append(values)
    return members


def choose_group(
    host: Host,
    members: Mapping[str, Sequence[PeerValues]],
    depths: Mapping[str, int],
    named: Sequence[str] = (),
) -> str | None:
    """The host's peer group, or None. `host.groups` is in Ansible's order (depth, priority,
    name), so the first of the deepest qualifying groups wins a tie."""
    groups = [g for g in (*host.groups, "all") if not named or g in named]
    if not named:
        groups = [g for g in groups if len(members.get(g, ())) >= MIN_PEERS]
    specific = [g for g in groups if g not in FALLBACK]
    if specific:
        deepest = max(depths.get(g, 0) for g in specific)
        return next(g for g in specific if depths.get(g, 0) == deepest)
    return next((g for g in FALLBACK if g in groups), None)


def _alone(named: Sequence[str]) -> str:
    if named:
        return f"in none of the --peer-group groups ({', '.join(named)}): compared with nothing"
    return f"no inventory group with at least {MIN_PEERS} audited hosts: compared with nothing"


def _compared(
    result: HostResult, values: PeerValues, group: Tally | None, alone: str
) -> HostResult:
    if group is None:
        return replace(result, peers=PeerNote(None, 0, alone))
    found = [peer_finding(d, group.group) for d in differences(values, group)]
    found += [_unknown(category, why) for category, why in sorted(values.failed.items())]
    findings = tuple(sorted((*result.findings, *found)))
    status, error = audited_status(bool(findings)), None
    if any(f.kind == Kind.UNKNOWN for f in found):
        status, error = Status.ERROR, f"{len(values.failed)} peer comparison(s) could not be made"
    voters = max(group.voters.values(), default=0)
    note = PeerNote(group.group, voters)
    return replace(result, findings=findings, status=status, error=error, peers=note)


def _not_compared(audit: PeerInput) -> HostResult:
    if audit.values is None:
        return audit.result
    why = f"not compared with peers: the host is {audit.result.status.value}"
    return replace(audit.result, peers=PeerNote(None, 0, why))


def peer_finding(difference: Difference, group: str) -> Finding:
    category, item = split_item(difference.item)
    majority = difference.majority
    expected = f"{majority.value} ({majority.count} of {majority.voters} in {group})"
    return Finding(
        "host",
        category,
        item,
        Kind.PEER,
        expected,
        difference.actual,
        detail=f"differs from the majority of its peer group {group}",
    )


def _unknown(category: str, why: str) -> Finding:
    return Finding(
        "host",
        category,
        "*",
        Kind.UNKNOWN,
        "as its peers",
        detail=f"not compared with peers: {why}",
    )
