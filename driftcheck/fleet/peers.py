"""`scan --peers`: each audited host against the other audited hosts of its peer group.

The peer group: by default the host's most specific inventory group (the deepest; ties go by
Ansible's group order) with at least MIN_PEERS audited hosts; `all` and `ungrouped` count only
when nothing else qualifies. `--peer-group NAME` (repeatable) names the groups to use instead.
A host with no such group is compared with nothing, and its PeerNote says so.

Hosts that were not audited (unreachable, error) and hosts without peer data (`peers: false`)
do not vote. What a host's declared state names is checked against the declaration only.
Inventory names that reach one machine (`same_machines`) vote once, and their PeerNotes name
each other. Majority, and the items a group has none for (its splits): see majority.py.

A host's peer findings count toward its findings limit with its declared ones, and a group's
splits have a limit of their own (driftcheck.limits): past either, one record says how many.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import islice

from driftcheck.compare import limited, too_many_findings
from driftcheck.fleet.majority import Difference, Split, Tally, differences, splits, tally
from driftcheck.fleet.values import ABSENT, SHOWN_AS, PeerValues, item, peer_values, split_item
from driftcheck.limits import MAX_FINDINGS, MAX_PEER_SPLITS, MAX_SAME_AS
from driftcheck.model import DeclaredState, Finding, Host, HostResult, PeerNote
from driftcheck.model.document import PeerSplit
from driftcheck.model.vocab import Category, Kind, Status, audited_status

__all__ = ["PeerValues", "apply_peers", "compare_peers", "peer_values", "with_peers"]

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


@dataclass(frozen=True)
class PeerOutcome:
    """Every result, with its peer findings, and the groups' splits (by group, then item)."""

    results: list[HostResult]
    splits: list[PeerSplit]


def apply_peers(
    audits: Sequence[PeerInput],
    depths: Mapping[str, int],
    named: Sequence[str] = (),
) -> list[HostResult]:
    """Every result, with peer findings and a PeerNote where peer values were collected."""
    return compare_peers(audits, depths, named).results


def compare_peers(
    audits: Sequence[PeerInput],
    depths: Mapping[str, int],
    named: Sequence[str] = (),
) -> PeerOutcome:
    voters = {
        a.result.host.name: (a.result.host, a.values)
        for a in audits
        if a.values is not None and a.result.status in _VOTING
    }
    same = same_machines([(n, endpoint(h), v.machine) for n, (h, v) in voters.items()])
    members = _members(voters.values(), same)
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
            names = same.get(name, ())
            # listed up to a bound: 5,000 names of one machine must not list 5,000 x 4,999
            others = tuple(islice((n for n in names if n != name), MAX_SAME_AS))
            more = max(len(names) - 1 - len(others), 0)
            result = _compared(
                audit.result, voters[name][1], tally_, _alone(named), same_as=others, more=more
            )
            results.append(result)
        else:
            results.append(_not_compared(audit))
    found = [s for group in sorted(tallies) for s in group_splits(tallies[group], members[group])]
    return PeerOutcome(results, found)


def group_splits(group: Tally, members: Sequence[PeerValues]) -> list[PeerSplit]:
    """The group's splits, or past MAX_PEER_SPLITS one record that says how many: like a
    host's findings, never a partial list. Those past the limit are only counted."""
    found = splits(group, members)
    kept = list(islice(found, MAX_PEER_SPLITS + 1))
    if len(kept) <= MAX_PEER_SPLITS:
        return [split_entry(group.group, split) for split in kept]
    count = len(kept) + sum(1 for _ in found)
    why = f"more than {MAX_PEER_SPLITS:,} items with no majority ({count:,}); none kept"
    hosts = tuple(sorted(member.host for member in members))
    cut = Split(item(Category.COLLECTOR, "peer splits"), ((f"{why} (README: Limits)", hosts),))
    return [split_entry(group.group, cut)]


def endpoint(host: Host) -> str:
    """Where an SSH host is reached as the inventory says it (address and port), or "" for
    other connections (a container's name or `local` says nothing about the machine)."""
    if host.connection not in ("ssh", "paramiko", "smart"):
        return ""
    port = host.vars.get("ansible_port", host.vars.get("ansible_ssh_port"))
    return f"{host.address}:{port if port is not None else 22}"


