"""`driftcheck merge`: shard or region reports combined into the report one run would have made.

The merged report has the same schema; it is then published like a scan's (history, `latest`,
new/resolved against the previous fleet run), so the pieces add up to one fleet run. What cannot
be combined is refused (exit 3) rather than guessed: reports of different inventories or states,
a host in two reports, mixed shard counts or selections, a shard report holding a host of another
shard or lacking one of its own, and a missing shard unless `allow_partial`, in which case the
missing shard's hosts are in error ("not audited"), never compliant. Each report is trusted only
as far as `read_report` checked it (its schema, its bounds, no host contradicting itself).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, cast

from driftcheck.errors import UsageError
from driftcheck.fleet.shard import shard_of
from driftcheck.fleet.spread import merge_groups, merge_spread
from driftcheck.model.document import (
    ExpiredWaiver,
    FindingEntry,
    HostEntry,
    MergedPart,
    PackageSpread,
    Report,
    RunEntry,
    ShardEntry,
    WaiversBlock,
    summarize,
)
from driftcheck.model.shape import short
from driftcheck.version import __version__

# Added by publishing (history, waivers): the merge's own publishing recomputes them.
_PUBLISHED = ("changes", "waivers")
# What `merge` compares between the parts, and how a message names it.
_DIGESTS: tuple[tuple[Literal["inventory_digest", "states_digest"], str], ...] = (
    ("inventory_digest", "inventory"),
    ("states_digest", "declared states"),
)


class MergeError(UsageError):
    """The reports cannot be merged into one fleet run."""


@dataclass(frozen=True)
class Part:
    source: str  # the file it came from, for messages
    report: Report


def merge_reports(
    parts: Sequence[Part], *, run_id: str, allow_partial: bool = False
) -> tuple[Report, list[str]]:
    """The merged report (not yet published) and warnings to show (a partial merge)."""
    if not parts:
        raise MergeError("merge: no report given")
    _same_fleet(parts)
    _same_cut(parts)
    owner = _owners(parts)
    home = _home_shards(parts)
    missing, order = _selection(parts, owner, home, allow_partial)
    hosts = [_clean_host(h) for part in parts for h in part.report["hosts"]]
    groups = _selection_groups(parts)
    hosts += [_not_audited(name, shard, groups.get(name, [])) for name, shard in missing.items()]
    position = {name: i for i, name in enumerate(order or [h["name"] for h in hosts])}
    hosts.sort(key=lambda h: position[h["name"]])
    report = _assemble(parts, hosts, run_id, position, missing)
    return report, _warnings(parts, missing)


def _same_fleet(parts: Sequence[Part]) -> None:
    first = parts[0]
    for key, what in _DIGESTS:
        for part in parts:
            if not part.report["run"].get(key):
                raise MergeError(
                    f"{part.source}: no {key} in the report (written by a driftcheck before "
                    "merge existed?): re-run the scan"
                )
            if part.report["run"][key] != first.report["run"][key]:
                raise MergeError(
                    f"{part.source}: a different {what} than {first.source} "
                    f"({part.report['run'][key]} != {first.report['run'][key]}): "
                    "only reports of the same inventory and states can be merged"
                )


def _owners(parts: Sequence[Part]) -> dict[str, str]:
    owner: dict[str, str] = {}
    for part in parts:
        for host in part.report["hosts"]:
            name = host["name"]
            if name in owner:
                raise MergeError(
                    f"host {_shown(name)} is in both {owner[name]} and {part.source}: "
                    "a host may be audited by one report only"
                )
            owner[name] = part.source
    return owner


def _same_cut(parts: Sequence[Part]) -> None:
    """Shard reports: all of them, of one selection and count, each shard once."""
    shards = [part.report["run"].get("shard") for part in parts]
    if not any(shards):
        return
    first = shards[0]
    if not first:
        raise MergeError(f"{parts[0].source}: not a --shard report; the others are")
    seen: dict[int, str] = {}
    for part, shard in zip(parts, shards, strict=True):
        if not shard:
            raise MergeError(f"{part.source}: not a --shard report; the others are")
        if shard["count"] != first["count"]:
            raise MergeError(
                f"{part.source}: shard {shard['number']}/{shard['count']}, but {parts[0].source} "
                f"is shard {first['number']}/{first['count']}: only the shards of one run, cut "
                "with one shard count, can be merged"
            )
        if shard["selection"] != first["selection"]:
            raise MergeError(
                f"{part.source}: shard {shard['number']}/{shard['count']} was cut from a "
                f"different selection than {parts[0].source} (another --limit or inventory)"
            )
        if shard["number"] in seen:
            raise MergeError(
                f"shard {shard['number']}/{shard['count']} given twice: "
                f"{seen[shard['number']]} and {part.source}"
            )
        seen[shard["number"]] = part.source


def _home_shards(parts: Sequence[Part]) -> dict[str, int]:
    """For shard reports: each selected host's shard. Every report must hold exactly the hosts
    of its own shard: a host of another shard there (a hand-edited or foreign report) would be
    audited twice or by the wrong runner, and one left out would read as never selected."""
    first = parts[0].report["run"].get("shard")
    if not first:
        return {}
    count = first["count"]
    home = {name: shard_of(name, count) for name in first["selection"]}
    # every part is a shard report of this count and selection (_same_cut)
    cuts = [(part, shard) for part in parts if (shard := part.report["run"].get("shard"))]
    for part, shard in cuts:  # a host in the wrong report first: it says more than the lack
        _strays(part, shard, home)
    for part, shard in cuts:
        _lacking(part, shard, home)
    return home


def _strays(part: Part, shard: ShardEntry, home: Mapping[str, int]) -> None:
    number, count = shard["number"], shard["count"]
    for host in part.report["hosts"]:
        name = host["name"]
        if name not in home:
            raise MergeError(
                f"{part.source}: host {_shown(name)} is not in the selection shard "
                f"{number}/{count} was cut from"
            )
        if home[name] != number:
            raise MergeError(
                f"{part.source}: host {_shown(name)} belongs to shard {home[name]}/{count}, "
                f"not {number}/{count} (a host is in the shard its name hashes to)"
            )


def _lacking(part: Part, shard: ShardEntry, home: Mapping[str, int]) -> None:
    number, count = shard["number"], shard["count"]
    held = {host["name"] for host in part.report["hosts"]}
    lacking = [name for name, k in home.items() if k == number and name not in held]
    if lacking:
        raise MergeError(
            f"{part.source}: shard {number}/{count} lacks {len(lacking)} of its own hosts "
            f"({_listed([_shown(n) for n in lacking])}): a shard report holds all of them"
        )


def _selection(
    parts: Sequence[Part], owner: Mapping[str, str], home: Mapping[str, int], allow_partial: bool
) -> tuple[dict[str, str], list[str]]:
    """For shard reports: the hosts of missing shards (name -> "K/N") and the fleet's order."""
    first = parts[0].report["run"].get("shard")
    if not first:
        return {}, []
    count = first["count"]  # at most MAX_SHARDS: read_report checked it
    present = {shard["number"] for part in parts if (shard := part.report["run"].get("shard"))}
    absent = [f"{n}/{count}" for n in range(1, count + 1) if n not in present]
    if absent and not allow_partial:
        raise MergeError(
            f"shard {_listed(absent)} missing: give every shard's report, or --allow-partial to "
            "merge anyway (its hosts are then reported not audited)"
        )
    missing = {name: f"{home[name]}/{count}" for name in first["selection"] if name not in owner}
    return missing, list(first["selection"])


