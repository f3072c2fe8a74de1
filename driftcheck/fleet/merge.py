"""`driftcheck merge`: shard or region reports combined into the report one run would have made.

The merged report has the same schema; it is then published like a scan's (history, `latest`,
new/resolved against the previous fleet run), so the pieces add up to one fleet run. What cannot
be combined is refused (exit 3) rather than guessed: reports of different inventories or states,
a host in two reports, mixed shard counts, and a missing shard unless `allow_partial`, in which
case the missing shard's hosts are in error ("not audited"), never compliant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from driftcheck import __version__
from driftcheck.errors import UsageError
from driftcheck.fleet.shard import shard_of
from driftcheck.fleet.spread import merge_groups, merge_spread
from driftcheck.report import Report, summarize

# Added by publishing (history, waivers): the merge's own publishing recomputes them.
_PUBLISHED = ("changes", "waivers")
_STAMPS = ("first_seen", "last_seen", "new")


class MergeError(UsageError):
    """The reports cannot be merged into one fleet run."""


@dataclass(frozen=True)
class Part:
    source: str  # the file it came from, for messages
    report: Mapping[str, Any]


def merge_reports(
    parts: Sequence[Part], *, run_id: str, allow_partial: bool = False
) -> tuple[Report, list[str]]:
    """The merged report (not yet published) and warnings to show (a partial merge)."""
    if not parts:
        raise MergeError("merge: no report given")
    _same_fleet(parts)
    _same_cut(parts)
    owner = _owners(parts)
    missing, order = _selection(parts, owner, allow_partial)
    hosts = [_clean_host(h) for part in parts for h in part.report["hosts"]]
    groups = _selection_groups(parts)
    hosts += [_not_audited(name, shard, groups.get(name, [])) for name, shard in missing.items()]
    position = {name: i for i, name in enumerate(order or [h["name"] for h in hosts])}
    hosts.sort(key=lambda h: position[h["name"]])
    report = _assemble(parts, hosts, run_id, position, missing)
    return report, _warnings(parts, missing)


def _same_fleet(parts: Sequence[Part]) -> None:
    first = parts[0]
    for key, what in (("inventory_digest", "inventory"), ("states_digest", "declared states")):
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
                    f"host {name} is in both {owner[name]} and {part.source}: "
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
    seen: dict[int, str] = {}
    for part, shard in zip(parts, shards, strict=True):
        if not shard:
            raise MergeError(f"{part.source}: not a --shard report; the others are")
        if shard["count"] != first["count"] or shard["selection"] != first["selection"]:
            raise MergeError(
                f"{part.source}: shard {shard['number']}/{shard['count']} was cut from a "
                f"different selection than {parts[0].source} (another --limit or shard count)"
            )
        if shard["number"] in seen:
            raise MergeError(
                f"shard {shard['number']}/{shard['count']} given twice: "
                f"{seen[shard['number']]} and {part.source}"
            )
        seen[shard["number"]] = part.source


def _selection(
    parts: Sequence[Part], owner: Mapping[str, str], allow_partial: bool
) -> tuple[dict[str, str], list[str]]:
    """For shard reports: the hosts of missing shards (name -> "K/N") and the fleet's order."""
    first = parts[0].report["run"].get("shard")
    if not first:
        return {}, []
    count = first["count"]
    present = {part.report["run"]["shard"]["number"] for part in parts}
    absent = sorted(set(range(1, count + 1)) - present)
    if absent and not allow_partial:
        names = ", ".join(f"{n}/{count}" for n in absent)
        raise MergeError(
            f"shard {names} missing: give every shard's report, or --allow-partial to merge "
            "anyway (its hosts are then reported not audited)"
        )
    missing = {
        name: f"{shard_of(name, count)}/{count}" for name in first["selection"] if name not in owner
    }
    return missing, list(first["selection"])


def _clean_host(host: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(host)
    out["findings"] = [
        {k: v for k, v in f.items() if k not in _STAMPS} for f in host.get("findings", [])
    ]
    return out


def _selection_groups(parts: Sequence[Part]) -> dict[str, list[str]]:
    shard = parts[0].report["run"].get("shard") or {}
    return dict(zip(shard.get("selection", []), shard.get("groups", []), strict=False))


def _not_audited(name: str, shard: str, groups: list[str]) -> dict[str, Any]:
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
    hosts: list[dict[str, Any]],
    run_id: str,
    position: Mapping[str, int],
    missing: Mapping[str, str],
) -> Report:
    runs = [part.report["run"] for part in parts]
    report: Report = {
        "schema": parts[0].report["schema"],
        "run": _run(runs, run_id, parts, missing),
        "summary": summarize(hosts),
        "hosts": hosts,
    }
    if all("package_groups" in part.report for part in parts):
        reports = [part.report for part in parts]
        report["package_spread"] = merge_spread(reports, position)
        report["package_groups"] = merge_groups(reports)
    else:
        report["package_spread"] = _union_spread(parts)
    waivers = [part.report["waivers"] for part in parts if part.report.get("waivers")]
    if waivers:  # applied by the scans: keep what they say, counted over the fleet
        report["waivers"] = _merge_waivers(waivers, report["summary"]["waived"])
    extra = {k: v for k, v in parts[0].report.items() if k not in report and k not in _PUBLISHED}
    return {**report, **extra}


def _merge_waivers(blocks: Sequence[Mapping[str, Any]], applied: int) -> dict[str, Any]:
    expired: dict[str, dict[str, Any]] = {}
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
    runs: Sequence[Mapping[str, Any]],
    run_id: str,
    parts: Sequence[Part],
    missing: Mapping[str, str],
) -> dict[str, Any]:
    started = min(r["started"] for r in runs)
    finished = max(r["finished"] for r in runs)
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


def _part_entry(part: Part) -> dict[str, Any]:
    run = part.report["run"]
    shard = run.get("shard")
    return {
        "source": part.source,
        "id": run["id"],
        "limit": run.get("limit"),
        "shard": f"{shard['number']}/{shard['count']}" if shard else None,
        "hosts": len(part.report["hosts"]),
    }


def _union_spread(parts: Sequence[Part]) -> dict[str, Any]:
    """Without `package_groups` (full-run reports) only what each part saw can be kept."""
    spread: dict[str, dict[str, dict[str, Any]]] = {}
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
