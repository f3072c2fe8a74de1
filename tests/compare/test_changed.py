"""Running containers changed since they started, table-style: declared containers, peers and
unexpected_containers + each engine's diff -> exactly these `changed` (or `unknown`) findings."""

from __future__ import annotations

from typing import Any

import pytest

from driftcheck.compare import compare
from driftcheck.limits import CHANGED_SHOWN
from driftcheck.model import (
    ContainerChanges,
    ContainerSpec,
    ContainerState,
    DeclaredState,
    Observed,
    Outcome,
    Section,
    uncollected,
)


def ctr(name: str, state: str = "running") -> ContainerState:
    return ContainerState(name, "podman", "localhost/app:1", "sha256:1", state)


def diff(name: str, *paths: str, error: str = "") -> ContainerChanges:
    entries = tuple((p[0], p[2:]) for p in paths)
    counts = {k: sum(1 for kind, _ in entries if kind == k) for k in "ACD"}
    return ContainerChanges(
        name, "podman", entries, counts["A"], counts["C"], counts["D"], error=error
    )


def seen(*containers: ContainerState, changes: Any = None) -> Observed:
    found = Section(Outcome.COLLECTED, {c.name: c for c in containers})
    if changes is None:
        changes = Section(Outcome.COLLECTED, {})
    elif not isinstance(changes, Section):
        changes = Section(Outcome.COLLECTED, {c.name: c for c in changes})
    return Observed(containers=found, changed=changes)


def want(*specs: ContainerSpec, **top: Any) -> DeclaredState:
    return DeclaredState(containers={s.name: s for s in specs}, **top)


WEB = ContainerSpec("web", image="localhost/app:1")
EDITED = diff("web", "A /etc/x.conf", "D /etc/y.conf")
EXPECTED = "no changes since it started"
CASES: dict[str, tuple[DeclaredState, Observed, list[tuple[str, str | None]]]] = {
    "declared, unchanged: nothing": (want(WEB), seen(ctr("web"), changes=[diff("web")]), []),
    "declared, a file added and one deleted: changed, both listed": (
        want(WEB),
        seen(ctr("web"), changes=[EDITED]),
        [("changed", "1 added, 1 deleted: A /etc/x.conf, D /etc/y.conf")],
    ),
    "declared with changed: ignore: nothing": (
        want(ContainerSpec("web", changed="ignore")),
        seen(ctr("web"), changes=[EDITED]),
        [],
    ),
    "declared, stopped: not looked at": (
        want(WEB),
        seen(ctr("web", "exited"), changes=[EDITED]),
        [],
    ),
    "undeclared, no peers, unexpected ignored: not looked at": (
        want(),
        seen(ctr("web"), changes=[EDITED]),
        [],
    ),
    "undeclared with peers: changed": (
        want(peers=True),
        seen(ctr("web"), changes=[EDITED]),
        [("changed", "1 added, 1 deleted: A /etc/x.conf, D /etc/y.conf")],
    ),
    "undeclared with peers: false: not looked at": (
        want(peers=False),
        seen(ctr("web"), changes=[EDITED]),
        [],
    ),
    "undeclared with unexpected_containers: report: changed (and unexpected)": (
        want(unexpected_containers="report"),
        seen(ctr("web"), changes=[EDITED]),
        [
            ("unexpected", "running (localhost/app:1)"),  # target container:web sorts first
            ("changed", "1 added, 1 deleted: A /etc/x.conf, D /etc/y.conf"),
        ],
    ),
    "declared absent but running, with peers: unexpected only, its changes not looked at": (
        want(ContainerSpec("web", absent=True), peers=True),
        seen(ctr("web"), changes=[EDITED]),
        [("unexpected", "running (localhost/app:1)")],
    ),
    "the engine's diff failed: unknown, never a pass": (
        want(WEB),
        seen(ctr("web"), changes=[diff("web", error="podman diff exited 125: no such")]),
        [("unknown", None)],
    ),
    "no diff for a running container: unknown": (
        want(WEB),
        seen(ctr("web"), changes=[]),
        [("unknown", None)],
    ),
    "the changed sections were not collected: unknown": (
        want(WEB),
        seen(ctr("web"), changes=uncollected(Outcome.FAILED, "section missing")),
        [("unknown", None)],
    ),
    "more paths than shown: the count says how many": (
        want(WEB),
        seen(ctr("web"), changes=[diff("web", *(f"A /etc/f{i:02}" for i in range(25)))]),
        [
            (
                "changed",
                "25 added: "
                + ", ".join(f"A /etc/f{i:02}" for i in range(CHANGED_SHOWN))
                + f" (and {25 - CHANGED_SHOWN} more)",
            )
        ],
    ),
    "a name with a line break is one line": (
        want(WEB),
        seen(ctr("web"), changes=[diff("web", "A /etc/nl\nA x")]),
        [("changed", "1 added: A /etc/nl\\x0aA x")],
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_table(case: str) -> None:
    declared, observed, expected = CASES[case]
    found = [
        (f.kind, f.actual)
        for f in compare(declared, observed, now=0)
        if f.category == "container" and f.kind != "image"
    ]
    assert found == expected
    for f in compare(declared, observed, now=0):
        if f.kind in ("changed", "unknown"):
            assert (f.target, f.item, f.expected) == ("host", "web", EXPECTED)


def test_detail_lists_every_path_and_what_is_not_counted() -> None:
    declared = want(
        ContainerSpec("web", writable=("/srv/data",)), container_writable=("/var/lib/app",)
    )
    many = diff("web", *(f"A /etc/f{i:02}" for i in range(25)))
    many = ContainerChanges("web", "podman", many.paths, added=1_200)
    (finding,) = compare(declared, seen(ctr("web"), changes=[many]), now=0)
    assert finding.detail is not None
    head, *listed = finding.detail.split("\n")
    assert "/tmp, /run, /var/tmp, /var/log, /var/cache, /var/lib/app, /srv/data" in head
    assert listed[:25] == [f"A /etc/f{i:02}" for i in range(25)]
    assert listed[25] == "... 1,175 more not listed (the host sends at most 1,000)"
    assert finding.actual is not None
    assert finding.actual.endswith("(and 1,190 more)")


def test_discovery_failed_with_peers_alone_is_no_finding() -> None:
    """An engine installed but never set up (podman without usable storage) cannot list its
    containers: with peers alone that is no error; declared containers still say unknown."""
    failed = Observed(containers=uncollected(Outcome.FAILED, "podman exited 125"))
    assert compare(want(peers=True), failed, now=0) == []
    found = compare(want(WEB, peers=True), failed, now=0)
    assert [(f.target, f.item, f.kind) for f in found] == [("container:web", "web", "unknown")]
