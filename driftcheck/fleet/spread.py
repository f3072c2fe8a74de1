"""Package spread across reports: what a merge needs to rebuild report["package_spread"]
exactly as one run over all the hosts would have computed it.

A shard's own spread lists only the packages whose versions differ *within the shard*. A package
at 1.0 on every host of shard 1 and at 1.1 on every host of shard 2 differs in the fleet but in
neither shard. So a partial run (--shard or --limit) also records, per group, its audited members
and the packages uniform among them (name -> the one version string). With both, every member's
version of every package is known: from the shard's spread if it differs there, else from
`uniform`, else the package is absent on every member (null).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import islice
from typing import Protocol

from driftcheck.limits import MAX_SPREAD_PACKAGES
from driftcheck.model import HostResult
from driftcheck.model.document import PackageGroup, PackageSpread, Report


class Audited(Protocol):
    """What the spread reads of one host's audit (scan.Audit is one). A Protocol, not scan's
    class: fleet stands below scan, which imports the transports, and a merge needs none."""

    @property
    def result(self) -> HostResult: ...

    @property
    def packages(self) -> Mapping[str, str] | None: ...  # None: the host was not audited


Spread = PackageSpread  # report["package_spread"]: group -> package -> host -> version


Members = list[tuple[str, Mapping[str, str]]]  # (host, package -> versions) per audited host


def members_by_group(audits: Iterable[Audited]) -> dict[str, Members]:
    """Each group's audited hosts with their packages, groups sorted by name."""
    by_group: dict[str, Members] = {}
    for audit in audits:
        if audit.packages is None:
            continue
        for group in audit.result.host.groups or ("ungrouped",):
            by_group.setdefault(group, []).append((audit.result.host.name, audit.packages))
    return dict(sorted(by_group.items()))


def package_spread(audits: Iterable[Audited]) -> Spread:
    """Per group: the packages whose installed versions differ between its audited hosts."""
    spread: Spread = {}
    for group, members in members_by_group(audits).items():
        maps = _distinct(members)
        if len(maps) < 2:
            continue
        names = (n for n in sorted(set().union(*maps)) if len({m.get(n) for m in maps}) > 1)
        kept = list(islice(names, MAX_SPREAD_PACKAGES + 1))
        if len(kept) > MAX_SPREAD_PACKAGES:
            spread[group] = {too_many_packages(len(kept) + sum(1 for _ in names)): {}}
        elif kept:
            spread[group] = {
                name: {host: pkgs.get(name) for host, pkgs in members} for name in kept
            }
    return spread


def too_many_packages(count: int) -> str:
    """The one row of a group past MAX_SPREAD_PACKAGES, in place of a name: a row per package
    would name every host (hosts x packages), and a partial list would read as the whole."""
    return f"(more than {MAX_SPREAD_PACKAGES:,} packages differ ({count:,}); none listed)"


def package_groups(audits: Iterable[Audited]) -> dict[str, PackageGroup]:
    """Per group: {"members": audited hosts, "uniform": {package: version on every member}}."""
    return {
        group: {"members": [name for name, _ in members], "uniform": _uniform(members)}
        for group, members in members_by_group(audits).items()
    }


def _uniform(members: Sequence[tuple[str, Mapping[str, str]]]) -> dict[str, str]:
    first, *others = _distinct(members)
    return {
        name: version
        for name, version in sorted(first.items())
        if all(pkgs.get(name) == version for pkgs in others)
    }


def _distinct(members: Sequence[tuple[str, Mapping[str, str]]]) -> list[Mapping[str, str]]:
    """The members' package maps, each object once, the first member's first: hosts with the
    same packages share one map (scan._package_versions), so a uniform group is one map, and
    comparing it with itself host by host would cost hosts x packages for nothing."""
    return list({id(pkgs): pkgs for _, pkgs in members}.values())


def merge_spread(parts: Sequence[Report], order: Mapping[str, int]) -> Spread:
    """The fleet's package spread from each part's `package_groups` (every part has them) and
    `package_spread`; hosts within a package's row in `order` (the fleet's host order), as one
    run lists them."""
    groups = sorted({g for part in parts for g in part["package_groups"]})
    spread: Spread = {}
    for group in groups:
        versions = _group_versions(group, parts)
        if versions is not None:
            spread[group] = {
                name: dict(sorted(row.items(), key=lambda item: order[item[0]]))
                for name, row in versions.items()
            }
    return spread


def merge_groups(parts: Sequence[Report]) -> dict[str, PackageGroup]:
    """The parts' `package_groups` as one, so a merged report can be merged again."""
    merged: dict[str, PackageGroup] = {}
    for group in sorted({g for part in parts for g in part["package_groups"]}):
        infos = [part["package_groups"][group] for part in parts if group in part["package_groups"]]
        common = set(infos[0]["uniform"].items())
        for info in infos[1:]:
            common &= set(info["uniform"].items())
        members = [m for info in infos for m in info["members"]]
        merged[group] = {"members": members, "uniform": dict(sorted(common))}
    return merged


def _group_versions(group: str, parts: Sequence[Report]) -> dict[str, dict[str, str | None]] | None:
    slices = [
        (part["package_groups"][group], part["package_spread"].get(group, {}))
        for part in parts
        if group in part["package_groups"]
    ]
    members = [m for info, _ in slices for m in info["members"]]
    if len(members) < 2:
        return None
    names = sorted({n for info, differing in slices for n in (*info["uniform"], *differing)})
    differing: dict[str, dict[str, str | None]] = {}
    for name in names:
        row: dict[str, str | None] = {}
        for info, part_spread in slices:
            row.update(_member_versions(name, info, part_spread))
        if len(set(row.values())) > 1:
            differing[name] = row
    return differing or None


def _member_versions(
    name: str, info: PackageGroup, part_spread: Mapping[str, Mapping[str, str | None]]
) -> dict[str, str | None]:
    if name in part_spread:
        return dict(part_spread[name])
    version = info["uniform"].get(name)
    return dict.fromkeys(info["members"], version)
