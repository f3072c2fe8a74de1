"""A scan killed (SIGKILL) or stopped (SIGTERM) right after each publishing step leaves the report
directory with the old run or the new one, complete in both `latest` and history; the next scan
succeeds and announces only what is new against what history recorded; `history` and `diff`
work."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from driftcheck.nightly.steps import KILL_ENV, SIGNAL_ENV, STEPS

from .cli import MISSING, driftcheck, history_ids, inventory, latest_id, scan, scanned


def new_items(report: dict) -> list[str]:
    return [f["item"] for f in report["changes"]["new"]]


@pytest.mark.parametrize("step", STEPS)
def test_killed_after_step_leaves_one_complete_run(tmp_path: Path, step: str) -> None:
    reports = tmp_path / "reports"
    first = scanned(inventory(tmp_path / "a"), reports)
    hosts = inventory(tmp_path / "b", missing=True)  # the killed run has one new finding
    keep = ("--keep", "1", "--keep-history", "2")  # so the pruning steps run too

    killed = scan(hosts, reports, *keep, env={KILL_ENV: step})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    _one_complete_run_then_the_next(reports, first, hosts, keep)


@pytest.mark.parametrize("step", STEPS)
def test_sigterm_after_step_exits_143_and_leaves_one_complete_run(
    tmp_path: Path, step: str
) -> None:
    """SIGTERM is raised as an exception where it lands: the clean-up on the way out (partial
    files and folders removed, a transaction rolled back) keeps what a kill keeps."""
    reports = tmp_path / "reports"
    first = scanned(inventory(tmp_path / "a"), reports)
    hosts = inventory(tmp_path / "b", missing=True)
    keep = ("--keep", "1", "--keep-history", "2")

    stopped = scan(hosts, reports, *keep, env={KILL_ENV: step, SIGNAL_ENV: "TERM"})
    assert stopped.returncode == 143, stopped.stderr
    assert stopped.stderr == "driftcheck: terminated (SIGTERM)\n"
    assert stopped.stdout == ""  # a stopped run prints no report
    _one_complete_run_then_the_next(reports, first, hosts, keep)


def _one_complete_run_then_the_next(
    reports: Path, first: dict, hosts: Path, keep: tuple[str, ...]
) -> None:
    recorded = history_ids(reports)
    latest = latest_id(reports)
    assert latest in recorded or latest == first["run"]["id"]
    shown = json.loads((reports / "latest" / "report.json").read_text())
    assert shown["run"]["id"] == latest  # latest is a complete run folder
    assert json.loads((reports / "report.json").read_text())["run"]["id"] in (latest, *recorded)

    after = scanned(hosts, reports, *keep)
    assert after["changes"]["previous_run"] == recorded[0]
    # News is news against what history recorded: the killed run's finding is announced once.
    assert new_items(after) == ([] if recorded[0] != first["run"]["id"] else [MISSING])
    assert latest_id(reports) == after["run"]["id"] == history_ids(reports)[0]
    diff = driftcheck("diff", recorded[0], after["run"]["id"], "--report-dir", reports)
    assert diff.returncode == 0, diff.stderr
    assert not list((reports / "runs").glob(".*")), "leftovers of the killed run not cleaned"


def test_steps_are_all_reached_in_order(tmp_path: Path) -> None:
    """Each named step really is a kill point of a scan (a renamed step cannot go stale)."""
    reports = tmp_path / "reports"
    scanned(inventory(tmp_path / "a"), reports)
    for step in STEPS:
        proc = scan(inventory(tmp_path / "a"), reports, "--keep", "1", env={KILL_ENV: step})
        assert proc.returncode == -signal.SIGKILL, f"{step} never reached: {proc.stderr}"


def test_latest_ahead_of_history_is_repaired(tmp_path: Path) -> None:
    """What the old order left after a kill (latest on a run history does not know): the next
    scan puts latest back on history's last run, then announces the finding once."""
    reports = tmp_path / "reports"
    first = scanned(inventory(tmp_path / "a"), reports)
    hosts = inventory(tmp_path / "b", missing=True)
    killed = scan(hosts, reports, env={KILL_ENV: "run-folder-renamed"})
    assert killed.returncode == -signal.SIGKILL
    (orphan,) = set(os.listdir(reports / "runs")) - {first["run"]["id"]}
    (reports / "latest").unlink()
    (reports / "latest").symlink_to(f"runs/{orphan}")  # as the old order left it

    third = scanned(hosts, reports)
    assert third["changes"]["previous_run"] == first["run"]["id"]
    assert new_items(third) == [MISSING]
    assert new_items(scanned(hosts, reports)) == []
    assert orphan not in history_ids(reports)
