"""What `--peers` costs the scanner at fleet scale: a plain scan, a first `--peers` run and a
second `--peers` run (which also compares every host with its surface in history) on an sshd
farm, each a separate process measured by the kernel (wait4), side by side at each size; and,
with `--baseline CHECKOUT`, the `--peers` of another release (a checkout of it) in turn.

    .venv/bin/python -m bench.peers_fleet --sizes 1000 5000 --forks 32 [--baseline DIR]

Every farm host shares this machine's filesystem, as hosts built from one image share almost
everything; but no two hosts of an image are alike, so each host's trees also hold a directory
of its own (`perhost/NAME`: its name and an id), left out of the comparison by `ignore`: its
collector output differs from every other host's in a few entries, as a real host's does (its
host name, its host keys). The figures are the client's cost per host and how it grows with the
fleet, and the history's size after each run. To driftcheck all farm hosts are one machine (one
machine-id and boot): they vote once, so the peer comparison itself is measured apart
(bench/peers_majority.py). The hosts' own work (their collector, on the same 2 cores) bounds
the wall time; bench/hostcost.py measures it apart.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench import farm as farm_module
from bench.fleet import Run, timed
from driftcheck.model.declared import DEFAULT_TREES


def scan(farm: Path, forks: int, report_dir: Path, *extra: str, cwd: Path | None = None) -> Run:
    argv = [sys.executable, "-m", "driftcheck", "scan", "-i", str(farm / "hosts.ini"),
            "--known-hosts", str(farm / "known_hosts"), "-F", str(farm / "ssh_config"),
            "--forks", str(forks), "--timeout", "120", "--report-dir", str(report_dir), "-q",
            *extra]  # fmt: skip
    return timed(argv) if cwd is None else timed(argv, cwd=cwd)


def audited(report_dir: Path) -> int:
    summary = json.loads((report_dir / "report.json").read_text())["summary"]
    return int(summary["compliant"] + summary["snowflake"] + summary["unchecked"])


RUNS = ("plain scan", "--peers, first run", "--peers, second run")
BASELINE = "--peers, baseline"


def per_host(farm: Path) -> Path:
    """Each farm host's own directory: its name and an id (readable by the farm's user)."""
    root = farm / "perhost"
    shutil.rmtree(root, ignore_errors=True)
    for line in (farm / "hosts.ini").read_text().splitlines():
        name = line.split(" ", 1)[0]
        if name and not name.startswith("["):
            (root / name).mkdir(parents=True)
            (root / name / "hostname").write_text(f"{name}\n")
            (root / name / "id").write_text(f"{secrets.token_hex(16)}\n")
    for path in (root, *root.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


def states(farm: Path, folder: Path, perhost: Path | None) -> Path:
    """The farm's state, with `modified_config: ignore` (the farm's login user cannot read every
    conffile, sudoers...: judging them would leave every host `error`, compared with no peer;
    peers still compare them), and each host's own directory among its trees but ignored."""
    folder.mkdir()
    text = (farm / "states" / "all.yml").read_text() + "modified_config: ignore\n"
    if perhost is not None:
        trees = ", ".join(
            f'"{t}"' for t in (*DEFAULT_TREES, f"{perhost}/{{{{ inventory_hostname }}}}")
        )
        text += f"peers:\n  trees: [{trees}]\n  ignore: [{perhost}]\n"
    (folder / "all.yml").write_text(text)
    return folder


def measure(
    hosts: int,
    forks: int,
    farm: Path,
    runs: Sequence[str] = RUNS,
    baseline: Path | None = None,
) -> list[dict[str, float | str]]:
    farm_module.up(farm, hosts)
    rows: list[dict[str, float | str]] = []
    try:
        perhost = per_host(farm)
        with tempfile.TemporaryDirectory(prefix="driftcheck-bench-") as tmp:
            plain, peers, old = Path(tmp) / "plain", Path(tmp) / "peers", Path(tmp) / "old"
            given = ("--states", str(states(farm, Path(tmp) / "states", perhost)))
            # a `peers:` key turns peers on; another release knows none
            bare = ("--states", str(states(farm, Path(tmp) / "states-bare", None)))
            plan: list[tuple[str, Path, tuple[str, ...], Path | None]] = [
                ("plain scan", plain, bare, None),
                ("--peers, first run", peers, ("--peers", *given), None),
                ("--peers, second run", peers, ("--peers", *given), None),
            ]
            if baseline is not None:
                plan.insert(1, (BASELINE, old, ("--peers", *bare), baseline))
            for name, folder, extra, cwd in plan:
                if name not in runs and name != BASELINE:
                    continue
                run = scan(farm, forks, folder, *extra, cwd=cwd)
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
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of another release: its --peers is measured in turn with these",
    )
    args = parser.parse_args(argv)
    runs = RUNS[:2] if args.skip_second else RUNS
    print(f"{HEADER} {'history':>9}")
    for size in args.sizes:
        for row in measure(size, args.forks, args.farm, runs, args.baseline):
            print(f"{row_line(row)} {row['history_kb']:>6.0f} KB", flush=True)
    return 0


HEADER = f"{'hosts':>6} {'run':22} {'audited':>8} {'wall':>8} {'CPU/host':>9} {'peak RSS':>9}"


def row_line(row: dict[str, float | str]) -> str:
    """A run's figures under HEADER; each bench adds its own columns after them."""
    return (
        f"{row['hosts']:>6} {row['run']:22} {row['audited']:>8} {row['wall']:>7.1f}s "
        f"{row['cpu_ms']:>6.1f} ms {row['rss']:>6.0f} MB"
    )


if __name__ == "__main__":
    raise SystemExit(main())
