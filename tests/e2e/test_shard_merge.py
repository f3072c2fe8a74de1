"""Shards on the lab fleet: 4 concurrent `scan --shard K/4` processes and `merge` give exactly
the statuses, findings, package spread and history of one full run, over two nights with drift
added in between. The lab's hosts really differ (versions, packages), so the merged package
spread is tested on real data here; tests/fleet/ proves the same on local hosts in seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

DRIFTCHECK = str(Path(sys.executable).with_name("driftcheck"))
CONF = "/etc/acme/agent.conf"  # declared mode 0644 on every lab host


def base(lab: Lab) -> list[str]:
    return [
        "-i", str(lab.inventory), "--known-hosts", str(lab.known_hosts),
        "-F", str(lab.ssh_config), "--timeout", "10",
    ]  # fmt: skip


def shard_argv(lab: Lab, out: Path, k: int) -> list[str]:
    report_dir = str(out / f"s{k}")
    return [DRIFTCHECK, "scan", *base(lab), "--shard", f"{k}/4", "-q", "--report-dir", report_dir]


def comparable(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    keys = ("target", "category", "item", "kind", "expected", "actual", "new", "first_seen")
    return [
        (h["name"], h["status"], h["error"], [tuple(f.get(k) for k in keys) for f in h["findings"]])
        for h in report["hosts"]
    ]


def history(report_dir: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        [DRIFTCHECK, "history", "--report-dir", str(report_dir), "--format", "json"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    drop = ("id", "started", "finished", "duration")
    return [{k: v for k, v in row.items() if k not in drop} for row in json.loads(out)]


def test_four_shards_and_merge_equal_one_full_run(
    lab: Lab, tmp_path: Path, drift_undone: None
) -> None:
    full_dir, fleet_dir = tmp_path / "full", tmp_path / "fleet"
    for night in (1, 2):
        if night == 2:
            lab.ssh("web02", f"chmod 0600 {CONF}")
        full = subprocess.run(
            [DRIFTCHECK, "scan", *base(lab), "--report-dir", str(full_dir), "--format", "json"],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        shards = [subprocess.Popen(shard_argv(lab, tmp_path / f"n{night}", k)) for k in range(1, 5)]
        assert all(p.wait(timeout=300) in (0, 1, 2) for p in shards)
        parts = [str(tmp_path / f"n{night}" / f"s{k}" / "report.json") for k in range(1, 5)]
        merged = subprocess.run(
            [DRIFTCHECK, "merge", *parts, "--report-dir", str(fleet_dir), "--format", "json"],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert merged.returncode == full.returncode, merged.stderr
        one, many = json.loads(full.stdout), json.loads(merged.stdout)
        statuses = {(h["name"], h["status"]) for h in one["hosts"]}
        assert {(h["name"], h["status"]) for h in many["hosts"]} == statuses
        assert [h[:3] for h in comparable(many)] == [h[:3] for h in comparable(one)]
        for a, b in zip(comparable(many), comparable(one), strict=True):
            assert [f[:7] for f in a[3]] == [f[:7] for f in b[3]], a[0]
        assert many["summary"] == one["summary"]
        assert many["package_spread"] == one["package_spread"]
        assert one["package_spread"], "the lab's hosts differ: the spread is not empty"
        assert {k: len(v) for k, v in many["changes"].items() if isinstance(v, list)} == {
            k: len(v) for k, v in one["changes"].items() if isinstance(v, list)
        }
    assert ("web02", "file", CONF, "mode") in {
        (f["host"], f["category"], f["item"], f["kind"]) for f in many["changes"]["new"]
    }
    assert history(fleet_dir) == history(full_dir)
