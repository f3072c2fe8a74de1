"""Run folders: REPORT_DIR/runs/<run-id>/ holds one run's files; REPORT_DIR/latest points at the
newest complete one.

A run is written into `runs/.<run-id>.partial/` (each file atomically), the folder is renamed to
`runs/<run-id>/` in one step, and only then is `latest` repointed (a symlink replaced by rename).
So a scan killed at any point leaves earlier runs and `latest` as they were; what it leaves
behind is a `.partial` folder, removed by the next `prune_runs`. Run ids sort by time
(`20261128T030000Z-3f9a`), so folder names sort in run order.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from driftcheck.atomic import fsync_dir, replace_symlink, write_atomic

RUNS = "runs"
LATEST = "latest"
PARTIAL = ".partial"


def write_run(report_dir: Path, report: Mapping[str, Any], files: Mapping[str, bytes]) -> Path:
    """Write `files` (name -> content) as the run folder of `report`; return that folder."""
    run_id = _run_id(report)
    runs = Path(report_dir) / RUNS
    runs.mkdir(parents=True, exist_ok=True)
    final = runs / run_id
    if final.exists():
        raise FileExistsError(f"{final}: a run with this id was already written")
    partial = runs / f".{run_id}{PARTIAL}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    for name, data in files.items():
        write_atomic(partial / _plain_name(name), data)
    fsync_dir(partial)
    partial.rename(final)
    fsync_dir(runs)
    replace_symlink(Path(report_dir) / LATEST, f"{RUNS}/{run_id}")
    return final


def latest_run(report_dir: Path) -> Path | None:
    """The folder `latest` points at, or None before the first complete run."""
    link = Path(report_dir) / LATEST
    return link.resolve() if link.is_symlink() and link.exists() else None


def complete_runs(report_dir: Path) -> list[Path]:
    """Complete run folders, oldest first."""
    runs = Path(report_dir) / RUNS
    if not runs.is_dir():
        return []
    return sorted(p for p in runs.iterdir() if p.is_dir() and not p.name.startswith("."))


def prune_runs(report_dir: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` run folders (never the one `latest` names) and any
    `.partial` folder a killed scan left. Call it under the report directory's lock."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1, not {keep}")
    latest = latest_run(report_dir)
    runs = complete_runs(report_dir)
    doomed = [p for p in runs[: max(0, len(runs) - keep)] if p.resolve() != latest]
    doomed += _partials(report_dir)
    for path in doomed:
        shutil.rmtree(path)
    if doomed:
        fsync_dir(Path(report_dir) / RUNS)
    return doomed


def _partials(report_dir: Path) -> list[Path]:
    runs = Path(report_dir) / RUNS
    return sorted(p for p in runs.glob(f".*{PARTIAL}") if p.is_dir())


def _run_id(report: Mapping[str, Any]) -> str:
    run_id = str(report["run"]["id"])
    if not run_id or run_id.startswith(".") or "/" in run_id or "\0" in run_id:
        raise ValueError(f"not a usable run id: {run_id!r}")
    return run_id


def _plain_name(name: str) -> str:
    if not name or name.startswith(".") or "/" in name or "\0" in name:
        raise ValueError(f"not a plain file name: {name!r}")
    return name
