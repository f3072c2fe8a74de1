"""What every format shows of the peer stage beyond its findings: the strongest evidence first,
the splits (a group with no majority for an item), and the names of one machine.

A peer finding's support is in its `expected`, as the peer stage writes it: `1.3.0 (7 of 8 in
web)`. Its strength is the lower bound of the Wilson score interval (95 %) of that share: 499 of
500 outranks 2 of 3, and 400 of 500 outranks 7 of 8 (a larger group is surer of its norm). The
JSON keeps its own deterministic order; the text and HTML reports rank when they render.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from driftcheck.model.document import FindingEntry, HostEntry, PeerSplit, Report
from driftcheck.model.vocab import Kind

_SUPPORT = re.compile(r"\((\d+) of (\d+) in [^()]*\)\Z")
_Z = 1.96
_BY_PEERS = "differs from the majority of its peer group"  # fleet.peers.peer_finding's detail


def support(finding: FindingEntry) -> tuple[int, int] | None:
    """(hosts holding the majority's value, hosts voting) of a peer finding (kind `peer`, or a
    config tree entry's extra, missing, differs found by peers), else None."""
    by_peers = finding["kind"] == Kind.PEER or (finding["detail"] or "").startswith(_BY_PEERS)
    if not by_peers or not finding["expected"]:
        return None
    match = _SUPPORT.search(finding["expected"])
    if match is None:
        return None
    held, voters = int(match[1]), int(match[2])
    return (held, voters) if 0 < held <= voters else None


def strength(held: int, voters: int) -> float:
    """The Wilson score interval's lower bound of held/voters."""
    share = held / voters
    z2 = _Z * _Z
    centre = share + z2 / (2 * voters)
    margin = _Z * math.sqrt(share * (1 - share) / voters + z2 / (4 * voters * voters))
    return (centre - margin) / (1 + z2 / voters)


def strongest_first(findings: Sequence[FindingEntry]) -> list[FindingEntry]:
    """The findings with the peer findings after the others (a declaration is the surest
    evidence), the strongest majority first; otherwise in their own order (a stable sort)."""

    def key(finding: FindingEntry) -> tuple[int, float, int]:
        held = support(finding)
        if held is None:
            return (0, 0.0, 0)
        return (1, -strength(*held), -held[1])

    return sorted(findings, key=key)


def peer_splits(report: Report) -> list[PeerSplit]:
    return list(report.get("peer_splits") or [])


def split_text(split: PeerSplit) -> str:
    """`1.0 on web01, web02; 2.0 on old01, web03` (most hosts first)."""
    return "; ".join(f"{v['value']} on {', '.join(v['hosts'])}" for v in split["values"])


def same_machines(hosts: Iterable[HostEntry]) -> list[list[str]]:
    """The names that reached one machine, each machine once with all its names, in report
    order. A host's `same_as` lists only the first MAX_SAME_AS of the others, but the machine's
    first name is among them (or is the host): joined, the lists make one machine, not one
    group per MAX_SAME_AS + 1 names."""
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent.setdefault(name, name) != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    listed = [
        (h["name"], note["same_as"])
        for h in hosts
        if (note := h.get("peers")) and note.get("same_as")
    ]
    parent.update((name, name) for name, _ in listed)  # report order first
    for name, others in listed:
        for other in others:
            one, two = root(name), root(other)
            if one != two:
                parent[two] = one
    machines: dict[str, list[str]] = {}
    for name in parent:  # report order, then names only listed (another shard's)
        machines.setdefault(root(name), []).append(name)
    return list(machines.values())