def same_machines(hosts: Sequence[tuple[str, str, str]]) -> dict[str, tuple[str, ...]]:
    """(name, endpoint, machine) in inventory order -> for each name of a machine reached under
    several names, all its names in that order (the first one votes). Two names are one
    machine when they share an endpoint or a machine key (values.machine_key); "" is unknown."""
    order = {name: i for i, (name, _, _) in enumerate(hosts)}
    parent = {name: name for name in order}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    first: dict[str, str] = {}
    for name, reached, machine in hosts:
        keys = [f"endpoint {reached}"] if reached else []
        keys += [f"machine {machine}"] if machine else []
        for key in keys:
            one, other = root(name), root(first.setdefault(key, name))
            parent[max(one, other, key=order.__getitem__)] = min(one, other, key=order.__getitem__)
    classes: dict[str, list[str]] = {}
    for name in order:
        classes.setdefault(root(name), []).append(name)
    # one tuple per machine, every name pointing at it: 5,000 names of one machine are 5,000
    # references, not 5,000 copies of 5,000 names
    found: dict[str, tuple[str, ...]] = {}
    for names in classes.values():
        if len(names) > 1:
            found.update(dict.fromkeys(names, tuple(names)))
    return found


def _members(
    voters: Iterable[tuple[Host, PeerValues]], same: Mapping[str, tuple[str, ...]]
) -> dict[str, list[PeerValues]]:
    """Each group's voting values: a machine reached under several names votes once, as the
    first of its names in the group."""
    members: dict[str, list[PeerValues]] = {}
    seen: set[tuple[str, str]] = set()
    for host, values in voters:
        machine = same.get(host.name, (host.name,))[0]
        for group in (*host.groups, "all"):
            if (group, machine) not in seen:
                seen.add((group, machine))
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
    result: HostResult,
    values: PeerValues,
    group: Tally | None,
    alone: str,
    *,
    same_as: tuple[str, ...] = (),
    more: int = 0,
) -> HostResult:
    if group is None:
        return replace(result, peers=PeerNote(None, 0, alone, same_as, more))
    voters = max(group.voters.values(), default=0)
    note = PeerNote(group.group, voters, same_as=same_as, same_as_more=more)
    unknown = {SHOWN_AS.get(c, c): why for c, why in sorted(values.failed.items(), reverse=True)}
    found = [_unknown(category, why) for category, why in sorted(unknown.items())]
    # The host's findings and its peers' count toward one limit; past it they are only counted.
    room = max(MAX_FINDINGS - len(result.findings) - len(found), 0)
    differing = differences(values, group)
    found += [peer_finding(d, group.group) for d in islice(differing, room + 1)]
    if len(result.findings) + len(found) > MAX_FINDINGS:
        return _limited(result, len(found) + sum(1 for _ in differing), note)
    findings = tuple(sorted((*result.findings, *found)))
    status, error = audited_status(bool(findings)), None
    if unknown:
        status, error = Status.ERROR, f"{len(values.failed)} peer comparison(s) could not be made"
    return replace(result, findings=findings, status=status, error=error, peers=note)


def _limited(result: HostResult, peer: int, note: PeerNote) -> HostResult:
    """Past the findings limit with its peers' findings: as the scan leaves a host past a
    limit, `error` with one finding that says how many there were."""
    why = too_many_findings(len(result.findings) + peer, f", {peer:,} of them against its peers")
    return replace(limited(result, why), peers=note)


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
        SHOWN_AS.get(category, category),
        item,
        _kind(category, difference),
        expected,
        difference.actual,
        detail=f"differs from the majority of its peer group {group}",
    )


def _kind(category: str, difference: Difference) -> str:
    """A config tree's entry is extra, missing or differs; other items are `peer`."""
    if category not in SHOWN_AS:
        return Kind.PEER
    if difference.majority.value == ABSENT:
        return Kind.EXTRA
    return Kind.MISSING if difference.actual == ABSENT else Kind.DIFFERS


def split_entry(group: str, split: Split) -> PeerSplit:
    category, item = split_item(split.item)
    return {
        "group": group,
        "category": SHOWN_AS.get(category, category),
        "item": item,
        "values": [{"value": value, "hosts": list(hosts)} for value, hosts in split.values],
    }


def _unknown(category: str, why: str) -> Finding:
    return Finding(
        "host",
        SHOWN_AS.get(category, category),
        "*",
        Kind.UNKNOWN,
        "as its peers",
        detail=f"not compared with peers: {why}",
    )
