"""The report: one JSON-shaped dict (schema driftcheck.report/1, docs/report-schema.md) from
which every output format is rendered. Reporters are small callables over that dict."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from driftcheck import __version__
from driftcheck.errors import ExitStatus, InputError
from driftcheck.model.vocab import NOT_AUDITED, STATUSES
from driftcheck.models import Finding, HostResult

SCHEMA = "driftcheck.report/1"
Report = dict[str, Any]


@dataclass(frozen=True)
class RunInfo:
    id: str
    started: float  # epoch seconds
    finished: float
    inventory: str
    states: str
    limit: str | None
    inventory_digest: str | None = None  # see driftcheck.fleet.shard: what `merge` compares
    states_digest: str | None = None
    shard: Mapping[str, Any] | None = None  # --shard: number, count, selection


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def build_report(
    run: RunInfo,
    results: Sequence[HostResult],
    package_spread: Mapping[str, Mapping[str, Mapping[str, str | None]]],
    package_groups: Mapping[str, Any] | None = None,
) -> Report:
    hosts = [host_entry(r) for r in results]
    report: Report = {
        "schema": SCHEMA,
        "run": {
            "id": run.id,
            "started": iso(run.started),
            "finished": iso(run.finished),
            "duration": round(run.finished - run.started, 3),
            "inventory": run.inventory,
            "states": run.states,
            "limit": run.limit,
            "version": __version__,
            "inventory_digest": run.inventory_digest,
            "states_digest": run.states_digest,
            "shard": dict(run.shard) if run.shard else None,
        },
        "summary": summarize(hosts),
        "hosts": hosts,
        "package_spread": package_spread,
    }
    if package_groups is not None:  # a partial run (--shard, --limit): for `merge`
        report["package_groups"] = package_groups
    return report


def host_entry(result: HostResult) -> dict[str, Any]:
    entry = _host_fields(result)
    if result.peers is not None:  # only with --peers (or `peers: true`)
        entry["peers"] = asdict(result.peers)
    return entry


def _host_fields(result: HostResult) -> dict[str, Any]:
    return {
        "name": result.host.name,
        "address": result.host.address,
        "groups": list(result.host.groups),
        "status": result.status.value,
        "error": result.error,
        "cause": result.cause,
        "duration": round(result.duration, 3),
        "state_files": list(result.state_files),
        "facts": dict(result.facts),
        "findings": [finding_entry(f) for f in result.findings],
    }


def finding_entry(finding: Finding) -> dict[str, Any]:
    return asdict(finding)


def summarize(hosts: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    summary = {"hosts": 0, **dict.fromkeys(STATUSES, 0), "findings": 0, "waived": 0}
    for host in hosts:
        summary["hosts"] += 1
        summary[host["status"]] += 1
        for finding in host["findings"]:
            summary["waived" if finding.get("waived") else "findings"] += 1
    return summary


def exit_status(report: Mapping[str, Any]) -> ExitStatus:
    """0 all compliant; 1 all audited, some snowflake; 2 any host unreachable, in error or
    unchecked (nothing applied to it)."""
    summary = report["summary"]
    if any(summary.get(status) for status in NOT_AUDITED):
        return ExitStatus.INCOMPLETE
    if summary["snowflake"]:
        return ExitStatus.SNOWFLAKES
    return ExitStatus.COMPLIANT


def render_json(report: Mapping[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def load_report(text: str, source: str) -> Report:
    """Read a saved JSON report back; a wrong schema is an input error."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(source, exc.lineno, f"not a JSON report: {exc.msg}") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise InputError(source, None, f"not a driftcheck report (schema must be {SCHEMA!r})")
    return data


Renderer = Callable[[Mapping[str, Any]], str]
