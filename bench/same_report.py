"""The same report before and after a change: scan one fleet with an earlier revision of
driftcheck and with the working tree, side by side, and compare the JSON documents apart from
what differs from run to run (run ids, times, durations, uptimes).

    .venv/bin/python -m bench.same_report --before REV -- -i INVENTORY [scan options...]

The earlier revision runs from a `git worktree` of REV with this virtualenv's Python (the same
dependencies). Exit 0 when the documents are the same, 1 with a diff of the first differences.
For a refactoring that must not change output: run it on the lab fleet (`make lab-up`, then
`-i /var/tmp/driftcheck-lab/run/inventory --known-hosts .../known_hosts`) and on the sshd farm.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUN_KEYS = ("id", "started", "finished", "duration", "version")  # differ from run to run
# move with the clock, or with the machine itself (farm hosts share its /proc: its zombies)
FACT_KEYS = ("uptime_seconds", "age_days", "zombies")


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """The document without the fields that differ between two runs of the same fleet."""
    run = {k: v for k, v in report["run"].items() if k not in RUN_KEYS}
    hosts = []
    for host in report["hosts"]:
        facts = {k: v for k, v in (host.get("facts") or {}).items() if k not in FACT_KEYS}
        hosts.append({**{k: v for k, v in host.items() if k != "duration"}, "facts": facts})
    return {**report, "run": run, "hosts": hosts}


def scan(pythonpath: Path, argv: Sequence[str]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    command = [sys.executable, "-m", "driftcheck", "scan", "--format", "json", *argv]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if proc.returncode not in (0, 1, 2):
        raise SystemExit(f"scan failed ({proc.returncode}) with {pythonpath}: {proc.stderr}")
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="the earlier revision (commit, tag)")
    parser.add_argument("scan_args", nargs=argparse.REMAINDER, help="-- then scan's arguments")
    args = parser.parse_args(argv)
    scan_args = [a for a in args.scan_args if a != "--"] or ["-i", "inventories/example"]
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree),
                        args.before], check=True, capture_output=True)  # fmt: skip
        try:
            before = comparable(scan(tree, scan_args))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           check=False, capture_output=True)  # fmt: skip
    after = comparable(scan(ROOT, scan_args))
    hosts = len(after["hosts"])
    findings = sum(len(h["findings"]) for h in after["hosts"])
    if before == after:
        print(f"same report: {hosts} hosts, {findings} findings, {len(json.dumps(after)):,} bytes")
        return 0
    for name, doc in (("before", before), ("after", after)):
        print(f"{name}: {doc['summary']}")
    old = json.dumps(before, indent=1, sort_keys=True).splitlines()
    new = json.dumps(after, indent=1, sort_keys=True).splitlines()
    sys.stdout.writelines(line + "\n" for line in list(difflib.unified_diff(old, new))[:200])
    return 1


if __name__ == "__main__":
    sys.exit(main())
