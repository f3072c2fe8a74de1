"""Nightly mode end to end: the real CLI, three runs against the lab with drift added and removed
between them, two scans racing for the report directory, and a scan killed with SIGKILL.

The drift added here is undone in `finally`, so the rest of the session sees the scenario as
tests/lab/scenario.py declares it.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

DRIFTCHECK = str(Path(sys.executable).with_name("driftcheck"))
CONF = "/etc/acme/agent.conf"  # declared mode 0644 on every lab host
QUICK = "web01:web02:app02"  # reachable hosts: a scan of them takes a second or two


def driftcheck(lab: Lab, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DRIFTCHECK, *args], capture_output=True, text=True, timeout=120, check=False
    )


def scan_argv(lab: Lab, report_dir: Path, limit: str, *extra: str) -> list[str]:
    return [
        DRIFTCHECK, "scan", "-i", str(lab.inventory), "--known-hosts", str(lab.known_hosts),
        "-F", str(lab.ssh_config), "--timeout", "10", "--limit", limit,
        "--report-dir", str(report_dir), *extra,
    ]  # fmt: skip


def scan(lab: Lab, report_dir: Path, limit: str = QUICK) -> dict[str, Any]:
    proc = subprocess.run(
        scan_argv(lab, report_dir, limit, "--format", "json"),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def keyed(items: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    return {(f["host"], f["category"], f["item"], f["kind"]) for f in items}


def finding(report: dict[str, Any], host: str, item: str, kind: str) -> dict[str, Any]:
    entry = next(h for h in report["hosts"] if h["name"] == host)
    return next(f for f in entry["findings"] if f["item"] == item and f["kind"] == kind)


def test_three_nights_new_resolved_and_first_seen(
    lab: Lab, tmp_path: Path, drift_undone: None
) -> None:
    reports = tmp_path / "reports"
    first = scan(lab, reports)  # app02 carries the scenario's mode drift
    assert first["changes"]["previous_run"] is None
    assert first["changes"]["line"] == "first recorded run"

    lab.ssh("app02", f"chmod 0644 {CONF}")  # fixed overnight
    lab.ssh("web02", f"chmod 0600 {CONF}")  # someone tightened a mode by hand
    second = scan(lab, reports)
    changes = second["changes"]
    assert changes["previous_run"] == first["run"]["id"]
    assert keyed(changes["new"]) == {("web02", "file", CONF, "mode")}
    assert keyed(changes["resolved"]) == {("app02", "file", CONF, "mode")}
    assert changes["line"].startswith("1 new finding on 1 host, 1 resolved")

    lab.ssh("app02", f"chmod 0666 {CONF}")  # the old drift is back
    third = scan(lab, reports)
    web02 = finding(third, "web02", CONF, "mode")
    assert web02["new"] is False
    assert web02["first_seen"] == second["run"]["started"]  # survives from the night it appeared
    app02 = finding(third, "app02", CONF, "mode")
    assert app02["new"] is True
    assert keyed(third["changes"]["new"]) == {("app02", "file", CONF, "mode")}

    latest = (reports / "latest").resolve()
    assert latest.name == third["run"]["id"]
    assert json.loads((reports / "report.json").read_text())["run"]["id"] == third["run"]["id"]
    history = driftcheck(lab, "history", "--report-dir", str(reports), "--format", "json")
    assert history.returncode == 0, history.stderr
    assert [r["id"] for r in json.loads(history.stdout)] == [
        third["run"]["id"], second["run"]["id"], first["run"]["id"]
    ]  # fmt: skip
    diff = driftcheck(
        lab, "diff", first["run"]["id"], second["run"]["id"], "--report-dir", str(reports),
        "--format", "json",
    )  # fmt: skip
    assert diff.returncode == 0, diff.stderr
    assert keyed(json.loads(diff.stdout)["resolved"]) == {("app02", "file", CONF, "mode")}


def _lock_held(report_dir: Path) -> bool:
    """Whether another process holds REPORT_DIR/.lock (flock conflicts across processes)."""
    try:
        fd = os.open(report_dir / ".lock", os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases a lock we may have taken
    return False


def _start_slow_scan(lab: Lab, report_dir: Path) -> subprocess.Popen[str]:
    """A scan that holds the lock for the hanging host's whole deadline (10 s)."""
    proc = subprocess.Popen(
        scan_argv(lab, report_dir, "web01:hang01", "--quiet"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not _lock_held(report_dir):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the scan never took the report directory's lock"
        time.sleep(0.05)
    return proc


def test_a_second_concurrent_scan_exits_75_at_once(lab: Lab, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    first = _start_slow_scan(lab, reports)
    try:
        started = time.monotonic()
        second = subprocess.run(
            scan_argv(lab, reports, "web01"), capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
        assert second.returncode == 75, second.stderr
        assert time.monotonic() - started < 5  # at once: not after the other scan
        assert ".lock" in second.stderr
        assert second.stdout == ""
    finally:
        rc = first.wait(timeout=60)
    assert rc == 2  # the hanging host was not audited


def test_a_scan_killed_mid_run_loses_nothing(lab: Lab, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    kept = scan(lab, reports, "web01")
    before = (reports / "latest").resolve()
    victim = _start_slow_scan(lab, reports)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert (reports / "latest").resolve() == before
    history = driftcheck(lab, "history", "--report-dir", str(reports), "--format", "json")
    assert history.returncode == 0, history.stderr
    assert [r["id"] for r in json.loads(history.stdout)] == [kept["run"]["id"]]
    after = scan(lab, reports, "web01")  # the lock died with the killed scan
    assert after["changes"]["previous_run"] == kept["run"]["id"]
