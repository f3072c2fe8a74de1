"""`python -m tests.lab up [--hosts N] | down | status` (run from the repository root)."""

from __future__ import annotations

import argparse
import sys

from tests.lab import fleet
from tests.lab.lock import session_lock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="build (cached) and boot the lab fleet, inject drift")
    up.add_argument("--hosts", type=int, help="N plain compliant hosts instead of the scenario")
    up.add_argument("--timeout", type=float, default=fleet.BOOT_TIMEOUT, help="boot timeout (s)")
    sub.add_parser("down", help="stop every host and helper, unmount, verify nothing is left")
    sub.add_parser("status", help="list the lab's hosts")
    args = parser.parse_args(argv)
    if args.command == "status":
        return cmd_status()
    try:
        with session_lock(0):  # never pull the lab from under a running test session
            return run(args)
    except TimeoutError:
        print("lab: a test session is using the lab; try again when it ends", file=sys.stderr)
        return 1


def run(args: argparse.Namespace) -> int:
    if args.command == "up":
        return cmd_up(f"bench:{args.hosts}" if args.hosts else "default", args.timeout)
    if args.command == "down":
        fleet.down()
        print("lab: down, nothing left running or mounted")
        return 0
    raise AssertionError(args.command)


def cmd_up(scenario: str, timeout: float) -> int:
    lab = fleet.up(scenario, timeout)
    figures = fleet.figures()
    booted = len(lab.reachable())
    print(f"lab: {booted} hosts up ({scenario}); " + ", ".join(
        f"{k}={v:.1f}" for k, v in figures.items()
    ))  # fmt: skip
    print("try:")
    print(
        f"  .venv/bin/driftcheck scan -i {lab.inventory} --known-hosts {lab.known_hosts}"
        f" -F {lab.ssh_config}"
    )
    print(f"  ssh -F {lab.admin_ssh_config} {lab.reachable()[0]}")
    return 0


def cmd_status() -> int:
    rows = fleet.status()
    if not rows:
        print("lab: not running")
        return 0
    for row in rows:
        print(
            f"{row['name']:<12} {row['state']:<10} pid1={row['leader_pid']} pss={row['pss_mb']}MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
