"""The `history` block of a report: the last N runs and each host's status in them.

It is built when the report is published into a report directory, from history.sqlite and the
run being published, and kept in the JSON so every format (and `driftcheck report`) renders the
same trend. Statuses are one letter per run so 5,000 hosts x 60 runs stay small.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from driftcheck.model.document import HistoryBlock, HistoryRun, Report
from driftcheck.model.vocab import ABSENT, LETTERS, STATUSES

RUN_FIELDS = ("id", "started", "hosts", *STATUSES, "findings")
DEFAULT_TREND = 30  # runs in a report's trend, this one included
# A recorded run as history.sqlite gives it (nightly.trails.Trend.runs): RUN_FIELDS and more.
PastRun = Mapping[str, str | int | bool | None]


def history_block(
    report: Report,
    past_runs: Sequence[PastRun],
    past_statuses: Mapping[str, str],
    kept: Iterable[str] = (),
) -> HistoryBlock:
    """`report["history"]`: the past runs (oldest first) then this one, each with its counts
    and whether its run folder is kept (this run's is being written); per host its status
    letters over those runs."""
    keep = set(kept)
    runs = [_run_entry(run, keep) for run in past_runs]
    runs.append({**_run_entry(current_run(report), keep), "kept": True})
    width = len(past_runs)
    statuses: dict[str, str] = {}
    for host in report["hosts"]:
        name = host["name"]
        past = past_statuses.get(name) or ""
        statuses[name] = ABSENT * (width - len(past)) + past[-width:] + _code(host["status"])
    return {"runs": runs, "statuses": statuses}


def current_run(report: Report) -> HistoryRun:
    """This run's trend counts, taken from its hosts (a summary is never trusted over them)."""
    run, hosts = report["run"], report["hosts"]
    counts = Counter(h["status"] for h in hosts)
    findings = sum(1 for h in hosts for f in h["findings"] if not f.get("waived"))
    return {
        "id": run["id"],
        "started": run["started"],
        "hosts": len(hosts),
        **{status: counts.get(status, 0) for status in STATUSES},
        "findings": findings,
    }


def _run_entry(run: PastRun, kept: set[str]) -> HistoryRun:
    entry: HistoryRun = {name: run.get(name) for name in RUN_FIELDS}
    for status in STATUSES:  # a status the run's driftcheck did not know: none of it
        entry[status] = entry[status] or 0
    entry["kept"] = str(run.get("id")) in kept
    return entry


def _code(status: str) -> str:
    return LETTERS.get(status, "?")
