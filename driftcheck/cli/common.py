"""What the commands share: inventory and state arguments, loading them, reading a report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from driftcheck.cli.argtypes import MAX_TIMEOUT, positive
from driftcheck.errors import UsageError
from driftcheck.limits import TRAIL_MAX
from driftcheck.nightly.trend import DEFAULT_TREND

if TYPE_CHECKING:
    from driftcheck.backends.options import TransportOptions
    from driftcheck.errors import VariableError
    from driftcheck.inventory import Inventory
    from driftcheck.inventory.vault import Vault
    from driftcheck.model import DeclaredState, Host


def inventory_args(parser: argparse.ArgumentParser) -> None:
    inventory_arg(parser)
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


def inventory_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-i",
        "--inventory",
        required=True,
        action="append",
        metavar="INVENTORY",
        help="inventory file or directory (Ansible format); repeatable: read in order into one "
        "inventory, as Ansible's -i (the later wins for variables)",
    )


def program_timeout_arg(parser: argparse.ArgumentParser) -> None:
    """--timeout for the commands that connect to nothing: it bounds the inventory's programs."""
    parser.add_argument(
        "--timeout",
        type=positive(float, MAX_TIMEOUT),
        default=30.0,
        help="seconds an inventory script, ansible-inventory or a vault password script may run "
        f"(default 30, at most {MAX_TIMEOUT:g})",
    )


def load_inventory_of(args: argparse.Namespace, vault: Vault | None = None) -> Inventory:
    """The -i inventories, their programs bounded by --timeout; Ansible's warnings on stderr."""
    from driftcheck.inventory import load_inventory

    inventory = load_inventory(args.inventory, vault, args.timeout)
    for warning in inventory.warnings:
        print(f"driftcheck: warning: {warning}", file=sys.stderr)
    return inventory


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
    from driftcheck.inventory import select_hosts
    from driftcheck.inventory.vault import open_vault
    from driftcheck.state import default_states_dir

    vault = open_vault(args.vault_password_file, args.vault_id, args.timeout)
    inventory = load_inventory_of(args, vault)
    hosts = select_hosts(inventory, args.limit)
    states_dir = Path(args.states) if args.states else default_states_dir(inventory.root)
    if args.states and not states_dir.is_dir():
        raise UsageError(f"--states {args.states}: not a directory")
    return inventory, hosts, states_dir


def load_states(hosts: list[Host], states_dir: Path) -> dict[str, DeclaredState]:
    from driftcheck.state import load_declared_state

    return {host.name: load_declared_state(states_dir, host) for host in hosts}


def load_scan_states(
    hosts: list[Host], states_dir: Path
) -> tuple[dict[str, DeclaredState], dict[str, VariableError]]:
    """As load_states, but a host whose state needs a variable that cannot be rendered fails
    alone: the scan reports it in error (the second mapping), the others are audited."""
    from driftcheck.errors import VariableError
    from driftcheck.state import load_declared_state

    states: dict[str, DeclaredState] = {}
    unusable: dict[str, VariableError] = {}
    for host in hosts:
        try:
            states[host.name] = load_declared_state(states_dir, host)
        except VariableError as exc:
            unusable[host.name] = exc
    return states, unusable


def write_output(path: Path | None, text: str) -> None:
    """`text` into the -o file (checked already: argtypes.output_file), whole or not at all; a
    write that fails there (disk full) is exit 74. Without -o: stdout."""
    if path is None:
        sys.stdout.write(text)
        return
    from driftcheck.atomic import write_atomic
    from driftcheck.nightly.reportdir import output_errors

    with output_errors(path):
        write_atomic(path, text)


def transport_args(parser: argparse.ArgumentParser, timeout: float, deadline_of: str) -> None:
    """How hosts are reached and trusted: the same for every command that connects."""
    parser.add_argument(
        "--timeout",
        type=positive(float, MAX_TIMEOUT),
        default=timeout,
        help=f"per-host deadline in seconds for {deadline_of}; also how long an inventory "
        "script, ansible-inventory or a vault password script may run "
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
