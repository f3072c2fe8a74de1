"""The fleet stage cannot be flooded: a host's peer findings count toward its findings limit,
a group's splits and its package spread are bounded, and what a host keeps until the fleet
stage is bounded too. Past each, one record that says how many, never a partial list.

Pure functions over hand-built values; tests/test_hostile_hosts.py floods real hosts.
"""

from __future__ import annotations

import pytest

from driftcheck.compare import limit_finding
from driftcheck.errors import LimitError
from driftcheck.fleet.peers import PeerInput, compare_peers
from driftcheck.fleet.spread import package_spread
from driftcheck.fleet.values import PeerValues, item, text_size
from driftcheck.limits import MAX_FINDINGS, MAX_FLEET_TEXT, MAX_PEER_SPLITS, MAX_SPREAD_PACKAGES
from driftcheck.model import Finding, Host, HostResult
from driftcheck.model.document import RunInfo, build_report, exit_status
from driftcheck.model.vocab import Status
from driftcheck.render.formats import FORMATS, render
from driftcheck.scan import Audit, within_fleet_limit

DEPTHS = {"web": 1, "all": 0}
DECLARED = Finding("host", "package", "nginx", "missing", "present", "absent")


def values(name: str, packages: range | list[str] = ()) -> PeerValues:
    found = {item("package", f"{name}-{p}" if isinstance(p, int) else p): "1.0" for p in packages}
    return PeerValues(name, {item("host", "os"): "Debian 12", **found})


def compare(
    members: list[PeerValues], findings: dict[str, tuple[Finding, ...]]
) -> dict[str, HostResult]:
    audits = [
        PeerInput(
            HostResult(
                Host(v.host, ("web",)),
                Status.SNOWFLAKE if findings.get(v.host) else Status.UNCHECKED,
                findings.get(v.host, ()),
            ),
            v,
        )
        for v in members
    ]
    outcome = compare_peers(audits, DEPTHS)
    return {r.host.name: r for r in outcome.results}


@pytest.mark.parametrize("unique", [MAX_FINDINGS - 1, MAX_FINDINGS])
def test_declared_and_peer_findings_count_toward_one_findings_limit(unique: int) -> None:
    """A host with one declared finding and `unique` packages its 3 peers lack: at the limit
    every finding is kept; one past it, the host is `error` with one finding."""
    members = [values("flood", range(unique)), values("a"), values("b"), values("c")]
    result = compare(members, {"flood": (DECLARED,)})["flood"]
    if unique + 1 <= MAX_FINDINGS:
        assert (result.status, len(result.findings)) == (Status.SNOWFLAKE, MAX_FINDINGS)
        return
    why = "more than 10,000 findings (10,001, 10,000 of them against its peers); none kept"
    assert result.status is Status.ERROR
    assert result.findings == (limit_finding(why),)
    assert result.error == f"a per-host limit was passed: {why}"
    assert result.cause == "other"  # as the scan's own limits
    assert result.peers is not None
    assert result.peers.group == "web"


def test_a_host_past_the_limit_leaves_its_peers_compared() -> None:
    members = [values("flood", range(MAX_FINDINGS + 1)), values("a"), values("b"), values("c")]
    results = compare(members, {})
    assert results["flood"].status is Status.ERROR
    assert {results[n].status for n in "abc"} == {Status.COMPLIANT}


@pytest.mark.parametrize("shared", [MAX_PEER_SPLITS, MAX_PEER_SPLITS + 1])
def test_a_groups_splits_past_the_limit_are_one_record(shared: int) -> None:
    """Two hosts of four share `shared` packages the other two lack: each is a split."""
    names = [f"p{n}" for n in range(shared)]
    members = [values("a", names), values("b", names), values("c"), values("d")]
    audits = [PeerInput(HostResult(Host(v.host, ("web",)), Status.UNCHECKED), v) for v in members]
    splits = compare_peers(audits, DEPTHS).splits
    if shared <= MAX_PEER_SPLITS:
        assert len(splits) == shared
        return
    assert splits == [
        {
            "group": "web",
            "category": "collector",
            "item": "peer splits",
            "values": [
                {
                    "value": "more than 10,000 items with no majority (10,001); none kept "
                    "(README: Limits)",
                    "hosts": ["a", "b", "c", "d"],
                }
            ],
        }
    ]


@pytest.mark.parametrize("unique", [MAX_SPREAD_PACKAGES, MAX_SPREAD_PACKAGES + 1])
def test_a_groups_package_spread_past_the_limit_is_one_row(unique: int) -> None:
    """One host of three has `unique` packages the others lack: a row each, naming every host."""
    flood = {f"p{n}": "1.0" for n in range(unique)}
    audits = [
        Audit(HostResult(Host(name, ("web",)), Status.COMPLIANT), packages)
        for name, packages in (("flood", flood), ("a", {}), ("b", {}))
    ]
    spread = package_spread(audits)["web"]
    if unique <= MAX_SPREAD_PACKAGES:
        assert len(spread) == unique
        assert spread["p0"] == {"flood": "1.0", "a": None, "b": None}
        return
    assert spread == {"(more than 10,000 packages differ (10,001); none listed)": {}}


def test_what_a_host_keeps_for_the_fleet_stage_is_bounded() -> None:
    """Its package versions and its peer values, as text: 16 MiB at most."""
    half = MAX_FLEET_TEXT // 2
    packages = {"p" * (half - 3): "1.0"}
    values = {"i" * (half - 3): "1.0"}
    peer = PeerValues("h", values, size=text_size(values))  # as peer_values counts them
    within_fleet_limit(packages, peer)
    within_fleet_limit({**packages, "x": "1"}, None)
    with pytest.raises(LimitError, match=r"more than 16 MiB of package versions and peer values"):
        within_fleet_limit({**packages, "x": "1"}, peer)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_the_limit_records_render_in_every_format(fmt: str) -> None:
    """The split and the spread row that stand for a cut list are read like any other."""
    names = [f"p{n}" for n in range(MAX_PEER_SPLITS + 1)]
    members = [values("a", names), values("b", names), values("c"), values("d")]
    audits = [PeerInput(HostResult(Host(v.host, ("web",)), Status.UNCHECKED), v) for v in members]
    outcome = compare_peers(audits, DEPTHS)
    spread = {"web": {"(more than 10,000 packages differ (10,001); none listed)": {}}}
    run = RunInfo("20261207T080000Z-1", 1.8e9, 1.8e9, "hosts.ini", "states", None)
    report = build_report(run, outcome.results, spread, None, outcome.splits)
    assert exit_status(report) == 1  # drift in the group, as any split
    text = render(fmt, report)
    if fmt == "prometheus":  # a count per group
        assert 'driftcheck_peer_splits{group="web"} 1' in text
    else:
        assert "more than 10,000 items with no majority (10,001)" in text
