"""Package spread rebuilt from shard reports equals the spread of one run over every host.

Pure functions over per-host package maps (the values an audit hands to package_spread); the
maps are generated so that versions differ within shards, across shards only, or not at all.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

import pytest

from driftcheck.fleet.shard import shard_of
from driftcheck.fleet.spread import merge_groups, merge_spread, package_groups, package_spread
from driftcheck.model import Host, HostResult
from driftcheck.model.vocab import Status
from driftcheck.scan import Audit


def audit(name: str, groups: tuple[str, ...], packages: Mapping[str, str] | None) -> Audit:
    return Audit(HostResult(Host(name, groups), Status.COMPLIANT), packages)


def fleet(seed: int) -> list[Audit]:
    rng = random.Random(seed)
    audits = []
    for i in range(40):
        groups = rng.choice([("web",), ("db",), ("web", "eu"), ()])
        if rng.random() < 0.1:
            audits.append(audit(f"h{i:02d}", groups, None))  # packages not collected
            continue
        shard = shard_of(f"h{i:02d}", 4)
        packages = {"base": "1.0", "bash": "5.2"}
        packages["by-shard"] = f"{shard}.0"  # uniform inside a shard, differs across shards
        if rng.random() < 0.3:
            packages["rare"] = rng.choice(["0.1", "0.2"])
        if shard != 3:
            packages["not-in-3"] = "2.0"  # absent from every host of shard 3
        audits.append(audit(f"h{i:02d}", groups, packages))
    return audits


def part(audits: Sequence[Audit]) -> dict[str, object]:
    return {"package_spread": package_spread(audits), "package_groups": package_groups(audits)}


@pytest.mark.parametrize("seed", range(5))
def test_merged_spread_is_the_fleet_spread(seed: int) -> None:
    audits = fleet(seed)
    parts = [
        part([a for a in audits if shard_of(a.result.host.name, 4) == k]) for k in (1, 2, 3, 4)
    ]
    order = {a.result.host.name: i for i, a in enumerate(audits)}
    merged = merge_spread(parts, order)
    whole = package_spread(audits)
    assert merged == whole
    assert "by-shard" in whole["web"]
    assert "not-in-3" in whole["web"]
    # and in the same order, so the JSON is byte for byte the same
    assert [list(row) for g in merged.values() for row in g.values()] == [
        list(row) for g in whole.values() for row in g.values()
    ]


def test_merged_groups_merge_again_to_the_same_spread() -> None:
    audits = fleet(7)
    order = {a.result.host.name: i for i, a in enumerate(audits)}
    halves = [[a for a in audits if shard_of(a.result.host.name, 4) == k] for k in (1, 2, 3, 4)]
    first = [part(halves[0]), part(halves[1])]
    second = [part(halves[2]), part(halves[3])]
    regions = [
        {"package_spread": merge_spread(p, order), "package_groups": merge_groups(p)}
        for p in (first, second)
    ]
    assert merge_spread(regions, order) == package_spread(audits)


def test_each_package_name_and_version_is_kept_once_for_the_whole_fleet() -> None:
    """Every host's map is kept until the fleet stage: two hosts' parses of the same database
    give equal strings, and the maps must hold one copy of each (5,000 hosts x 770 packages)."""
    from driftcheck.collectors.packages import by_name, parse_dpkg  # noqa: PLC0415
    from driftcheck.model import Observed, Outcome, Section  # noqa: PLC0415
    from driftcheck.scan import _package_versions  # noqa: PLC0415

    raw = b"ii \tlibssl3\t3.0.17-1~deb12u2\tamd64\nii \tbash\t5.2.15-2+b8\tamd64\n"
    maps = []
    for _ in range(2):
        packages = Section(Outcome.COLLECTED, by_name(parse_dpkg(bytes(bytearray(raw)))))
        observed = Observed(packages, *(Section(Outcome.COLLECTED, {}) for _ in range(3)))
        versions = _package_versions(observed)
        assert versions is not None
        maps.append(versions)
    assert maps[0] == maps[1]
    for (name0, version0), (name1, version1) in zip(maps[0].items(), maps[1].items(), strict=True):
        assert name0 is name1
        assert version0 is version1


@pytest.mark.parametrize("seed", range(5))
def test_hosts_sharing_one_map_give_the_spread_of_hosts_with_copies(seed: int) -> None:
    """Hosts with the same packages share one map object (scan._package_versions); the spread
    and the uniform packages are those of the same fleet where every host has its own copy."""
    audits = fleet(seed)
    shared: dict[tuple[tuple[str, str], ...], Mapping[str, str]] = {}
    for a in audits:
        if a.packages is not None:
            shared.setdefault(tuple(sorted(a.packages.items())), a.packages)
    sharing = [
        audit(a.result.host.name, a.result.host.groups,
              None if a.packages is None else shared[tuple(sorted(a.packages.items()))])
        for a in audits
    ]  # fmt: skip
    copies = [audit(a.result.host.name, a.result.host.groups, a.packages and dict(a.packages))
              for a in audits]  # fmt: skip
    assert len({id(a.packages) for a in sharing if a.packages}) < len(sharing) // 2
    assert part(sharing) == part(copies)
    assert package_spread(sharing)  # versions do differ in this fleet
