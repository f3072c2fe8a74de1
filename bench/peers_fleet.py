"""What `--peers` costs the scanner at fleet scale: a plain scan, a first `--peers` run and a
second `--peers` run (which also compares every host with its surface in history) on an sshd
farm, each a separate process measured by the kernel (wait4), side by side at each size.

    .venv/bin/python -m bench.peers_fleet --sizes 1000 5000 --forks 32

Every farm host shares this machine's filesystem, so all hosts of a size are alike (one image,
as a fleet built from one image is): the figures are the client's cost per host and how it
grows with the fleet, and the history's size after each run. The hosts' own work (their
collector, on the same 2 cores) bounds the wall time; bench/hostcost.py measures it apart.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench import farm as farm_module
from bench.fleet import Run, timed


def scan(farm: Path, forks: int, report_dir: Path, *extra: str) -> Run:
    return timed(
        [sys.executable, "-m", "driftcheck", "scan", "-i", str(farm / "hosts.ini"),
         "--known-hosts", str(farm / "known_hosts"), "-F", str(farm / "ssh_config"),
         "--forks", str(forks), "--timeout", "120", "--report-dir", str(report_dir), "-q",
         *extra]
    )  # fmt: skip


def audited(report_dir: Path) -> int:
    summary = json.loads((report_dir / "report.json").read_text())["summary"]
    return int(summary["compliant"] + summary["snowflake"] + summary["unchecked"])


RUNS = ("plain scan", "--peers, first run", "--peers, second run")


def measure(
    hosts: int, forks: int, farm: Path, runs: Sequence[str] = RUNS
) -> list[dict[str, float | str]]:
    farm_module.up(farm, hosts)
    rows: list[dict[str, float | str]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="driftcheck-bench-") as tmp:
            plain, peers = Path(tmp) / "plain", Path(tmp) / "peers"
            # the farm's login user cannot read every conffile (sudoers...): judging them would
            # leave every host `error`, compared with no peer; peers still compare them
            states = Path(tmp) / "states"
            states.mkdir()
            text = (farm / "states" / "all.yml").read_text()
            (states / "all.yml").write_text(text + "modified_config: ignore\n")
            given = ("--states", str(states))
            for name, folder, extra in (
                ("plain scan", plain, given),
                ("--peers, first run", peers, ("--peers", *given)),
                ("--peers, second run", peers, ("--peers", *given)),
            ):
                if name not in runs:
                    continue
                run = scan(farm, forks, folder, *extra)
                rows.append({
                    "hosts": hosts, "run": name, "wall": run.wall,
                    "cpu_ms": 1000 * run.cpu / hosts, "rss": run.rss_mb,
                    "audited": audited(folder),
                    "history_kb": (folder / "history.sqlite").stat().st_size / 1024,
                })  # fmt: skip
    finally:
        farm_module.down(farm)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--forks", type=int, default=32)
    parser.add_argument("--farm", type=Path, default=farm_module.FARM)
    parser.add_argument(
        "--skip-second", action="store_true", help="leave out the second --peers run"
    )
    args = parser.parse_args(argv)
    runs = RUNS[:2] if args.skip_second else RUNS
    print(f"{'hosts':>6} {'run':22} {'audited':>8} {'wall':>8} {'CPU/host':>9} {'peak RSS':>9} "
          f"{'history':>9}")  # fmt: skip
    for size in args.sizes:
        for row in measure(size, args.forks, args.farm, runs):
            print(
                f"{row['hosts']:>6} {row['run']:22} {row['audited']:>8} {row['wall']:>7.1f}s "
                f"{row['cpu_ms']:>6.1f} ms {row['rss']:>6.0f} MB {row['history_kb']:>6.0f} KB",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
