"""Run folders: REPORT_DIR/runs/<run-id>/ holds one run's files; REPORT_DIR/latest points at the
newest complete and recorded one.

A run is written into `runs/.<run-id>.partial/` (each file atomically), the folder is renamed to
`runs/<run-id>/` in one step; publish() then records it in history and only then repoints
`latest` (a symlink replaced by rename). A scan killed at any point leaves earlier runs and
`latest` as they were; what it leaves behind is a `.partial` folder, removed by the next
`prune_runs`. Run ids sort by time (`20261128T030000Z-3f9a`), so folder names sort in run order.

Everything goes through the report directory's fd (nightly/reportdir.py): a symlinked `runs/`
is refused; an entry of `runs/` that is not a real directory (a planted symlink) is no run: it is
skipped, never followed, and never makes a later run fail.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from pathlib import Path

from driftcheck.errors import ReportDirError
from driftcheck.model.document import Report
from driftcheck.nightly.reportdir import ReportDir

RUNS = "runs"
LATEST = "latest"
PARTIAL = ".partial"
REMOVING = ".removing"  # an old run being pruned: renamed first, so it is never half a run
_LEFTOVERS = (PARTIAL, REMOVING)


def _nothing(step: str) -> None:
    pass


def write_run_folder(
    root: ReportDir,
    report: Report,
    files: Mapping[str, bytes],
    reached: Callable[[str], None] = _nothing,
) -> Path:
    """Write `files` (name -> content) as the complete folder runs/<id>/ of `report`; `latest`
    does not move. Return the folder."""
    run_id = _run_id(report)
    with root.subdir(RUNS) as runs:
        if runs.lstat(run_id) is not None:
            raise ReportDirError(f"{runs.at(run_id)}: a run with this id was already written")
        partial = f".{run_id}{PARTIAL}"
        runs.remove(partial)
        runs.mkdir(partial)
        try:
            with runs.subdir(partial) as folder:
                for name, data in files.items():
                    folder.write(_plain_name(name), data)
                folder.fsync()
        except BaseException:
            with contextlib.suppress(OSError):  # frees the space of a run that could not be
                runs.remove(partial)
            raise
        reached("run-files-written")
        runs.rename(partial, run_id)
        runs.fsync()
        return runs.at(run_id)


def point_latest(root: ReportDir, run_id: str) -> None:
    """Repoint `latest` at runs/<run_id> (relative, so the report directory can move)."""
    root.link(LATEST, f"{RUNS}/{_plain_name(run_id)}")


def write_run(root: ReportDir, report: Report, files: Mapping[str, bytes]) -> Path:
    """write_run_folder, then `latest`: for a run that no history records."""
    folder = write_run_folder(root, report, files)
    point_latest(root, folder.name)
    return folder


def latest_id(root: ReportDir) -> str | None:
    """The run `latest` names, if it is `runs/<id>` and that is a real run folder."""
    target = root.readlink(LATEST)
    if target is None or not target.startswith(f"{RUNS}/"):
        return None
    run_id = target.removeprefix(f"{RUNS}/")
    return run_id if _is_plain(run_id) and run_id in _run_names(root) else None


def latest_run(root: ReportDir) -> Path | None:
    """The folder `latest` points at, or None before the first complete run."""
    run_id = latest_id(root)
    return None if run_id is None else root.at(RUNS) / run_id


def complete_runs(root: ReportDir) -> list[Path]:
    """Complete run folders, oldest first."""
    return [root.at(RUNS) / name for name in _run_names(root)]


def prune_runs(root: ReportDir, keep: int, reached: Callable[[str], None] = _nothing) -> list[Path]:
    """Remove all but the newest `keep` run folders (never the one `latest` names) and any
    `.partial` folder a killed scan left. Call it under the report directory's lock."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1, not {keep}")
    names = _run_names(root)
    latest = latest_id(root)
    doomed = [name for name in names[: max(0, len(names) - keep)] if name != latest]
    with root.existing_subdir(RUNS) as runs:
        if runs is None:
            return []
        leftovers = [n for n in runs.names() if n.startswith(".") and n.endswith(_LEFTOVERS)]
        for name in doomed:
            # Renamed first: a kill during the removal leaves a leftover, never half a run.
            runs.rename(name, f".{name}{REMOVING}")
            reached("run-folder-doomed")
            runs.remove(f".{name}{REMOVING}")
        for name in leftovers:
            runs.remove(name)
        if doomed or leftovers:
            runs.fsync()
    return [root.at(RUNS) / name for name in doomed + leftovers]


def _run_names(root: ReportDir) -> list[str]:
    with root.existing_subdir(RUNS) as runs:
        if runs is None:
            return []
        return [n for n in runs.names() if not n.startswith(".") and runs.is_dir(n)]


def _run_id(report: Report) -> str:
    run_id = str(report["run"]["id"])  # a report read back could hold anything there
    if not _is_plain(run_id):
        raise ValueError(f"not a usable run id: {run_id!r}")
    return run_id


def _is_plain(name: str) -> bool:
    return bool(name) and not name.startswith(".") and "/" not in name and "\0" not in name


def _plain_name(name: str) -> str:
    if not _is_plain(name):
        raise ValueError(f"not a plain file name: {name!r}")
    return name
