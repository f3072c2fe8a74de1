"""`make bench`: driftcheck against a bare paramiko fan-out on an sshd farm of 100-5,000 hosts.

    .venv/bin/python -m bench.fleet --sizes 100 1000 5000 --forks 32

For each size: bench/farm.py brings up that many real SSH hosts on loopback addresses, then
`python -m bench.bare` (one `dpkg-query -W` per host) and `driftcheck scan --report-dir`
(the whole audit: start-up, collector, parsing, comparison, text/JSON/HTML reports, history)
each run once as a separate process, at the same forks. Each process's CPU time and peak RSS
come from the kernel's accounting of that child (wait4), not from sampling. Then a table per
size and how each figure grows between consecutive sizes (per host, so 1.0 is linear).

The farm's sshd processes share the 2 cores with the client: wall time is bounded by the
servers (~30 ms of sshd CPU per connection), client CPU per host is what scales to real fleets.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import bare as bare_module
from bench import farm as farm_module
from driftcheck.backends import TransportOptions, open_backend
from driftcheck.inventory import load_inventory
from driftcheck.shell import bounded_sh

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    cpu: float  # user + sys seconds of the process (and its children)
    rss_mb: float  # peak resident set size of the process
    rc: int
    stdout: str


def timed(argv: Sequence[str], cwd: Path = ROOT) -> Run:
    """One process, measured by the kernel: wall clock around it, rusage from wait4."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode, text)


def bare(farm: Path, forks: int, *extra: str) -> Run:
    return timed([sys.executable, "-m", "bench.bare", str(farm), "--forks", str(forks), *extra])


def scan(farm: Path, forks: int, report_dir: Path) -> Run:
    return timed(
        [sys.executable, "-m", "driftcheck", "scan", "-i", str(farm / "hosts.ini"),
         "--known-hosts", str(farm / "known_hosts"), "-F", str(farm / "ssh_config"),
         "--forks", str(forks), "--timeout", "60", "--report-dir", str(report_dir), "-q"]
    )  # fmt: skip


def bare_counts(run: Run) -> dict[str, int]:
    """The JSON line bench.bare prints last: hosts, ok, bytes."""
    return json.loads(run.stdout.strip().splitlines()[-1]) if run.stdout else {}  # type: ignore[no-any-return]


def payload_bytes(farm: Path) -> int:
    """Bytes one audit moves: the collector script sent plus its output received (every farm
    host shares this machine's filesystem, so one host stands for all)."""
    inventory = load_inventory(str(farm / "hosts.ini"))
    host = next(iter(inventory.hosts.values()))
    _, script = bare_module.collector_script(farm)  # the script the --collector baseline sends
    options = TransportOptions(
        timeout=60, known_hosts=farm / "known_hosts", ssh_config=farm / "ssh_config"
    )
    deadline = time.monotonic() + 60
    backend = open_backend(host, options, deadline)
    try:
        result = backend.run(bounded_sh(60), script, deadline)
    finally:
        backend.close()
    return len(script) + len(result.stdout) + len(result.stderr)


def audited(report_dir: Path) -> tuple[int, int]:
    report = json.loads((report_dir / "report.json").read_text())
    summary = report["summary"]
    return summary["compliant"] + summary["snowflake"], summary["hosts"]


def sizes_of(report_dir: Path) -> dict[str, int]:
    latest = (report_dir / "latest").resolve()
    return {
        "json": (latest / "report.json").stat().st_size,  # sizes in bytes
        "html": (latest / "report.html").stat().st_size,
        "history": (report_dir / "history.sqlite").stat().st_size,
    }


def measure(hosts: int, forks: int, farm: Path, keep: Path | None) -> dict[str, float]:
    farm_module.up(farm, hosts)
    try:
        with tempfile.TemporaryDirectory(prefix="driftcheck-bench-") as tmp:
            base = bare(farm, forks)
            same = bare(farm, forks, "--collector")
            ours = scan(farm, forks, Path(tmp))
            ok, total = audited(Path(tmp))
            files = sizes_of(Path(tmp))
            if keep:  # this size's folder from an earlier run is replaced, never merged into
                shutil.rmtree(keep / f"{hosts}-hosts", ignore_errors=True)
                shutil.copytree(tmp, keep / f"{hosts}-hosts", symlinks=True)
        counts = bare_counts(base)
        bare_ok, bare_bytes = counts.get("ok", 0), counts.get("bytes", 0)
        same_ok = bare_counts(same).get("ok", 0)
        payload = payload_bytes(farm)
    finally:
        farm_module.down(farm)
    return {
        "hosts": hosts,
        "bare_wall": base.wall, "bare_cpu_ms": 1000 * base.cpu / hosts, "bare_rss": base.rss_mb,
        "bare_ok": bare_ok, "bare_bytes": bare_bytes / max(1, bare_ok),
        "same_wall": same.wall, "same_cpu_ms": 1000 * same.cpu / hosts, "same_rss": same.rss_mb,
        "same_ok": same_ok,
        "wall": ours.wall, "cpu_ms": 1000 * ours.cpu / hosts, "rss": ours.rss_mb, "ok": ok,
        "total": total, "bytes": payload, "json": files["json"], "html": files["html"],
        "history": files["history"], "rc": ours.rc,
    }  # fmt: skip


