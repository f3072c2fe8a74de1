"""A recorded run as a report again, for `driftcheck report --report-dir DIR --run ID`.

The run's own report.json is used while its folder is kept. Once pruned, the run is rebuilt
from history.sqlite: statuses, errors and findings are there; addresses, groups, facts, diffs
and the package spread are not, and the rebuilt report says so in `run.rebuilt`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from driftcheck.model.document import (
    SCHEMA,
    FindingEntry,
    HostEntry,
    Report,
    load_report,
    summarize,
)
from driftcheck.nightly.deltas import run_changes
from driftcheck.nightly.history import History
from driftcheck.nightly.reportdir import ReportDir
from driftcheck.nightly.runs import RUNS, complete_runs
from driftcheck.nightly.trend import history_block

REBUILT = (
    "rebuilt from history.sqlite: addresses, groups, facts, diffs and package spread "
    "are not kept there"
)


def recorded_report(root: ReportDir, history: History, run_ref: str, trend: int) -> Report:
    """Run `run_ref` as a report, with its trend up to and including it (`trend` runs)."""
    run, errors = history.run_record(run_ref)
    run_id = str(run["id"])
    saved = _saved(root, run_id)
    report = saved if saved is not None else _rebuild(history, run, errors)
    report.pop("history", None)  # rebuilt below: the links follow what is kept now
    names = [h["name"] for h in report["hosts"]]
    past = history.trend(trend - 1, before=run_id, hosts=names) if trend > 1 else None
    if past is None or not past.runs:
        return report
    kept = [p.name for p in complete_runs(root)]
    block = history_block(report, past.runs, past.statuses, kept)
    block["runs"][-1]["kept"] = saved is not None
    return {**report, "history": block}


def _saved(root: ReportDir, run_id: str) -> Report | None:
    """The run folder's report.json while it is kept, read without following a symlink (the
    same rule as every other entry of the report directory, driftcheck.nightly.reportdir)."""
    with root.existing_subdir(RUNS) as runs:
        if runs is None or not runs.is_dir(run_id):
            return None
        with runs.subdir(run_id) as folder:
            if folder.lstat("report.json") is None:
                return None
            with os.fdopen(folder.open_file("report.json", os.O_RDONLY), "rb") as handle:
                text = handle.read().decode("utf-8")
            return load_report(text, str(folder.at("report.json")))


def _rebuild(history: History, run: Mapping[str, Any], errors: Mapping[str, str | None]) -> Report:
    """The report of a pruned run from its history rows. `run` is its `runs` row
    (History.run_record: untyped, its columns those of the file's schema version)."""
    state = history.findings_of(str(run["id"]))
    hosts: list[HostEntry] = [
        {
            "name": name,
            "address": None,
            "groups": [],
            "status": host.status,
            "error": errors.get(name),
            "duration": None,
            "state_files": [],
            "facts": {},
            "findings": [_observed(f) for f in host.findings.values() if not f.get("carried")],
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
        report["changes"] = run_changes(history.findings_of(previous), state)
    return report


def _observed(finding: FindingEntry) -> FindingEntry:
    """A recorded finding as the run reported it: without the history's `carried` mark."""
    observed = finding.copy()
    observed.pop("carried", None)
    return observed
