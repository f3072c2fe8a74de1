"""A full driftcheck scan against a bare paramiko fan-out, side by side, on the same real hosts.

The target: a scan — one connection, one exec of the whole collector script, parsing
and comparison — takes no more than 1.5x a bare paramiko fan-out that runs a single
`dpkg-query -W` per host at the same concurrency. Rounds are interleaved so that the shared
machine's noise hits both alike; the figures that matter are the ratios.

    make lab-up LAB_HOSTS=50        # or: .venv/bin/python -m tests.lab up --hosts 50
    .venv/bin/python -m bench.scan_vs_paramiko --limit 'bench*' --rounds 3

`--breakdown` adds two contenders that say where a scan's extra time goes: driftcheck's own SSH
backend running the same `dpkg-query -W` (the transport's overhead), and bare paramiko running
the host's whole collector script (the cost of collecting more on the host).
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.paramiko_fanout import Outcome, bare_fanout, driftcheck_fanout, measure
from driftcheck.backends import TransportOptions
from driftcheck.collectors.script import build_script
from driftcheck.inventory import load_inventory, select_hosts
from driftcheck.model import Host
from driftcheck.scan import ScanOptions, audit_host, run_parallel
from driftcheck.shell import quote
from driftcheck.state import default_states_dir, load_declared_state

LAB = Path("/var/tmp/driftcheck-lab/run")  # noqa: S108 - the lab's fixed, root-owned state dir


def scan_in_process(
    hosts: Sequence[Host], states_dir: Path, options: ScanOptions
) -> dict[str, Outcome]:
    """What `driftcheck scan` does between loading the inventory and writing the report."""
    states = {h.name: load_declared_state(states_dir, h) for h in hosts}
    audits = run_parallel(
        hosts, lambda h: audit_host(h, states[h.name], options), options.forks, lambda _a: None
    )
    return {
        a.result.host.name: 0 if a.result.status.value in ("compliant", "snowflake") else "failed"
        for a in audits
    }


def scan_cli(args: argparse.Namespace) -> Callable[[], dict[str, Outcome]]:
    """The real CLI in a subprocess, interpreter start-up and report rendering included."""
    argv = [sys.executable, "-m", "driftcheck", "scan", "-i", str(args.inventory),
            "--known-hosts", str(args.known_hosts), "-F", str(args.ssh_config),
            "--forks", str(args.forks), "--format", "json"]  # fmt: skip
    if args.limit:
        argv += ["--limit", args.limit]

    def run() -> dict[str, Outcome]:
        proc = subprocess.run(argv, capture_output=True, check=False)
        return {"cli": 0 if proc.returncode in (0, 1) else f"exit {proc.returncode}"}

    return run


def breakdown(
    hosts: Sequence[Host], states_dir: Path, args: argparse.Namespace, transport: TransportOptions
) -> dict[str, Callable[[], dict[str, Outcome]]]:
    states = {h.name: load_declared_state(states_dir, h) for h in hosts}

    def script(host: Host) -> str:
        return "sh -c " + quote(build_script(states[host.name], secrets.token_hex(8)))

    return {
        "  driftcheck backend, dpkg-query": lambda: driftcheck_fanout(
            hosts, args.forks, ["dpkg-query", "-W"], transport
        ),
        "  bare paramiko, collector script": lambda: bare_fanout(
            hosts, args.forks, script, known_hosts=args.known_hosts, ssh_config=args.ssh_config
        ),
    }


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    inventory = load_inventory(args.inventory)
    hosts = select_hosts(inventory, args.limit)
    states_dir = default_states_dir(inventory.root)
    transport = TransportOptions(known_hosts=args.known_hosts, ssh_config=args.ssh_config)
    options = ScanOptions(transport=transport, forks=args.forks)
    contenders: dict[str, Callable[[], dict[str, Outcome]]] = {
        "bare paramiko (dpkg-query -W)": lambda: bare_fanout(
            hosts, args.forks, known_hosts=args.known_hosts, ssh_config=args.ssh_config
        ),
        "driftcheck scan (in process)": lambda: scan_in_process(hosts, states_dir, options),
        "driftcheck scan (CLI)": scan_cli(args),
    }
    if args.breakdown:
        contenders |= breakdown(hosts, states_dir, args, transport)
    figures: dict[str, list[tuple[float, float, int]]] = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, run in contenders.items():
            figures[name].append(measure(run))
            time.sleep(0)  # let sshd children exit between contenders
    _print(figures, len(hosts), args)


def _print(
    figures: dict[str, list[tuple[float, float, int]]], n: int, args: argparse.Namespace
) -> None:
    base = statistics.median(f[0] for f in figures["bare paramiko (dpkg-query -W)"])
    print(f"N={n} hosts, forks={args.forks}, {args.rounds} interleaved rounds (medians)")
    for name, runs in figures.items():
        wall = statistics.median(f[0] for f in runs)
        walls = " ".join(f"{f[0]:.2f}" for f in runs)
        cpu = statistics.median(f[1] for f in runs) / n * 1000
        failed = max(f[2] for f in runs)
        cpu_text = f"{cpu:5.1f} ms client CPU/host" if "CLI" not in name else "(CPU in child)"
        ratio = wall / base
        print(f"  {name:34} {wall:6.2f} s  x{ratio:4.2f}  [{walls}]  {cpu_text}, {failed} failed")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--inventory", type=Path, default=LAB / "inventory")
    parser.add_argument("--known-hosts", type=Path, default=LAB / "known_hosts")
    parser.add_argument("--ssh-config", type=Path, default=LAB / "ssh_config")
    parser.add_argument("--limit", help="Ansible pattern: the reachable hosts to measure")
    parser.add_argument("--forks", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--breakdown", action="store_true", help="also measure where the extra time goes"
    )
    return parser


if __name__ == "__main__":
    main()
