"""After a scan: waivers, deltas against history, run folders, monitoring files.

Order matters for cron: the run's files are all written before `latest` moves, and history is
recorded only for a complete run, so a killed scan never loses or corrupts what came before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftcheck.atomic import replace_symlink, write_atomic
from driftcheck.nightly.deltas import annotate, diff_runs
from driftcheck.nightly.history import History
from driftcheck.nightly.replay import recorded_report
from driftcheck.nightly.runs import complete_runs, prune_runs, write_run
from driftcheck.nightly.waivers import Waiver, apply_waivers
from driftcheck.report import Report
from driftcheck.report.formats import render
from driftcheck.report.timeline import DEFAULT_TREND, history_block

# The files of one run folder, by the format they are rendered in.
RUN_FILES = {"report.txt": "text", "report.json": "json", "report.html": "html"}
HISTORY_FILE = "history.sqlite"


@dataclass(frozen=True)
class PublishOptions:
    report_dir: Path | None = None
    waivers: tuple[Waiver, ...] | None = None
    keep: int | None = None
    keep_history: int | None = None
    junit: Path | None = None
    prometheus: Path | None = None
    today: dt.date | None = None
    trend: int = DEFAULT_TREND  # runs in the report's trend, this one included


def publish(report: Report, options: PublishOptions) -> Report:
    """Apply waivers and history, write every file; return the report as published."""
    if options.waivers is not None:
        report = apply_waivers(report, options.waivers, options.today or dt.date.today())
    if options.report_dir is not None:
        report = _archive(report, options.report_dir, options)
    for path, fmt in ((options.junit, "junit"), (options.prometheus, "prometheus")):
        if path is not None:
            write_atomic(path, render(fmt, report))
    return report


def _archive(report: Report, report_dir: Path, options: PublishOptions) -> Report:
    history = History(report_dir / HISTORY_FILE)
    try:
        report = annotate(report, history)
        report = with_history(report, history, report_dir, options)
        files = {name: render(fmt, report).encode() for name, fmt in RUN_FILES.items()}
        write_run(report_dir, report, files)
        history.record(report)
        if options.keep_history is not None:
            history.prune(options.keep_history)
    finally:
        history.close()
    _stable_links(report_dir)
    if options.keep is not None:
        prune_runs(report_dir, options.keep)
    return report


def with_history(
    report: Report, history: History, report_dir: Path, options: PublishOptions
) -> Report:
    """`report` with its `history` block (trend and host strips) when there are past runs."""
    names = [str(h["name"]) for h in report["hosts"]]
    past = history.trend(options.trend - 1, hosts=names) if options.trend > 1 else None
    if past is None or not past.runs:
        return report
    return {
        **report,
        "history": history_block(report, past.runs, past.statuses, _kept(report_dir, options.keep)),
    }


def _kept(report_dir: Path, keep: int | None) -> list[str]:
    """Past run folders that survive this run's pruning: the trend links to those only."""
    names = [p.name for p in complete_runs(report_dir)]
    if keep is None:
        return names
    return names[max(0, len(names) - (keep - 1)) :] if keep > 1 else []


def _stable_links(report_dir: Path) -> None:
    """REPORT_DIR/report.json etc. always name the newest complete run's files."""
    for name in RUN_FILES:
        link = report_dir / name
        if not link.is_symlink() or link.readlink() != Path("latest") / name:
            replace_symlink(link, f"latest/{name}")


def history_rows(report_dir: Path, host: str | None, limit: int) -> list[Mapping[str, Any]]:
    history = History(report_dir / HISTORY_FILE)
    try:
        return [vars(row) for row in history.runs(host, limit)]
    finally:
        history.close()


def recorded(report_dir: Path, run_ref: str, trend: int) -> Report:
    """A recorded run as a report, with its trend up to it (driftcheck.nightly.replay)."""
    with History(report_dir / HISTORY_FILE) as history:
        return recorded_report(report_dir, history, run_ref, trend)


def host_strip(report_dir: Path, host: str, limit: int) -> str:
    """One host's status letters over the last `limit` runs, oldest first ("-": not in it)."""
    with History(report_dir / HISTORY_FILE) as history:
        trend = history.trend(limit, hosts=[host])
    return trend.statuses.get(host, "")


def run_diff(report_dir: Path, run_a: str, run_b: str) -> dict[str, Any]:
    history = History(report_dir / HISTORY_FILE)
    try:
        return diff_runs(history.findings_of(run_a), history.findings_of(run_b))
    finally:
        history.close()
