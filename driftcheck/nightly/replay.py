"""A recorded run as a report again, for `driftcheck report --report-dir DIR --run ID`.

The run's own report.json is used while its folder is kept. Once pruned, the run is rebuilt
from history.sqlite: statuses, errors and findings are there; addresses, groups, facts, diffs
and the package spread are not, and the rebuilt report says so in `run.rebuilt`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from driftcheck.nightly.deltas import diff_runs
from driftcheck.nightly.history import History
from driftcheck.nightly.runs import RUNS, complete_runs
from driftcheck.report import SCHEMA, Report, load_report, summarize
from driftcheck.report.timeline import history_block

REBUILT = (
    "rebuilt from history.sqlite: addresses, groups, facts, diffs and package spread "
    "are not kept there"
)


def recorded_report(report_dir: Path, history: History, run_ref: str, trend: int) -> Report:
    """Run `run_ref` as a report, with its trend up to and including it (`trend` runs)."""
    run, errors = history.run_record(run_ref)
    saved = Path(report_dir) / RUNS / str(run["id"]) / "report.json"
    if saved.is_file():
        report = load_report(saved.read_text(encoding="utf-8"), str(saved))
    else:
        report = _rebuild(history, run, errors)
    report.pop("history", None)  # rebuilt below: the links follow what is kept now
    names = [str(h.get("name")) for h in report.get("hosts") or []]
    past = history.trend(trend - 1, before=str(run["id"]), hosts=names) if trend > 1 else None
    if past is None or not past.runs:
        return report
    kept = [p.name for p in complete_runs(report_dir)]
    block = history_block(report, past.runs, past.statuses, kept)
    block["runs"][-1]["kept"] = saved.is_file()
    return {**report, "history": block}


def _rebuild(history: History, run: Mapping[str, Any], errors: Mapping[str, str | None]) -> Report:
    state = history.findings_of(str(run["id"]))
    hosts: list[dict[str, Any]] = [
        {
            "name": name,
            "address": None,
            "groups": [],
            "status": host.status,
            "error": errors.get(name),
            "duration": None,
            "state_files": [],
            "facts": {},
            "findings": [
                {k: v for k, v in f.items() if k != "carried"}
                for f in host.findings.values()
                if not f.get("carried")
            ],
        }
        for name, host in sorted(state.hosts.items())
    ]
    report: Report = {
        "schema": SCHEMA,
        "run": {
            "id": run["id"],
            "started": run["started"],
            "finished": run["finished"],
            "duration": run["duration"],
            "inventory": run["inventory"],
            "states": None,
            "limit": run["run_limit"],
            "version": run["version"],
            "rebuilt": REBUILT,
        },
        "summary": summarize(hosts),
        "hosts": hosts,
        "package_spread": {},
    }
    previous = history.previous_of(str(run["id"]))
    if previous is not None:
        changes = diff_runs(history.findings_of(previous), state)
        changes.pop("run", None)
        report["changes"] = changes
    return report
