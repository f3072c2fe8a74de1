"""Real processes: a second scan against a held lock, and scans killed with SIGKILL half-way."""

from __future__ import annotations

import json
import os
import selectors
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from driftcheck.errors import ExitStatus, LockedError
from driftcheck.nightly.deltas import annotate
from driftcheck.nightly.history import History
from driftcheck.nightly.lock import locked_report_dir
from driftcheck.nightly.reportdir import ReportDir
from driftcheck.nightly.runs import (
    complete_runs,
    latest_run,
    point_latest,
    prune_runs,
    write_run_folder,
)

from .reports import finding, host, report

KILLABLE = Path(__file__).with_name("killable.py")


@contextmanager
def paused_child(*args: str | Path) -> Iterator[subprocess.Popen[str]]:
    """Start killable.py; yield once it has said PAUSED; SIGKILL it on the way out."""
    child = subprocess.Popen(
        [sys.executable, str(KILLABLE), *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(child.stdout, selectors.EVENT_READ)
            ready = selector.select(timeout=60)
        line = child.stdout.readline() if ready else ""
        assert line == "PAUSED\n", f"child said {line!r}; stderr: {child.stderr.read()}"
        yield child
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdin.close()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL


def complete_night(report_dir: Path, number: int, hosts: list[dict]) -> dict:
    with locked_report_dir(report_dir) as root, History(report_dir / "history.sqlite") as history:
        done = annotate(report(number, hosts), history)
        folder = write_run_folder(root, done, {"report.json": json.dumps(done).encode()})
        history.record(done)
        point_latest(root, folder.name)
    return done


def test_second_process_gets_locked_error(tmp_path: Path) -> None:
    with paused_child("lock", tmp_path) as holder:
        with pytest.raises(LockedError) as caught, locked_report_dir(tmp_path):
            pytest.fail("took a lock another process holds")
        assert str(caught.value) == (
            f"another driftcheck scan holds {tmp_path / '.lock'} (pid {holder.pid})"
        )
        assert caught.value.exit_status == ExitStatus.LOCKED == 75
    with locked_report_dir(tmp_path):  # the kernel dropped the dead holder's lock
        pass


def test_lock_is_exclusive_within_one_process_too(tmp_path: Path) -> None:
    with locked_report_dir(tmp_path), pytest.raises(LockedError), locked_report_dir(tmp_path):
        pass
    with locked_report_dir(tmp_path):
        assert (tmp_path / ".lock").read_text() == f"{os.getpid()}\n"


def test_killed_between_files_keeps_latest_on_last_complete_run(
    tmp_path: Path, root: ReportDir
) -> None:
    first = complete_night(tmp_path, 1, [host("web01", [finding("x")])])
    first_dir = latest_run(root)
    before = (first_dir / "report.json").read_bytes()
    second = report(2, [host("web01", [finding("x"), finding("y")])])
    report_file = tmp_path / "second.json"
    report_file.write_text(json.dumps(second))

    with paused_child("files", tmp_path, report_file):
        partial = tmp_path / "runs" / f".{second['run']['id']}.partial"
        assert sorted(p.name for p in partial.iterdir()) == ["report.json", "report.txt"]

    assert latest_run(root) == first_dir
    assert (tmp_path / "latest" / "report.json").read_bytes() == before
    assert complete_runs(root) == [first_dir]
    with History(tmp_path / "history.sqlite") as history:
        assert history.previous_run().id == first["run"]["id"]
    # The next scan takes the lock at once, cleans the leftovers and completes.
    third = complete_night(tmp_path, 3, [host("web01")])
    assert prune_runs(root, keep=5) == [partial]
    assert latest_run(root).name == third["run"]["id"]
    assert [p.name for p in complete_runs(root)] == [first["run"]["id"], third["run"]["id"]]


def test_killed_inside_history_transaction(tmp_path: Path, root: ReportDir) -> None:
    first = complete_night(tmp_path, 1, [host("web01", [finding("x")])])
    many = [finding(f"pkg{i:04}") for i in range(3000)]  # enough to spill pages into the WAL
    second = report(2, [host("web01", many), host("web02", status="unreachable")])
    report_file = tmp_path / "second.json"
    report_file.write_text(json.dumps(second))

    with paused_child("history", tmp_path, report_file):
        wal = tmp_path / "history.sqlite-wal"
        assert wal.stat().st_size > 64 * 1024  # uncommitted rows really are on disk

    with sqlite3.connect(tmp_path / "history.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with History(tmp_path / "history.sqlite") as history:
        assert [r.id for r in history.runs()] == [first["run"]["id"]]
        assert history.previous_run().hosts["web01"].findings.keys() == {
            ("host", "package", "x", "unexpected")
        }
    assert latest_run(root).name == first["run"]["id"]
    third = complete_night(tmp_path, 3, [host("web01", [finding("x")])])
    assert third["changes"]["previous_run"] == first["run"]["id"]
    assert third["changes"]["new"] == []