def _listed(items: Sequence[str], shown: int = 10) -> str:
    """`a, b, c`; past `shown` items, the first ones and how many more."""
    if len(items) <= shown:
        return ", ".join(items)
    return f"{', '.join(items[:shown])} and {len(items) - shown} more"


def _shown(name: str) -> str:
    """A host name from a report file as a message shows it: escaped unless plain."""
    return name if name.isascii() and name.isprintable() and len(name) <= 60 else short(name)


def _clean_host(host: HostEntry) -> HostEntry:
    out = host.copy()
    out["findings"] = [_unstamped(f) for f in host.get("findings", [])]
    return out


def _unstamped(finding: FindingEntry) -> FindingEntry:
    """Without the history's stamps: the merge's own publishing sets them again."""
    out = finding.copy()
    out.pop("first_seen", None)
    out.pop("last_seen", None)
    out.pop("new", None)
    return out


def _selection_groups(parts: Sequence[Part]) -> dict[str, list[str]]:
    shard = parts[0].report["run"].get("shard")
    if not shard:
        return {}
    return dict(zip(shard.get("selection", []), shard.get("groups", []), strict=False))


def _not_audited(name: str, shard: str, groups: list[str]) -> HostEntry:
    return {
        "name": name,
        "address": name,
        "groups": groups,
        "status": "error",
        "error": f"not audited: the report of shard {shard} is missing from this merge",
        "duration": 0.0,
        "state_files": [],
        "facts": {},
        "findings": [],
    }


