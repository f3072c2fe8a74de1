"""After a scan: waivers, deltas against history, run folders, monitoring files.

Order matters for cron. History is the commit point of a run:
1. the run folder is written (runs/.<id>.partial/, then renamed to runs/<id>/);
2. the run is recorded in history.sqlite, in one transaction;
3. only then does `latest` move to it, then `report.*`.
A kill before 2 leaves the old run current in both places (the new folder, if renamed, is a
complete report no history names; `--keep` prunes it like any old run). A kill between 2 and 3
leaves history one run ahead of `latest`: the next scan first moves `latest` to history's last
run (roll forward), and `history`/`diff` read only history, so they never see the gap. So
`latest` always names a run that history records, or the one it named before.
Every step is named in driftcheck.nightly.steps, with a kill point for the crash tests.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from driftcheck.atomic import write_atomic
from driftcheck.errors import UsageError
from driftcheck.fleet.since import Snapshot, Stored
from driftcheck.model.document import HistoryRow, Report, RunDiff
from driftcheck.nightly.deltas import annotate, diff_runs
from driftcheck.nightly.history import HISTORY_FILE, History
from driftcheck.nightly.replay import recorded_report
from driftcheck.nightly.reportdir import ReportDir, open_report_dir, output_errors
from driftcheck.nightly.runs import (
    RUNS,
    complete_runs,
    latest_id,
    point_latest,
    prune_runs,
    write_run_folder,
)
from driftcheck.nightly.steps import reached
from driftcheck.nightly.trend import DEFAULT_TREND, history_block
from driftcheck.nightly.waivers import Waiver, apply_waivers
from driftcheck.render.formats import render

__all__ = [
    "HISTORY_FILE",
    "PublishOptions",
    "history_rows",
    "host_strip",
    "last_surfaces",
    "publish",
    "recorded",
    "run_diff",
]

# The files of one run folder, by the format they are rendered in.
RUN_FILES = {"report.txt": "text", "report.json": "json", "report.html": "html"}


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


def publish(
    report: Report,
    options: PublishOptions,
    root: ReportDir | None = None,
    snapshots: Mapping[str, Snapshot] | None = None,
) -> Report:
    """Apply waivers and history, write every file; return the report as published. `root` is
    the open, locked report directory (driftcheck.nightly.lock.locked_report_dir); `snapshots`
    the hosts' surfaces its history keeps (pipeline.scan_fleet)."""
    if options.waivers is not None:
        report = apply_waivers(report, options.waivers, options.today or dt.date.today())
    if root is not None:
        with output_errors(root.path):
            report = _archive(report, root, options, snapshots)
    for path, fmt in ((options.junit, "junit"), (options.prometheus, "prometheus")):
        if path is not None:
            with output_errors(path):
                write_atomic(path, render(fmt, report))
    return report


def _archive(
    report: Report,
    root: ReportDir,
    options: PublishOptions,
    snapshots: Mapping[str, Snapshot] | None,
) -> Report:
    history = History.in_report_dir(root, create=True)
    if history is None:  # create=True always gives one; this keeps mypy honest
        raise UsageError(f"{root.at(HISTORY_FILE)}: could not be created")
    try:
        _roll_forward(root, history)
        reached("history-opened")
        report = annotate(report, history)
        report = with_history(report, history, root, options)
        files = {name: render(fmt, report).encode() for name, fmt in RUN_FILES.items()}
        folder = write_run_folder(root, report, files, reached)
        reached("run-folder-renamed")
        with _removed_on_failure(root, folder.name, history):
            history.record(report, snapshots)
        reached("history-recorded")
        point_latest(root, folder.name)
        reached("latest-moved")
        _stable_links(root)
        reached("links-updated")
        if options.keep_history is not None:
            history.prune(options.keep_history)
        reached("history-pruned")
    finally:
        history.close()
    if options.keep is not None:
        prune_runs(root, options.keep, reached)
    reached("runs-pruned")
    return report


def with_history(
    report: Report, history: History, root: ReportDir, options: PublishOptions
) -> Report:
    """`report` with its `history` block (trend and host strips) when there are past runs."""
    names = [h["name"] for h in report["hosts"]]
    past = history.trend(options.trend - 1, hosts=names) if options.trend > 1 else None
    if past is None or not past.runs:
        return report
    return {
        **report,
        "history": history_block(report, past.runs, past.statuses, _kept(root, options.keep)),
    }


