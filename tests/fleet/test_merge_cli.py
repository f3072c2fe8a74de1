"""4 shard processes + `driftcheck merge` == one full run: statuses, findings, history.

Real processes and real audits: most hosts are this machine (ansible_connection=local, its real
dpkg database), one is a refused TCP port (unreachable), one a listener that never speaks SSH
(held until killed). The lab fleet gives versions that differ; here package spread is checked on
the merged JSON of real reports plus tests/fleet/test_spread.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from driftcheck.fleet.shard import shard_of
from tests.cli import driftcheck

ROOT = Path(__file__).resolve().parent.parent.parent
WEB = [f"web{i:02d}" for i in range(1, 13)]
DB = [f"db{i:02d}" for i in range(1, 7)]


def refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again: connecting is refused


def fleet(root: Path, extra: str = "") -> Path:
    """An inventory of 18 local hosts and one unreachable; snowflakes web03 and db02."""
    lines = ["[web]", *(f"{h} ansible_connection=local" for h in WEB), "[db]"]
    lines += [f"{h} ansible_connection=local" for h in DB]
    lines += [f"gone ansible_host=127.0.0.1 ansible_port={refused_port()}", extra]
    inv = root / "hosts.ini"
    inv.write_text("\n".join(lines) + "\n")
    states = root / "states"
    states.mkdir()
    (states / "all.yml").write_text("packages:\n  dpkg: present\n")
    (states / "web03.yml").write_text("packages:\n  no-such-package-a: present\n")
    (states / "db02.yml").write_text("files:\n  /etc/passwd: {mode: '0600'}\n")
    return inv


def comparable(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    def finding(f: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(f.get(k) for k in ("target", "category", "item", "kind", "expected", "new"))

    return [
        (h["name"], h["status"], h["error"], [finding(f) for f in h["findings"]])
        for h in report["hosts"]
    ]


def changes(report: dict[str, Any]) -> dict[str, Any]:
    keep = ("host", "category", "item", "kind")
    return {
        key: sorted(tuple(f[k] for k in keep) for f in report["changes"][key])
        for key in ("new", "resolved", "carried")
    }


def history(report_dir: Path) -> list[dict[str, Any]]:
    proc = driftcheck("history", "--report-dir", str(report_dir), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    drop = ("id", "started", "finished", "duration", "version")
    return [{k: v for k, v in row.items() if k not in drop} for row in json.loads(proc.stdout)]


def shards(inv: Path, out: Path, count: int = 4) -> list[Path]:
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "driftcheck",
                "scan",
                "-i",
                str(inv),
                "--shard",
                f"{k}/{count}",
                "--report-dir",
                str(out / f"shard{k}"),
                "-q",
            ],
            cwd=ROOT,
        )
        for k in range(1, count + 1)
    ]
    assert [p.wait(timeout=120) for p in procs] != [], "four concurrent processes"
    return [out / f"shard{k}" / "report.json" for k in range(1, count + 1)]


def test_four_shards_merged_equal_one_full_run_history_included(tmp_path: Path) -> None:
    inv = fleet(tmp_path)
    full_dir, fleet_dir = tmp_path / "full", tmp_path / "fleet"
    for round_ in (1, 2):
        if round_ == 2:  # web03 fixed, db05 drifts: one resolved, one new
            (tmp_path / "states" / "web03.yml").unlink()
            (tmp_path / "states" / "db05.yml").write_text("packages:\n  no-such-b: present\n")
        full = driftcheck("scan", "-i", str(inv), "--report-dir", str(full_dir), "--format", "json")
        assert full.returncode == 2, full.stderr  # `gone` is unreachable
        parts = shards(inv, tmp_path / f"round{round_}")
        merged = driftcheck(
            "merge", *map(str, parts), "--report-dir", str(fleet_dir), "--format", "json"
        )
        assert merged.returncode == full.returncode, merged.stderr
        one, many = json.loads(full.stdout), json.loads(merged.stdout)
        assert comparable(many) == comparable(one)
        assert many["summary"] == one["summary"]
        assert changes(many) == changes(one)
        assert many["package_spread"] == one["package_spread"]
        assert many["run"]["merged"]["missing_shards"] == []
    assert changes(many)["new"] == [("db05", "package", "no-such-b", "missing")]
    assert changes(many)["resolved"] == [("web03", "package", "no-such-package-a", "missing")]
    assert history(fleet_dir) == history(full_dir)
    assert len(history(fleet_dir)) == 2  # one record per fleet run, not one per shard
    latest = json.loads((fleet_dir / "latest" / "report.json").read_text())
    assert latest["run"]["id"] == many["run"]["id"]
    text = driftcheck("merge", *map(str, parts))
    assert text.returncode == 2
    assert "gone" in text.stdout


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """Accepts TCP connections and never sends an SSH banner: an audit of it hangs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])