def _assemble(
    parts: Sequence[Part],
    hosts: list[HostEntry],
    run_id: str,
    position: Mapping[str, int],
    missing: Mapping[str, str],
) -> Report:
    runs = [part.report["run"] for part in parts]
    reports = [part.report for part in parts]
    grouped = all("package_groups" in report for report in reports)
    report: Report = {
        "schema": parts[0].report["schema"],
        "run": _run(runs, run_id, parts, missing),
        "summary": summarize(hosts),
        "hosts": hosts,
        "package_spread": merge_spread(reports, position) if grouped else _union_spread(parts),
    }
    if grouped:
        report["package_groups"] = merge_groups(reports)
    waivers = [part.report["waivers"] for part in parts if part.report.get("waivers")]
    if waivers:  # applied by the scans: keep what they say, counted over the fleet
        report["waivers"] = _merge_waivers(waivers, report["summary"]["waived"])
    if any("peer_splits" in part.report for part in parts):  # each part's peers, not recomputed
        report["peer_splits"] = [s for part in parts for s in part.report.get("peer_splits", [])]
    # The first part's other keys as they are (history, and those of a newer driftcheck this one
    # does not know), after the merge's own: hence a plain dict, typed back as the Report it is.
    extra = {k: v for k, v in parts[0].report.items() if k not in report and k not in _PUBLISHED}
    merged: dict[str, object] = {**report, **extra}
    return cast(Report, merged)


def _merge_waivers(blocks: Sequence[WaiversBlock], applied: int) -> WaiversBlock:
    expired: dict[str, ExpiredWaiver] = {}
    for block in blocks:
        for entry in block.get("expired", []):
            key = repr(sorted((k, str(v)) for k, v in entry.items() if k != "hosts"))
            expired.setdefault(key, {**entry, "hosts": []})["hosts"] += entry.get("hosts", [])
    active = max(int(block.get("active", 0)) for block in blocks)
    return {"active": active, "applied": applied, "expired": list(expired.values())}


def applied_waivers(parts: Sequence[Part]) -> list[str]:
    """The parts whose scans applied waivers already (a merge must not apply them twice)."""
    return [part.source for part in parts if part.report.get("waivers")]


def _run(
    runs: Sequence[RunEntry],
    run_id: str,
    parts: Sequence[Part],
    missing: Mapping[str, str],
) -> RunEntry:
    # None only in a run rebuilt from history, which has no report to merge
    started = min((r["started"] for r in runs if r["started"] is not None), default=None)
    finished = max((r["finished"] for r in runs if r["finished"] is not None), default=None)
    duration = max(float(r.get("duration") or 0.0) for r in runs)
    limits = [r.get("limit") for r in runs]
    return {
        "id": run_id,
        "started": started,
        "finished": finished,
        "duration": duration,
        "inventory": runs[0]["inventory"],
        "states": runs[0]["states"],
        "limit": None if None in limits else ":".join(dict.fromkeys(str(x) for x in limits)),
        "version": __version__,
        "inventory_digest": runs[0]["inventory_digest"],
        "states_digest": runs[0]["states_digest"],
        "merged": {
            "reports": [_part_entry(part) for part in parts],
            "missing_shards": sorted(set(missing.values())),
            "not_audited": len(missing),
        },
    }


def _part_entry(part: Part) -> MergedPart:
    run = part.report["run"]
    shard = run.get("shard")
    return {
        "source": part.source,
        "id": run["id"],
        "limit": run.get("limit"),
        "shard": f"{shard['number']}/{shard['count']}" if shard else None,
        "hosts": len(part.report["hosts"]),
    }


def _union_spread(parts: Sequence[Part]) -> PackageSpread:
    """Without `package_groups` (full-run reports) only what each part saw can be kept."""
    spread: PackageSpread = {}
    for part in parts:
        for group, packages in part.report.get("package_spread", {}).items():
            for name, row in packages.items():
                spread.setdefault(group, {}).setdefault(name, {}).update(row)
    return spread


def _warnings(parts: Sequence[Part], missing: Mapping[str, str]) -> list[str]:
    if not missing:
        return []
    shards = ", ".join(sorted(set(missing.values())))
    return [
        f"partial merge: shard {shards} missing, its {len(missing)} host(s) reported "
        f"not audited ({len(parts)} report(s) merged)"
    ]
