"""Run folders, `latest`, pruning and atomic writes on real directories."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from driftcheck.atomic import replace_symlink, write_atomic
from driftcheck.errors import ReportDirError
from driftcheck.nightly.deltas import annotate
from driftcheck.nightly.history import History
from driftcheck.nightly.publish import _removed_on_failure
from driftcheck.nightly.reportdir import ReportDir
from driftcheck.nightly.runs import (
    complete_runs,
    latest_run,
    prune_runs,
    write_run,
    write_run_folder,
)

from .reports import host, report


def test_write_atomic_replaces_with_mode_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "driftcheck.prom"
    write_atomic(target, "old\n")
    write_atomic(target, b"new\n", mode=0o600)
    assert target.read_bytes() == b"new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ["driftcheck.prom"]


def test_write_atomic_failure_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    write_atomic(target, "old")
    with pytest.raises(TypeError):
        write_atomic(target, 42)  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["report.json"]


def test_replace_symlink(tmp_path: Path) -> None:
    replace_symlink(tmp_path / "latest", "runs/a")
    replace_symlink(tmp_path / "latest", "runs/b")
    assert os.readlink(tmp_path / "latest") == "runs/b"
    assert sorted(os.listdir(tmp_path)) == ["latest"]


def test_write_run_layout_and_latest(tmp_path: Path, root: ReportDir) -> None:
    first, second = report(1, [host("web01")]), report(2, [host("web01")])
    one = write_run(root, first, {"report.json": b"1", "report.txt": b"one"})
    assert latest_run(root) == one
    two = write_run(root, second, {"report.json": b"2"})
    assert two == tmp_path / "runs" / second["run"]["id"]
    assert os.readlink(tmp_path / "latest") == f"runs/{second['run']['id']}"  # relative: movable
    assert (tmp_path / "latest" / "report.json").read_bytes() == b"2"
    assert (one / "report.txt").read_bytes() == b"one"
    with pytest.raises(ReportDirError, match="already written"):
        write_run(root, second, {"report.json": b"again"})
    with pytest.raises(ValueError, match="plain file name"):
        write_run(root, report(3, []), {"../escape": b"x"})


def test_prune_keeps_newest_and_latest(tmp_path: Path, root: ReportDir) -> None:
    dirs = [write_run(root, report(n, []), {"r": b""}) for n in range(1, 6)]
    assert latest_run(root) is None or latest_run(root) == dirs[-1]
    assert prune_runs(root, keep=2) == dirs[:3]
    assert complete_runs(root) == dirs[3:]
    assert prune_runs(root, keep=2) == []
    with pytest.raises(ValueError, match="at least 1"):
        prune_runs(root, keep=0)


def test_prune_never_removes_what_latest_names(tmp_path: Path, root: ReportDir) -> None:
    dirs = [write_run(root, report(n, []), {"r": b""}) for n in (1, 2, 3)]
    replace_symlink(tmp_path / "latest", f"runs/{dirs[0].name}")  # e.g. a clock set back
    assert prune_runs(root, keep=1) == [dirs[1]]
    assert latest_run(root) == dirs[0]


def test_a_run_stopped_after_history_recorded_it_keeps_its_folder(
    tmp_path: Path, root: ReportDir
) -> None:
    """Ctrl-C or SIGTERM between history's commit and the next step: history names the run, so
    its folder stays; a record that failed (nothing committed) removes it."""
    kept, failed = report(1, [host("web01")]), report(2, [host("web01")])
    with History(tmp_path / "history.sqlite") as history:
        folder = write_run_folder(root, kept, {"report.json": b"1"}, lambda _step: None)

        def stopped_after_commit() -> None:
            with _removed_on_failure(root, folder.name, history):
                history.record(annotate(kept, history))
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            stopped_after_commit()
        assert folder.is_dir()
        other = write_run_folder(root, failed, {"report.json": b"2"}, lambda _step: None)

        def stopped_before_commit() -> None:
            with _removed_on_failure(root, other.name, history):
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            stopped_before_commit()
        assert not other.exists()
