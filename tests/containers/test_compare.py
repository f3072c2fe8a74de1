"""compare() for containers, table-style: declared + observed -> exactly these findings."""

from __future__ import annotations

from typing import Any

import pytest

from driftcheck.compare import compare
from driftcheck.compare.containers import same_reference
from driftcheck.model import (
    ContainerChanges,
    ContainerSpec,
    ContainerState,
    DeclaredState,
    HostFacts,
    Observed,
    Outcome,
    Package,
    PackageSpec,
    Section,
)

DIGEST = "sha256:" + "d" * 64


def ctr(name: str, image: str = "app:1", state: str = "running", **kw: Any) -> ContainerState:
    return ContainerState(name, "podman", image, "i" * 64, state, **kw)


def seen(*containers: ContainerState, **inner: Observed) -> Observed:
    """Containers as discovery saw them, each unchanged since it started (compare/changed)."""
    found: Section[Any] = Section(Outcome.COLLECTED, {c.name: c for c in containers})
    unchanged = {c.name: ContainerChanges(c.name, c.engine) for c in containers}
    return Observed(containers=found, changed=Section(Outcome.COLLECTED, unchanged), inner=inner)


def want(unexpected: str = "ignore", **specs: Any) -> DeclaredState:
    built = {
        n: ContainerSpec(n, absent=True) if s == "absent" else ContainerSpec(n, **s)
        for n, s in specs.items()
    }
    return DeclaredState(containers=built, unexpected_containers=unexpected)


INNER = DeclaredState(packages={"curl": PackageSpec("curl", "absent")})
FAILED: Section[Any] = Section(Outcome.FAILED, None, "podman exited 125")
LEAK: dict[str, Any] = {"zombies": 2, "pid1_now": "sleep"}

CASES = {
    "compliant": (want(a={"image": "app:1", "running": True}), seen(ctr("a")), []),
    "missing": (want(a={"image": "app:1"}), seen(), [("a", "missing")]),
    "absent and absent": (want(a="absent"), seen(), []),
    "absent but there": (want(a="absent"), seen(ctr("a")), [("a", "unexpected")]),
    "wrong tag": (want(a={"image": "app:2"}), seen(ctr("a")), [("a", "image")]),
    "digest matches": (want(a={"image": f"app@{DIGEST}"}), seen(ctr("a", digests=(DIGEST,))), []),
    "digest differs": (
        want(a={"image": f"app@{DIGEST}"}),
        seen(ctr("a", digests=("sha256:" + "e" * 64,))),
        [("a", "image")],
    ),
    "no digest reported: unknown": (
        want(a={"image": f"app@{DIGEST}"}),
        seen(ctr("a")),
        [("a", "unknown")],
    ),
    "stopped": (want(a={"running": True}), seen(ctr("a", state="exited")), [("a", "stopped")]),
    "running but declared stopped": (
        want(a={"running": False}),
        seen(ctr("a")),
        [("a", "running")],
    ),
    "a declared state implies running": (
        want(a={"state": INNER}),
        seen(ctr("a", state="exited")),
        [("a", "stopped")],
    ),
    "undeclared, ignored": (want(), seen(ctr("dbg")), []),
    "undeclared, reported": (want("report"), seen(ctr("dbg")), [("dbg", "unexpected")]),
    "zombies under sleep": (want(a={}), seen(ctr("a", **LEAK)), [("a", "zombies")]),
    "zombies under tini": (
        want(a={}),
        seen(ctr("a", zombies=2, pid1_now="tini")),
        [],
    ),
    "zombies with --init": (want(a={}), seen(ctr("a", init=True, **LEAK)), []),
    "zombies in a stopped container do not count": (
        want(a={}),
        seen(ctr("a", state="exited", **LEAK)),
        [],
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_table(case: str) -> None:
    declared, observed, expected = CASES[case]
    got = [(f.item, f.kind) for f in compare(declared, observed, now=0.0)]
    assert got == expected
    assert all(f.target == f"container:{f.item}" for f in compare(declared, observed, now=0.0))


def test_inner_findings_carry_the_container_target() -> None:
    installed: Section[Any] = Section(
        Outcome.COLLECTED, {"curl": (Package("curl", "8.0", "amd64", "dpkg"),)}
    )
    inner = Observed(packages=installed, facts=Section(Outcome.COLLECTED, HostFacts()))
    findings = compare(want(a={"state": INNER}), seen(ctr("a"), a=inner), now=0.0)
    assert [f.key() for f in findings] == [("container:a", "package", "curl", "unexpected")]


def test_inner_not_collected_is_unknown_never_passing() -> None:
    inner = Observed(packages=FAILED, files=FAILED, services=FAILED, facts=FAILED)
    findings = compare(want(a={"state": INNER}), seen(ctr("a"), a=inner), now=0.0)
    assert [f.key() for f in findings] == [("container:a", "package", "curl", "unknown")]


def test_discovery_failed_every_declared_container_unknown() -> None:
    observed = Observed(containers=FAILED)
    findings = compare(want("report", a={"image": "x"}, b="absent"), observed, now=0.0)
    assert [(f.target, f.item, f.kind) for f in findings] == [
        ("container:a", "a", "unknown"),
        ("container:b", "b", "unknown"),
        ("host", "*", "unknown"),
    ]


@pytest.mark.parametrize(
    ("wanted", "actual", "same"),
    [
        ("nginx", "docker.io/library/nginx:latest", True),
        ("nginx:1.25", "docker.io/library/nginx:1.25", True),
        ("library/nginx", "nginx:latest", True),
        ("registry.example/app:1.4", "registry.example/app:1.4", True),
        ("registry.example:5000/app", "registry.example:5000/app:latest", True),
        ("localhost/bb:1", "localhost/bb:2", False),
        ("app:1.4", "registry.example/app:1.4", False),
    ],
)
def test_references(wanted: str, actual: str, same: bool) -> None:
    assert same_reference(wanted, actual) is same
