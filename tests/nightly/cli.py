"""`driftcheck scan` of this machine (`ansible_connection=local`, no SSH) into a report
directory, as a real subprocess: the crash and hostile-report-directory tests run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MISSING = "driftcheck-test-no-such-package"  # declared present: one finding, every run


def inventory(directory: Path, *, missing: bool = False) -> Path:
    """A one-host inventory of this machine; with `missing`, its state declares a package that
    is not installed (one finding)."""
    (directory / "states").mkdir(parents=True, exist_ok=True)
    extra = f"  {MISSING}: present\n" if missing else ""
    (directory / "states" / "all.yml").write_text(
        f"packages:\n  sh-never-missing-x: absent\n{extra}"
    )
    hosts = directory / "hosts.ini"
    hosts.write_text("localhost ansible_connection=local\n")
    return hosts


def driftcheck(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "driftcheck", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
        env={**os.environ, **(env or {})},
    )


def scan(
    hosts: Path, report_dir: Path, *more: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return driftcheck(
        "scan", "-i", hosts, "--report-dir", report_dir, "--format", "json", *more, env=env
    )


def scanned(hosts: Path, report_dir: Path, *more: str | Path) -> dict[str, Any]:
    """A scan that must succeed (exit 0 or 1); its JSON report."""
    proc = scan(hosts, report_dir, *more)
    assert proc.returncode in (0, 1), proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def history_ids(report_dir: Path) -> list[str]:
    """Run ids in history, newest first, through `driftcheck history` (which must work)."""
    proc = driftcheck("history", "--report-dir", report_dir, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return [row["id"] for row in json.loads(proc.stdout)]


def latest_id(report_dir: Path) -> str:
    target = os.readlink(report_dir / "latest")
    assert target.startswith("runs/"), target
    return target.removeprefix("runs/")
