"""What the commands share: inventory and state arguments, loading them, reading a report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from driftcheck.cli.argtypes import MAX_TIMEOUT, positive
from driftcheck.errors import UsageError
from driftcheck.limits import TRAIL_MAX
from driftcheck.nightly.trend import DEFAULT_TREND

if TYPE_CHECKING:
    from driftcheck.backends.options import TransportOptions
    from driftcheck.inventory import Inventory
    from driftcheck.model import DeclaredState, Host


def inventory_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-i", "--inventory", required=True, help="inventory file or directory (Ansible format)"
    )
    parser.add_argument(
        "-l", "--limit", metavar="PATTERN", help="only hosts matching this Ansible host pattern"
    )
    parser.add_argument(
        "--states", metavar="DIR", help="declared-state directory (default: INVENTORY/states)"
    )
    parser.add_argument(
        "--vault-password-file",
        metavar="FILE",
        action="append",
        default=[],
        help="open vault-encrypted inventory values with this password file or script "
        "(needs driftcheck[vault])",
    )
    parser.add_argument(
        "--vault-id",
        metavar="LABEL@FILE",
        action="append",
        default=[],
        help="a vault identity, as ansible's --vault-id (never @prompt; needs driftcheck[vault])",
    )


def trend_arg(parser: argparse.ArgumentParser, prefix: str) -> None:
    parser.add_argument(
        "--trend",
        type=positive(int, TRAIL_MAX),
        default=DEFAULT_TREND,
        metavar="N",
        help=f"{prefix}runs in the HTML report's trend chart and host strips "
        f"(default {DEFAULT_TREND}, at most {TRAIL_MAX})",
    )


def hosts_and_states(args: argparse.Namespace) -> tuple[Inventory, list[Host], Path]:
    from driftcheck.inventory import load_inventory, select_hosts
    from driftcheck.inventory.vault import open_vault
    from driftcheck.state import default_states_dir

    vault = open_vault(args.vault_password_file, args.vault_id)
    inventory = load_inventory(args.inventory, vault)
    hosts = select_hosts(inventory, args.limit)
    states_dir = Path(args.states) if args.states else default_states_dir(inventory.root)
    if args.states and not states_dir.is_dir():
        raise UsageError(f"--states {args.states}: not a directory")
    return inventory, hosts, states_dir


def load_states(hosts: list[Host], states_dir: Path) -> dict[str, DeclaredState]:
    from driftcheck.state import load_declared_state

    return {host.name: load_declared_state(states_dir, host) for host in hosts}


def transport_args(parser: argparse.ArgumentParser, timeout: float, deadline_of: str) -> None:
    """How hosts are reached and trusted: the same for every command that connects."""
    parser.add_argument(
        "--timeout",
        type=positive(float, MAX_TIMEOUT),
        default=timeout,
        help=f"per-host deadline in seconds for {deadline_of} "
        f"(default {timeout:g}, at most {MAX_TIMEOUT:g})",
    )
    parser.add_argument(
        "--known-hosts", metavar="FILE", help="known_hosts file to verify host keys against"
    )
    parser.add_argument(
        "--accept-new-host-keys",
        action="store_true",
        help="trust keys of hosts with none on record and record them (never a changed or revoked"
        " key, nor a host under a @cert-authority)",
    )
    parser.add_argument("-F", "--ssh-config", metavar="FILE", help="ssh_config file to honour")


def transport_options(args: argparse.Namespace) -> TransportOptions:
    from driftcheck.backends.options import TransportOptions

    return TransportOptions(
        timeout=args.timeout,
        known_hosts=Path(args.known_hosts) if args.known_hosts else None,
        accept_new_host_keys=args.accept_new_host_keys,
        ssh_config=Path(args.ssh_config) if args.ssh_config else None,
    )