def _kept(root: ReportDir, keep: int | None) -> list[str]:
    """Past run folders that survive this run's pruning: the trend links to those only."""
    names = [p.name for p in complete_runs(root)]
    if keep is None:
        return names
    return names[max(0, len(names) - (keep - 1)) :] if keep > 1 else []


def _roll_forward(root: ReportDir, history: History) -> None:
    """A scan killed after recording history but before moving `latest` left `latest` one run
    behind: move it to history's last run, whose folder is complete (it was renamed before the
    record). Also repairs a directory left by an older driftcheck that moved `latest` first."""
    last = history.last_run_id()
    if last is None or latest_id(root) == last:
        return
    if last in {path.name for path in complete_runs(root)}:
        point_latest(root, last)


@contextlib.contextmanager
def _removed_on_failure(root: ReportDir, run_id: str, history: History) -> Iterator[None]:
    """A run history could not record (disk full) is no run: remove its folder, best effort.
    One stopped (SIGTERM, Ctrl-C) just after history committed it is a run: kept."""
    try:
        yield
    except BaseException:
        if not _recorded(history, run_id):
            with contextlib.suppress(OSError), root.subdir(RUNS) as runs:
                runs.remove(run_id)
        raise


def _recorded(history: History, run_id: str) -> bool:
    """Whether history holds the run; when it cannot say, the folder is kept (a folder no
    history names is pruned like any old run; one it names must never go)."""
    try:
        return history.last_run_id() == run_id
    except sqlite3.Error:
        return True


def _stable_links(root: ReportDir) -> None:
    """REPORT_DIR/report.json etc. always name the newest complete run's files."""
    for name in RUN_FILES:
        if root.readlink(name) != f"latest/{name}":
            root.link(name, f"latest/{name}")


@contextlib.contextmanager
def _reading(report_dir: Path) -> Iterator[History]:
    """The history of an existing report directory, for `history` and `diff`."""
    with _reading_dir(report_dir) as (_root, history):
        yield history


@contextlib.contextmanager
def _reading_dir(report_dir: Path) -> Iterator[tuple[ReportDir, History]]:
    """An existing report directory, opened as the scans open it, and its history."""
    missing = UsageError(f"{report_dir}: no {HISTORY_FILE} (run a scan with --report-dir first)")
    if not os.path.isdir(report_dir):
        raise missing
    with open_report_dir(report_dir, create=False) as root, output_errors(root.path, "cannot read"):
        history = History.in_report_dir(root, create=False)
        if history is None:
            raise missing
        try:
            yield root, history
        finally:
            history.close()


@contextlib.contextmanager
def last_surfaces(root: ReportDir, names: list[str]) -> Iterator[dict[str, Stored]]:
    """Each named host's surface as the history last recorded it (empty before the first run
    that kept one), open for the scan to compare with (pipeline.RunOptions.previous)."""
    history = History.in_report_dir(root, create=False)
    if history is None:
        yield {}
        return
    try:
        with output_errors(root.path, "cannot read"):
            found = history.last_surfaces(names)
        yield found
    finally:
        history.close()


# A line of `driftcheck history` by field name: a RunSummary's fields, all scalars.


def history_rows(report_dir: Path, host: str | None, limit: int) -> list[HistoryRow]:
    with _reading(report_dir) as history:
        return [vars(row) for row in history.runs(host, limit)]


def recorded(report_dir: Path, run_ref: str, trend: int) -> Report:
    """A recorded run as a report, with its trend up to it (driftcheck.nightly.replay)."""
    with _reading_dir(report_dir) as (root, history):
        return recorded_report(root, history, run_ref, trend)


def host_strip(report_dir: Path, host: str, limit: int) -> str:
    """One host's status letters over the last `limit` runs, oldest first ("-": not in it)."""
    with _reading(report_dir) as history:
        trend = history.trend(limit, hosts=[host])
    return trend.statuses.get(host, "")


def run_diff(report_dir: Path, run_a: str, run_b: str) -> RunDiff:
    with _reading(report_dir) as history:
        return diff_runs(history.findings_of(run_a), history.findings_of(run_b))
