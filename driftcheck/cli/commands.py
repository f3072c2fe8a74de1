"""The subcommands: each parses nothing itself and calls the library."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from driftcheck.cli.argtypes import MAX_COUNT, MAX_FORKS, output_file, positive
from driftcheck.cli.capture import capture, capture_arguments
from driftcheck.cli.common import (
    hosts_and_states,
    inventory_args,
    load_scan_states,
    transport_args,
    transport_options,
    trend_arg,
)
from driftcheck.cli.history import diff, diff_arguments, history, history_arguments
from driftcheck.cli.inspect import (
    inventory,
    inventory_arguments,
    report,
    report_arguments,
    validate,
    validate_arguments,
)
from driftcheck.cli.progress import Progress
from driftcheck.errors import ExitStatus, UsageError
from driftcheck.model.document import exit_status, new_run_id, read_report
from driftcheck.render.formats import FORMATS, render

# Imports on demand: building the parser (and `--version`) loads none of paramiko, jinja2, yaml,
# tabulate, sqlite3 or python-debian; each command imports what it uses when it runs.
if TYPE_CHECKING:
    from driftcheck.fleet.shard import Shard
    from driftcheck.fleet.since import Snapshot, Stored
    from driftcheck.inventory import Inventory
    from driftcheck.model.document import Report
    from driftcheck.nightly.publish import PublishOptions
    from driftcheck.nightly.reportdir import ReportDir

AddArguments = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], int]


# --- scan ------------------------------------------------------------------------------


def scan_arguments(parser: argparse.ArgumentParser) -> None:
    inventory_args(parser)
    parser.add_argument(
        "--forks",
        type=positive(int, MAX_FORKS),
        default=32,
        help=f"hosts audited at once (default 32, at most {MAX_FORKS})",
    )
    transport_args(parser, 30.0, "connect, auth and collection")
    parser.add_argument(
        "--shard",
        metavar="K/N",
        help="audit only the K-th of N stable partitions of the selected hosts (K from 1; a "
        "host's shard is sha256(name) mod N, so it moves only when N changes); merge the N "
        "reports with `driftcheck merge`",
    )
    parser.add_argument(
        "--shard-index",
        metavar="I/N",
        help="the same with I from 0 (Kubernetes: --shard-index $(JOB_COMPLETION_INDEX)/N)",
    )
    parser.add_argument(
        "--peers",
        action="store_true",
        help="also compare each host with the majority of its peer group (its most specific "
        "inventory group with >= 3 audited hosts); turns on modified_config: report. "
        "A state's `peers: false` or `modified_config: ignore` still wins",
    )
    parser.add_argument(
        "--peer-group",
        action="append",
        default=[],
        metavar="NAME",
        help="with --peers: compare hosts within these inventory groups instead (repeatable)",
    )
    _publish_args(parser)


def _publish_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=sorted(FORMATS), default="text", help="what to print on stdout"
    )
    parser.add_argument(
        "--report-dir",
        metavar="DIR",
        help="keep this run in DIR/runs/<id>/ (report.txt, .json, .html), point DIR/latest at "
        "it, record it in DIR/history.sqlite and mark what is new since the previous run; DIR "
        "must be yours or root's and not group- or world-writable",
    )
    parser.add_argument(
        "--keep",
        type=positive(int, MAX_COUNT),
        metavar="N",
        help="with --report-dir: keep N run folders",
    )
    parser.add_argument(
        "--keep-history",
        type=positive(int, MAX_COUNT),
        metavar="N",
        help="with --report-dir: keep N runs in history.sqlite (each host's latest run stays)",
    )
    trend_arg(parser, "with --report-dir: ")
    parser.add_argument(
        "--waivers", metavar="FILE", help="YAML file of accepted drift (reason and expiry required)"
    )
    parser.add_argument(
        "--junit", type=output_file, metavar="FILE", help="also write a JUnit XML file"
    )
    parser.add_argument(
        "--prometheus",
        type=output_file,
        metavar="FILE",
        help="also write a node_exporter textfile (*.prom)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="nothing on stdout when clean, else one line"
    )
    parser.add_argument(
        "--debug-log",
        metavar="FILE",
        help="append the libraries' logging (paramiko...) at debug level to FILE; without it "
        "they log nowhere, never on stderr",
    )


def scan(args: argparse.Namespace) -> int:
    from driftcheck.fleet import with_peers
    from driftcheck.fleet.shard import select_shard, shard_entry
    from driftcheck.inventory.hostvars import check_connection_vars
    from driftcheck.pipeline import RunOptions, scan_fleet
    from driftcheck.scan import ScanOptions

    if args.debug_log:
        _debug_log(Path(args.debug_log))
    inventory, selection, states_dir = hosts_and_states(args)
    check_connection_vars(selection)
    _check_peer_groups(args, inventory)
    shard = _shard(args)
    hosts = select_shard(selection, shard) if shard else selection
    loaded, unusable = load_scan_states(hosts, states_dir)
    states = {h: with_peers(s, args.peers) for h, s in loaded.items()}
    publishing = _publish_options(args)  # a broken waivers file stops us before any connection
    progress = Progress(len(hosts), sys.stderr)
    options = RunOptions(
        inventory,
        states_dir,
        source=", ".join(args.inventory),
        scan=ScanOptions(transport=transport_options(args), forks=args.forks),
        limit=args.limit,
        peer_groups=tuple(args.peer_group),
        shard=shard_entry(shard, selection) if shard else None,
        on_done=progress,
        unusable=unusable,
    )
    compared = [h.name for h in hosts if h.name in states and states[h.name].peers]
    with (
        _locked(publishing.report_dir if publishing else None) as root,
        _last_surfaces(root, compared) as previous,
    ):
        scanned = scan_fleet(hosts, states, replace(options, previous=previous))
        progress.finish()
        report = _publish(scanned.report, publishing, root, scanned.snapshots)
    _print(report, args)
    return exit_status(report)


def _check_peer_groups(args: argparse.Namespace, inventory: Inventory) -> None:
    unknown = [g for g in args.peer_group if g not in inventory.groups]
    if unknown:
        raise UsageError(f"--peer-group {unknown[0]}: no such group in the inventory")
    if args.peer_group and not args.peers:
        raise UsageError("--peer-group needs --peers")


def _shard(args: argparse.Namespace) -> Shard | None:
    from driftcheck.fleet.shard import parse_shard

    if args.shard and args.shard_index:
        raise UsageError("--shard and --shard-index: give one of them")
    if args.shard_index:
        return parse_shard(args.shard_index, zero_based=True)
    return parse_shard(args.shard) if args.shard else None


# --- merge -------------------------------------------------------------------------------


def merge_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "reports", nargs="+", metavar="REPORT.json", help="shard or --limit reports of one fleet"
    )
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        help="merge even if a --shard report is missing; its hosts are reported not audited",
    )
    _publish_args(parser)


def merge(args: argparse.Namespace) -> int:
    from driftcheck.fleet.merge import Part, applied_waivers, merge_reports

    parts = [Part(path, read_report(Path(path))) for path in args.reports]
    publishing = _publish_options(args)
    if publishing and publishing.waivers is not None and applied_waivers(parts):
        raise UsageError(
            f"{applied_waivers(parts)[0]}: its scan applied waivers already; give --waivers "
            "to the scans or to the merge, not both"
        )
    with _locked(publishing.report_dir if publishing else None) as root:
        run_id = new_run_id(time.time())
        report, warnings = merge_reports(parts, run_id=run_id, allow_partial=args.allow_partial)
        report = _publish(report, publishing, root)
    for warning in warnings:
        print(f"driftcheck: warning: {warning}", file=sys.stderr)
    _print(report, args)
    return exit_status(report)


def _publish_options(args: argparse.Namespace) -> PublishOptions | None:
    """None when there is nothing to publish: history, waivers and their libraries stay unloaded."""
    if not (args.report_dir or args.waivers or args.junit or args.prometheus):
        return None
    from driftcheck.nightly.publish import PublishOptions
    from driftcheck.nightly.waivers import load_waivers

    return PublishOptions(
        report_dir=Path(args.report_dir) if args.report_dir else None,
        waivers=tuple(load_waivers(Path(args.waivers))) if args.waivers else None,
        keep=args.keep,
        keep_history=args.keep_history,
        trend=args.trend,
        junit=Path(args.junit) if args.junit else None,
        prometheus=Path(args.prometheus) if args.prometheus else None,
    )


def _debug_log(path: Path) -> None:
    from driftcheck.cli.debuglog import route_logging

    try:
        route_logging(path)
    except OSError as exc:
        raise UsageError(f"--debug-log {path}: {exc.strerror or exc}") from exc


def _publish(
    report: Report,
    publishing: PublishOptions | None,
    root: ReportDir | None,
    snapshots: Mapping[str, Snapshot] | None = None,
) -> Report:
    if publishing is None:
        return report
    from driftcheck.nightly.publish import publish

    return publish(report, publishing, root, snapshots)


def _last_surfaces(
    root: ReportDir | None, names: list[str]
) -> contextlib.AbstractContextManager[dict[str, Stored] | None]:
    """With a report directory and hosts compared with peers: their surfaces as last recorded."""
    if root is None or not names:
        return contextlib.nullcontext()
    from driftcheck.nightly.publish import last_surfaces

    return last_surfaces(root, names)


def _locked(report_dir: Path | None) -> contextlib.AbstractContextManager[ReportDir | None]:
    if report_dir is None:
        return contextlib.nullcontext()
    from driftcheck.nightly.lock import locked_report_dir

    return locked_report_dir(report_dir)


def _print(report: Report, args: argparse.Namespace) -> None:
    if not args.quiet:
        sys.stdout.write(render(args.format, report))
    elif exit_status(report) != ExitStatus.COMPLIANT:
        from driftcheck.render.text import summary_line

        sys.stdout.write(summary_line(report) + "\n")


COMMANDS: dict[str, tuple[str, AddArguments, Run]] = {
    "scan": ("audit the hosts against their declared state", scan_arguments, scan),
    "inventory": ("list hosts, groups, addresses and state files", inventory_arguments, inventory),
    "validate": (
        "render and check every host's declared state, without connecting",
        validate_arguments,
        validate,
    ),
    "merge": (
        "combine shard or --limit reports into one fleet run (history, latest, exit status)",
        merge_arguments,
        merge,
    ),
    "report": ("re-render a saved JSON report", report_arguments, report),
    "capture": (
        "write a declared state from one golden host, which that host passes",
        capture_arguments,
        capture,
    ),
    "history": ("past runs from REPORT_DIR/history.sqlite", history_arguments, history),
    "diff": ("what changed between two recorded runs", diff_arguments, diff),
}
