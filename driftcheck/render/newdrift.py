"""New drift clusters: hosts that became snowflakes in this run with the same drift, so that a
rollout that went wrong last night reads "new since the last run: 3 hosts, acme-agent 1.2.0".

A host became a snowflake this run when it is one now and every finding it has is new: any
finding it already had (observed, or carried while it was unreachable) is in its baseline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from driftcheck.model.document import HostEntry
from driftcheck.model.vocab import SIGNATURE_FIELDS

# A drift item: a finding's SIGNATURE_FIELDS values, read by name from the vocabulary (hence
# `object`); the HTML report's drift rows are built the same way.
DriftRow = Sequence[object]


def became_snowflake(host: HostEntry) -> bool:
    findings = [f for f in host["findings"] if not f.get("waived")]
    return host["status"] == "snowflake" and bool(findings) and all(f.get("new") for f in findings)


def drift_label(drift: Sequence[DriftRow]) -> str:
    """ "acme-agent 1.2.0" for one drift item (its actual value, else its kind), else "4 drift
    items"."""
    if len(drift) != 1:
        return f"{len(drift)} drift items"
    item, kind, actual = drift[0][2], drift[0][3], drift[0][5]
    return f"{item} {actual if actual is not None else kind}"


def callout(clusters: Iterable[tuple[Sequence[str], Sequence[DriftRow]]]) -> str:
    """ "new since the last run: 3 hosts, acme-agent 1.2.0; 2 hosts, 4 drift items"."""
    parts = [f"{len(hosts)} hosts, {drift_label(drift)}" for hosts, drift in clusters]
    return "new since the last run: " + "; ".join(parts) if parts else ""


def fresh_groups(hosts: Iterable[HostEntry]) -> list[tuple[list[str], list[list[object]]]]:
    """Hosts that became snowflakes with identical drift, 2 or more, largest first: for the
    text report (the HTML report groups them with its own drift clusters)."""
    groups: dict[str, tuple[list[str], list[list[object]]]] = {}
    for host in hosts:
        if became_snowflake(host):
            rows = sorted(
                (
                    [f.get(k) for k in SIGNATURE_FIELDS]
                    for f in host["findings"]
                    if not f.get("waived")
                ),
                key=repr,
            )
            groups.setdefault(repr(rows), ([], rows))[0].append(host["name"])
    shared = [pair for pair in groups.values() if len(pair[0]) > 1]
    return sorted(shared, key=lambda pair: (-len(pair[0]), pair[0][0]))
