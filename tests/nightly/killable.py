"""A child process for the crash tests: it does one nightly step, stops half-way and says
PAUSED on stdout, then blocks on stdin until the test kills it (SIGKILL).

    python killable.py lock     REPORT_DIR
    python killable.py files    REPORT_DIR REPORT.json   # killed between two files of a run
    python killable.py history  REPORT_DIR REPORT.json   # killed inside the history transaction
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from driftcheck.nightly import history as history_module
from driftcheck.nightly import reportdir, runs
from driftcheck.nightly.deltas import annotate
from driftcheck.nightly.history import History
from driftcheck.nightly.lock import locked_report_dir
from driftcheck.nightly.reportdir import ReportDir


def pause() -> None:
    print("PAUSED", flush=True)
    sys.stdin.read()  # the test never writes: this blocks until the kill
    raise SystemExit("not killed")


def files(root: ReportDir, report: dict[str, Any]) -> None:
    real = reportdir.write_atomic_at
    written = []

    def write_then_pause(dir_fd: int, name: str, data: bytes | str, mode: int = 0o644) -> None:
        real(dir_fd, name, data, mode)
        written.append(name)
        if len(written) == 2:
            pause()

    reportdir.write_atomic_at = write_then_pause  # type: ignore[assignment]
    files_ = {"report.json": json.dumps(report).encode(), "report.txt": b"t", "report.html": b"h"}
    runs.write_run(root, report, files_)


def history(root: ReportDir, report: dict[str, Any]) -> None:
    db = History(root.at("history.sqlite"))
    db._db.execute("PRAGMA cache_size = 1")  # spill uncommitted pages into the WAL
    real = history_module.History._insert_findings

    def insert_then_pause(self: History, seq: int, report_: Any) -> None:
        real(self, seq, report_)
        pause()

    history_module.History._insert_findings = insert_then_pause  # type: ignore[method-assign]
    db.record(annotate(report, db))


def main() -> None:
    mode, report_dir = sys.argv[1], Path(sys.argv[2])
    with locked_report_dir(report_dir) as root:
        if mode == "lock":
            pause()
        report = json.loads(Path(sys.argv[3]).read_text())
        {"files": files, "history": history}[mode](root, report)


if __name__ == "__main__":
    main()