def test_a_killed_shard_is_refused_then_merged_partially_as_not_audited(
    tmp_path: Path, silent_listener: int
) -> None:
    stuck = next(f"stuck{i}" for i in range(100) if shard_of(f"stuck{i}", 4) == 2)
    inv = fleet(tmp_path, f"{stuck} ansible_host=127.0.0.1 ansible_port={silent_listener}")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "driftcheck", "scan", "-i", str(inv), "--timeout", "60", "-q"]
    procs = {
        k: subprocess.Popen(
            [*cmd, "--shard", f"{k}/4", "--report-dir", str(out / f"s{k}")], cwd=ROOT
        )
        for k in range(1, 5)
    }
    for k in (1, 3, 4):
        assert procs[k].wait(timeout=120) in (0, 1, 2)
    time.sleep(0.5)  # shard 2 is waiting on the silent host, up to its 60 s deadline
    assert procs[2].poll() is None
    os.kill(procs[2].pid, signal.SIGKILL)
    procs[2].wait()
    reports = sorted(str(p) for p in out.glob("s*/report.json"))
    assert len(reports) == 3  # the killed shard published nothing

    refused = driftcheck("merge", *reports, "--report-dir", str(tmp_path / "fleet"))
    assert refused.returncode == 3
    assert "shard 2/4 missing" in refused.stderr
    assert "--allow-partial" in refused.stderr
    assert not (tmp_path / "fleet" / "latest").exists()

    partial = driftcheck(
        "merge",
        *reports,
        "--allow-partial",
        "--format",
        "json",
        "--report-dir",
        str(tmp_path / "fleet"),
    )
    assert partial.returncode == 2
    assert "partial merge: shard 2/4 missing" in partial.stderr
    report = json.loads(partial.stdout)
    everyone = [*WEB, *DB, "gone", stuck]
    assert sorted(h["name"] for h in report["hosts"]) == sorted(everyone)
    missing = [h for h in report["hosts"] if shard_of(h["name"], 4) == 2]
    assert missing
    assert all(h["status"] == "error" for h in missing)
    assert all("not audited" in h["error"] and "2/4" in h["error"] for h in missing)
    # the missing hosts keep their inventory groups, so the HTML groups them as usual
    assert all(h["groups"] == (["web"] if h["name"].startswith("web") else ["db"]) for h in missing)
    assert report["run"]["merged"]["missing_shards"] == ["2/4"]
    assert report["summary"]["error"] == len(missing)


def test_merge_refuses_what_is_not_one_fleet(tmp_path: Path) -> None:
    inv = fleet(tmp_path)
    parts = shards(inv, tmp_path / "a", count=2)
    web = tmp_path / "web.json"
    web.write_text(driftcheck("scan", "-i", str(inv), "-l", "web", "--format", "json").stdout)
    web_again = tmp_path / "web03.json"
    web_again.write_text(
        driftcheck("scan", "-i", str(inv), "-l", "web03", "--format", "json").stdout
    )
    twice = driftcheck("merge", str(web), str(web_again))
    assert twice.returncode == 3
    assert "host web03 is in both" in twice.stderr

    same_shard = driftcheck("merge", str(parts[0]), str(parts[0]))
    assert same_shard.returncode == 3
    assert "given twice" in same_shard.stderr

    mixed = driftcheck("merge", str(parts[0]), str(web))
    assert mixed.returncode == 3
    assert "not a --shard report" in mixed.stderr

    (tmp_path / "states" / "all.yml").write_text("packages:\n  dpkg: present\n  tar: present\n")
    other = tmp_path / "db.json"
    other.write_text(driftcheck("scan", "-i", str(inv), "-l", "db", "--format", "json").stdout)
    states = driftcheck("merge", str(web), str(other))
    assert states.returncode == 3
    assert "different declared states" in states.stderr

    regions = driftcheck("merge", str(web), str(tmp_path / "missing.json"))
    assert regions.returncode == 3
    assert "missing.json" in regions.stderr


def test_regions_by_limit_merge_into_the_fleet(tmp_path: Path) -> None:
    inv = fleet(tmp_path)
    full = json.loads(driftcheck("scan", "-i", str(inv), "--format", "json").stdout)
    paths = []
    for region in ("web", "db"):  # `gone` is in db
        path = tmp_path / f"{region}.json"
        path.write_text(driftcheck("scan", "-i", str(inv), "-l", region, "--format", "json").stdout)
        paths.append(str(path))
    merged = driftcheck("merge", *paths, "--format", "json")
    assert merged.returncode == 2, merged.stderr
    report = json.loads(merged.stdout)
    assert comparable(report) == comparable(full)
    assert report["run"]["limit"] == "web:db"
