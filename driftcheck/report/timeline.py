"""The report over time: the `history` block of a report (the last N runs and each host's status
in them), and the text forms of it.

The block is built when the report is published into a report directory, from history.sqlite
and the run being published, and kept in the JSON so every format (and `driftcheck report`)
renders the same trend. Statuses are one letter per run so 5,000 hosts x 60 runs stay small.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from driftcheck.model.document import FindingEntry, HistoryBlock, HistoryRun, Report
from driftcheck.model.vocab import ABSENT, LETTERS, STATUS_OF_LETTER, STATUSES

# One letter per status (model.vocab); `ABSENT`: the host was not in that run (a --limit run,
# or not yet in the inventory).
STATUS_CODES = LETTERS
CODE_STATUS = STATUS_OF_LETTER
# Bottom to top in the chart; the not-audited statuses stacked last, where they catch the eye.
STATUS_ORDER = STATUSES
RUN_FIELDS = ("id", "started", "hosts", *STATUS_ORDER, "findings")
DEFAULT_TREND = 30
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
        **{status: counts.get(status, 0) for status in STATUS_ORDER},
        "findings": findings,
    }


def _run_entry(run: PastRun, kept: set[str]) -> HistoryRun:
    entry: HistoryRun = {name: run.get(name) for name in RUN_FIELDS}
    for status in STATUS_ORDER:  # a status the run's driftcheck did not know: none of it
        entry[status] = entry[status] or 0
    entry["kept"] = str(run.get("id")) in kept
    return entry


def _code(status: str) -> str:
    return STATUS_CODES.get(status, "?")


def runs_of(report: Report) -> list[HistoryRun]:
    """The trend's runs, oldest first; none without history."""
    block = report.get("history")
    return [] if block is None else list(block["runs"])


def strip_of(report: Report, host: str) -> str | None:
    """The host's status letters over the trend's runs; None without history."""
    block = report.get("history")
    return None if block is None else block["statuses"].get(host)


def strip_legend(strip: str) -> str:
    """ "c compliant, s snowflake, - not in that run": the letters that occur, explained."""
    present = [code for code in (*STATUS_CODES.values(), ABSENT, "?") if code in strip]
    names = {**CODE_STATUS, ABSENT: "not in that run", "?": "other status"}
    return ", ".join(f"{code} {names[code]}" for code in present)


def change_summary(runs: Sequence[HistoryRun]) -> str:
    """ "snowflakes 12 → 9, not audited 3 → 0, findings 40 → 31 over 30 runs"."""
    if not runs:
        return ""
    first, last = runs[0], runs[-1]
    parts = [
        f"snowflakes {_n(first, 'snowflake')} → {_n(last, 'snowflake')}",
        f"compliant {_n(first, 'compliant')} → {_n(last, 'compliant')}",
        f"not audited {_not_audited(first)} → {_not_audited(last)}",
        f"findings {_n(first, 'findings')} → {_n(last, 'findings')}",
    ]
    plural = "run" if len(runs) == 1 else "runs"
    return ", ".join(parts) + f" over {len(runs)} {plural}"


def _n(run: HistoryRun, key: str) -> int:
    value = run.get(key)
    return value if isinstance(value, int) else 0


def _not_audited(run: HistoryRun) -> int:
    return _n(run, "unreachable") + _n(run, "error")


def since_text(finding: FindingEntry) -> str | None:
    """ "since 2026-11-03, 27 runs" for a finding that carries first_seen (and runs)."""
    first = finding.get("first_seen")
    if first is None:
        return None
    runs = finding.get("runs")
    count = "" if runs is None else f", {runs} run{'s' if runs != 1 else ''}"
    return f"since {first[:10]}{count}"
