"""The commands that connect to nothing: `inventory`, `validate` and `report`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftcheck.cli.argtypes import output_file
from driftcheck.cli.common import (
    hosts_and_states,
    inventory_args,
    load_states,
    program_timeout_arg,
    trend_arg,
    write_output,
)
from driftcheck.errors import UsageError
from driftcheck.model.document import read_report
from driftcheck.render.formats import FORMATS, render

if TYPE_CHECKING:
    from driftcheck.model import Host


def inventory_arguments(parser: argparse.ArgumentParser) -> None:
    validate_arguments(parser)
    parser.add_argument("-F", "--ssh-config", metavar="FILE", help="ssh_config file to honour")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--vars",
        action="store_true",
        help="also each host's variables, templates rendered (vaulted ones need the secret); "
        "one that cannot be rendered is shown as written, with the reason",
    )


def inventory(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from driftcheck.inventory.hostvars import check_connection_vars, plain_vars
    from driftcheck.render.text import clean

    _inv, hosts, states_dir = hosts_and_states(args)
    check_connection_vars(hosts)
    ssh_config = Path(args.ssh_config) if args.ssh_config else None
    rows = [_inventory_row(h, states_dir, ssh_config) for h in hosts]
    if args.vars:
        for row, host in zip(rows, hosts, strict=True):
            row["vars"], row["unrendered"] = plain_vars(host)
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    table = [
        [
            clean(r["name"]),
            clean(r["route"]),
            r["connection"],
            ",".join(r["groups"]),
            " ".join(Path(p).name for p in r["state_files"]),
        ]
        for r in rows
    ]
    headers = ["host", "route (ssh_config applied)", "connection", "groups", "state files"]
    sys.stdout.write(tabulate(table, headers=headers) + "\n")
    for row in rows if args.vars else ():
        sys.stdout.write(f"\n{clean(row['name'])}:\n")
        for key, value in row["vars"].items():
            why = row["unrendered"].get(key)
            note = f"  (not rendered: {clean(why)})" if why else ""
            sys.stdout.write(f"  {clean(key)} = {clean(json.dumps(value))}{note}\n")
    return 0


def _route_text(host: Host, ssh_config: Path | None) -> str:
    """The hops, the ProxyCommand that reaches the first one; an unusable route is shown per
    host (a scan would report that host in error), not raised for the whole listing."""
    from driftcheck.backends import defer_invoke

    defer_invoke()
    from driftcheck.backends.target import resolve as resolve_route
    from driftcheck.errors import TransportError

    try:
        resolved = resolve_route(host, ssh_config)
    except TransportError as exc:
        return f"error: {exc}"
    hops = (*resolved.jumps, resolved.target)
    proxy = hops[0].proxy_command
    return (f"ProxyCommand {proxy} -> " if proxy else "") + " -> ".join(str(h) for h in hops)


def _inventory_row(host: Host, states_dir: Path, ssh_config: Path | None) -> dict[str, Any]:
    """A host whose connection variables cannot be rendered is shown as written, its route
    the reason (a scan reports that host in error)."""
    from driftcheck.inventory.hostvars import connection_error
    from driftcheck.state import state_files_for
    from driftcheck.templating import as_written

    broken = connection_error(host)
    shown = as_written(host) if broken else host
    route = f"error: {broken}" if broken else ""
    if not broken and host.connection in ("ssh", "paramiko", "smart"):
        route = _route_text(host, ssh_config)
    return {
        "name": host.name,
        "address": shown.address,
        "route": route,
        "connection": shown.connection,
        "groups": list(host.groups),
        "state_files": [str(p) for p in state_files_for(states_dir, host)],
    }


def validate_arguments(parser: argparse.ArgumentParser) -> None:
    inventory_args(parser)
    program_timeout_arg(parser)


def validate(args: argparse.Namespace) -> int:
    _inv, hosts, states_dir = hosts_and_states(args)
    states = load_states(hosts, states_dir)
    files = {s for state in states.values() for s in state.sources}
    print(f"ok: {len(hosts)} hosts, {len(files)} state files rendered and valid ({states_dir})")
    return 0


def report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "report", metavar="REPORT.json", nargs="?", help="a saved JSON report (or --run)"
    )
    parser.add_argument("--format", choices=sorted(FORMATS), default="html")
    parser.add_argument(
        "-o", "--output", type=output_file, metavar="FILE", help="write here (default: stdout)"
    )
    parser.add_argument(
        "--report-dir", metavar="DIR", default="reports", help="with --run (default: reports)"
    )
    parser.add_argument(
        "--run",
        metavar="ID",
        help="render this recorded run of DIR/history.sqlite (id or unique prefix), with its "
        "trend up to it; from its run folder while kept, else rebuilt from the history",
    )
    trend_arg(parser, "with --run: ")


def report(args: argparse.Namespace) -> int:
    from driftcheck.nightly.publish import recorded

    if (args.report is None) == (args.run is None):
        raise UsageError("report: give either REPORT.json or --run ID")
    if args.run is not None:
        data = recorded(Path(args.report_dir), args.run, args.trend)
    else:
        data = read_report(Path(args.report))
    write_output(args.output, render(args.format, data))
    return 0