def table(row: dict[str, float]) -> str:
    """Three processes side by side: the bare fan-out with `dpkg-query -W`, the bare fan-out
    with driftcheck's collector script (the same host work), and `driftcheck scan`."""
    n = int(row["hosts"])
    kb = 1 << 10
    lines = [
        f"### {n:,} hosts",
        "",
        "| measure | bare, `dpkg-query -W` | bare, driftcheck's script | `driftcheck scan` "
        "| scan / bare | scan / bare script |",
        "|---|---|---|---|---|---|",
        f"| hosts audited | {int(row['bare_ok'])}/{n} | {int(row['same_ok'])}/{n} "
        f"| {int(row['ok'])}/{int(row['total'])} | | |",
        f"| wall time | {row['bare_wall']:.2f} s | {row['same_wall']:.2f} s | {row['wall']:.2f} s "
        f"| {row['wall'] / row['bare_wall']:.2f}x | {row['wall'] / row['same_wall']:.2f}x |",
        f"| client CPU per host | {row['bare_cpu_ms']:.1f} ms | {row['same_cpu_ms']:.1f} ms "
        f"| {row['cpu_ms']:.1f} ms | {row['cpu_ms'] / row['bare_cpu_ms']:.2f}x "
        f"| {row['cpu_ms'] / row['same_cpu_ms']:.2f}x |",
        f"| peak RSS | {row['bare_rss']:.0f} MB | {row['same_rss']:.0f} MB | {row['rss']:.0f} MB "
        "| | |",
        f"| payload bytes per host (command/script + output) | {row['bare_bytes']:,.0f} "
        f"| {row['bytes']:,.0f} | {row['bytes']:,.0f} | | |",
        f"| JSON / HTML / history | | | {row['json'] / kb:,.0f} / {row['html'] / kb:,.0f} / "
        f"{row['history'] / kb:,.0f} KB | | |",
    ]
    return "\n".join(lines)


def growth(small: dict[str, float], large: dict[str, float]) -> str:
    """Per-host figures at the larger size over the smaller: 1.00 is linear in hosts."""
    scale = large["hosts"] / small["hosts"]
    per_host = {
        "bare wall per host": (large["bare_wall"] / scale) / small["bare_wall"],
        "bare-script wall per host": (large["same_wall"] / scale) / small["same_wall"],
        "driftcheck wall per host": (large["wall"] / scale) / small["wall"],
        "bare CPU per host": large["bare_cpu_ms"] / small["bare_cpu_ms"],
        "bare-script CPU per host": large["same_cpu_ms"] / small["same_cpu_ms"],
        "driftcheck CPU per host": large["cpu_ms"] / small["cpu_ms"],
        "driftcheck peak RSS (total)": large["rss"] / small["rss"],
        "JSON size per host": (large["json"] / scale) / small["json"],
        "HTML size per host": (large["html"] / scale) / small["html"],
        "history size per host": (large["history"] / scale) / small["history"],
    }
    head = f"### growth {int(small['hosts']):,} -> {int(large['hosts']):,} hosts (x{scale:g})"
    rows = [f"| {k} | {v:.2f} |" for k, v in per_host.items()]
    return "\n".join([head, "", "| figure | larger / smaller |", "|---|---|", *rows])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--forks", type=int, default=32)
    parser.add_argument("--farm", type=Path, default=farm_module.FARM)
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--keep", type=Path, help="keep each size's report folder under this")
    args = parser.parse_args(argv)
    rows = []
    for hosts in args.sizes:
        rows.append(measure(hosts, args.forks, args.farm, args.keep))
        print(table(rows[-1]) + "\n", flush=True)
    for small, large in itertools.pairwise(rows):
        print(growth(small, large) + "\n")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
