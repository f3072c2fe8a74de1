"""Attacks on the report directory of a root cron job: planted symlinks, loose permissions, a
foreign owner, a read-only or full file system. Nothing outside the directory is touched, and
each refusal is one clear line with its exit status. Real scans of this machine, real mounts."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.tools import require

from .cli import driftcheck, history_ids, inventory, latest_id, scan, scanned

REFUSED = 3
OUTPUT = 74


@pytest.fixture
def hosts(tmp_path: Path) -> Path:
    return inventory(tmp_path / "inventory")


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "victim.txt"
    path.write_text("precious\n")
    return path


def assert_refused(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == REFUSED, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "internal error" not in proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr


def test_symlink_at_lock_is_refused(hosts: Path, victim: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / ".lock").symlink_to(victim)
    assert_refused(scan(hosts, reports), f"{reports / '.lock'} is a symlink")
    assert victim.read_text() == "precious\n"


def test_hard_link_at_lock_is_refused(hosts: Path, victim: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    os.link(victim, reports / ".lock")
    assert_refused(scan(hosts, reports), f"{reports / '.lock'} has another hard link")
    assert victim.read_text() == "precious\n"


@pytest.mark.parametrize("name", [".lock", "history.sqlite"])
@pytest.mark.parametrize("make", [os.mkfifo, os.mkdir])
def test_special_file_is_refused(hosts: Path, tmp_path: Path, name: str, make: Any) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    make(reports / name)
    assert_refused(scan(hosts, reports), f"{reports / name} is not a regular file")


def test_symlinked_leftover_in_runs_is_unlinked_not_followed(hosts: Path, tmp_path: Path) -> None:
    reports, outside = tmp_path / "reports", tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    scanned(hosts, reports)
    (reports / "runs" / ".20000101T000000Z-dead.partial").symlink_to(outside)
    scanned(hosts, reports, "--keep", "1")
    assert (outside / "keep.txt").read_text() == "mine"
    assert not (reports / "runs" / ".20000101T000000Z-dead.partial").is_symlink()


def test_dangling_symlink_at_history_creates_nothing(hosts: Path, tmp_path: Path) -> None:
    reports, target = tmp_path / "reports", tmp_path / "elsewhere.sqlite"
    reports.mkdir()
    (reports / "history.sqlite").symlink_to(target)
    assert_refused(scan(hosts, reports), "history.sqlite is a symlink")
    assert not target.exists()
    assert not (reports / "latest").exists()


@pytest.mark.parametrize("side", ["-wal", "-shm", "-journal"])
def test_symlink_at_sqlite_side_file(hosts: Path, tmp_path: Path, side: str) -> None:
    reports, target = tmp_path / "reports", tmp_path / f"elsewhere{side}"
    scanned(hosts, reports)
    (reports / f"history.sqlite{side}").symlink_to(target)
    assert_refused(scan(hosts, reports), f"history.sqlite{side} is a symlink")
    assert not target.exists()


def test_symlinked_run_folder_is_skipped_not_followed(hosts: Path, tmp_path: Path) -> None:
    reports, outside = tmp_path / "reports", tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    first = scanned(hosts, reports)
    (reports / "runs" / "20000101T000000Z-dead").symlink_to(outside)  # sorts first: "oldest"
    for _ in range(2):  # not once: every later run must keep working
        scanned(hosts, reports, "--keep", "1")
    assert (outside / "keep.txt").read_text() == "mine"
    assert first["run"]["id"] not in os.listdir(reports / "runs")  # pruning still works
    assert driftcheck("history", "--report-dir", reports).returncode == 0


def test_symlinked_runs_dir_is_refused(hosts: Path, tmp_path: Path) -> None:
    reports, outside = tmp_path / "reports", tmp_path / "outside"
    outside.mkdir()
    reports.mkdir()
    (reports / "runs").symlink_to(outside)
    assert_refused(scan(hosts, reports), f"{reports / 'runs'} is a symlink")
    assert os.listdir(outside) == []


def test_symlinked_latest_is_replaced_never_followed(hosts: Path, tmp_path: Path) -> None:
    reports, outside = tmp_path / "reports", tmp_path / "outside"
    outside.mkdir()
    (outside / "report.json").write_text("{}")
    scanned(hosts, reports)
    (reports / "latest").unlink()
    (reports / "latest").symlink_to(outside)
    done = scanned(hosts, reports, "--keep", "1")
    assert latest_id(reports) == done["run"]["id"]
    assert os.listdir(outside) == ["report.json"]
    assert (outside / "report.json").read_text() == "{}"


def test_directory_planted_at_latest_is_refused_clearly(hosts: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    scanned(hosts, reports)
    (reports / "latest").unlink()
    (reports / "latest").mkdir()
    assert_refused(scan(hosts, reports), f"{reports / 'latest'} is a directory")


def test_symlinked_report_dir_is_refused(hosts: Path, tmp_path: Path) -> None:
    real, link = tmp_path / "real", tmp_path / "reports"
    real.mkdir(mode=0o755)
    link.symlink_to(real)
    assert_refused(scan(hosts, link), "is a symlink")
    assert os.listdir(real) == []


@pytest.mark.parametrize("mode", [0o777, 0o1777, 0o775])
def test_loose_report_dir_is_refused(hosts: Path, tmp_path: Path, mode: int) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    reports.chmod(mode)
    assert_refused(scan(hosts, reports), "group- or world-writable", f"chmod go-w {reports}")
    assert os.listdir(reports) == []


def test_report_dir_of_another_user_is_refused(hosts: Path, tmp_path: Path) -> None:
    require(os.geteuid() == 0, "chown to another uid needs root")
    reports = tmp_path / "reports"
    reports.mkdir(mode=0o755)
    os.chown(reports, 65534, 65534)
    assert_refused(scan(hosts, reports), "owned by uid 65534")
    assert os.listdir(reports) == []


def test_monitoring_files_replace_a_planted_symlink_not_its_target(
    hosts: Path, victim: Path, tmp_path: Path
) -> None:
    prom, junit = tmp_path / "driftcheck.prom", tmp_path / "junit.xml"
    prom.symlink_to(victim)
    junit.symlink_to(victim)
    proc = driftcheck("scan", "-i", hosts, "--prometheus", prom, "--junit", junit)
    assert proc.returncode in (0, 1), proc.stderr
    assert victim.read_text() == "precious\n"
    assert not prom.is_symlink()
    assert "driftcheck_hosts" in prom.read_text()
    assert not junit.is_symlink()
    assert "<testsuites" in junit.read_text()


# --- read-only and full file systems: real tmpfs mounts -----------------------------------


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    require(mounted.returncode == 0, f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def assert_output_error(proc: subprocess.CompletedProcess[str], reason: str) -> None:
    assert proc.returncode == OUTPUT, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert reason in proc.stderr.lower(), proc.stderr
    assert "internal error" not in proc.stderr
    assert "not a usable" not in proc.stderr


def test_read_only_report_dir_says_so_with_exit_74(hosts: Path, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "mnt", "4m") as reports:
        first = scanned(hosts, reports)
        subprocess.run(["mount", "-o", "remount,ro", str(reports)], check=True)
        assert_output_error(scan(hosts, reports), "read-only file system")
        assert latest_id(reports) == first["run"]["id"]
        assert history_ids(reports) == [first["run"]["id"]]  # reading still works


def fill(directory: Path, leave: int) -> Path:
    """Fill the file system of `directory` up to `leave` free bytes."""
    filler = directory / "filler"
    st = os.statvfs(directory)
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.write(fd, b"\0" * max(0, st.f_bavail * st.f_frsize - leave))
        while leave == 0:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass  # full: that was the point
    finally:
        os.close(fd)
    return filler


@pytest.mark.parametrize("leave", [0, 8 * 1024, 48 * 1024])
def test_full_disk_says_no_space(hosts: Path, tmp_path: Path, leave: int) -> None:
    with tmpfs(tmp_path / "mnt", "2m") as reports:
        first = scanned(hosts, reports)
        before = (reports / "report.json").read_bytes()
        filler = fill(reports, leave)
        proc = scan(inventory(tmp_path / "big", missing=True), reports)
        assert_output_error(proc, "no space left on device")
        assert (reports / "report.json").read_bytes() == before
        assert latest_id(reports) == first["run"]["id"]
        filler.unlink()
        assert history_ids(reports) == [first["run"]["id"]]
        again = scanned(hosts, reports)
        assert again["changes"]["previous_run"] == first["run"]["id"]
        assert json.loads((reports / "report.json").read_text())["run"]["id"] == again["run"]["id"]
