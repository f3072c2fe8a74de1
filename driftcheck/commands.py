"""The subcommands: each parses nothing itself and calls the library."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import secrets
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from tabulate import tabulate

from driftcheck.atomic import write_atomic
from driftcheck.backends import TransportOptions
from driftcheck.backends.target import resolve as resolve_route
from driftcheck.errors import ExitStatus, UsageError
from driftcheck.inventory import Inventory, load_inventory, select_hosts
from driftcheck.models import DeclaredState, Host, HostResult
from driftcheck.nightly.lock import report_dir_lock
from driftcheck.nightly.trails import TRAIL_MAX
from driftcheck.nightly.waivers import load_waivers
from driftcheck.publish import (
    HISTORY_FILE,
    PublishOptions,
    history_rows,
    host_strip,
    publish,
    recorded,
    run_diff,
)
from driftcheck.report import RunInfo, build_report, exit_status, load_report
from driftcheck.report.formats import FORMATS, render
from driftcheck.report.text import clean, summary_line
from driftcheck.report.timeline import DEFAULT_TREND, strip_legend
from driftcheck.scan import Audit, ScanOptions, audit_host, package_spread, run_parallel
from driftcheck.state import default_states_dir, load_declared_state, state_files_for

AddArguments = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], int]


# --- shared arguments ------------------------------------------------------------------


def _inventory_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-i", "--inventory", required=True, help="inventory file or directory (Ansible format)"
    )
    parser.add_argument(
        "-l", "--limit", metavar="PATTERN", help="only hosts matching this Ansible host pattern"
    )
    parser.add_argument(
        "--states", metavar="DIR", help="declared-state directory (default: INVENTORY/states)"
    )


# Upper bounds of numeric options: past them a value is a typo or an attack, never a plan.
MAX_FORKS = 1024  # each fork holds a thread and an SSH connection (file descriptors)
MAX_TIMEOUT = 86400.0  # seconds: one day per host
MAX_COUNT = 1_000_000_000  # run folders, history rows, runs listed: SQLite and sane


def _positive(kind: Callable[[str], float | int], maximum: float) -> Callable[[str], Any]:
    """A finite number in (0, maximum]: `nan`, `inf` and `1e300` are usage errors."""

    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text[:40]!r}") from None
        if not math.isfinite(value) or not 0 < value <= maximum:
            raise argparse.ArgumentTypeError(
                f"must be a number above 0 and at most {maximum:g}: {text[:40]!r}"
            )
        return value

    return parse


def _trend_arg(parser: argparse.ArgumentParser, prefix: str) -> None:
    parser.add_argument(
        "--trend",
        type=_positive(int, TRAIL_MAX),
        default=DEFAULT_TREND,
        metavar="N",
        help=f"{prefix}runs in the HTML report's trend chart and host strips "
        f"(default {DEFAULT_TREND}, at most {TRAIL_MAX})",
    )


def _hosts_and_states(args: argparse.Namespace) -> tuple[Inventory, list[Host], Path]:
    inventory = load_inventory(args.inventory)
    hosts = select_hosts(inventory, args.limit)
    states_dir = Path(args.states) if args.states else default_states_dir(inventory.root)
    if args.states and not states_dir.is_dir():
        raise UsageError(f"--states {args.states}: not a directory")
    return inventory, hosts, states_dir


def _load_states(hosts: list[Host], states_dir: Path) -> dict[str, DeclaredState]:
    return {host.name: load_declared_state(states_dir, host) for host in hosts}


# --- scan ------------------------------------------------------------------------------


def scan_arguments(parser: argparse.ArgumentParser) -> None:
    _inventory_args(parser)
    parser.add_argument(
        "--forks",
        type=_positive(int, MAX_FORKS),
        default=32,
        help=f"hosts audited at once (default 32, at most {MAX_FORKS})",
    )
    parser.add_argument(
        "--timeout",
        type=_positive(float, MAX_TIMEOUT),
        default=30.0,
        help="per-host deadline in seconds for connect, auth and collection "
        f"(default 30, at most {MAX_TIMEOUT:g})",
    )
    parser.add_argument(
        "--known-hosts", metavar="FILE", help="known_hosts file to verify host keys against"
    )
    parser.add_argument(
        "--accept-new-host-keys",
        action="store_true",
        help="trust unknown host keys on first use and record them (never a changed key)",
    )
    parser.add_argument("-F", "--ssh-config", metavar="FILE", help="ssh_config file to honour")
    parser.add_argument(
        "--format", choices=sorted(FORMATS), default="text", help="what to print on stdout"
    )
    parser.add_argument(
        "--report-dir",
        metavar="DIR",
        help="keep this run in DIR/runs/<id>/ (report.txt, .json, .html), point DIR/latest at "
        "it, record it in DIR/history.sqlite and mark what is new since the previous run",
    )
    parser.add_argument(
        "--keep",
        type=_positive(int, MAX_COUNT),
        metavar="N",
        help="with --report-dir: keep N run folders",
    )
    parser.add_argument(
        "--keep-history",
        type=_positive(int, MAX_COUNT),
        metavar="N",
        help="with --report-dir: keep N runs in history.sqlite (each host's latest run stays)",
    )
    _trend_arg(parser, "with --report-dir: ")
    parser.add_argument(
        "--waivers", metavar="FILE", help="YAML file of accepted drift (reason and expiry required)"
    )
    parser.add_argument("--junit", metavar="FILE", help="also write a JUnit XML file")
    parser.add_argument(
        "--prometheus", metavar="FILE", help="also write a node_exporter textfile (*.prom)"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="nothing on stdout when clean, else one line"
    )


def scan(args: argparse.Namespace) -> int:
    _inventory, hosts, states_dir = _hosts_and_states(args)
    states = _load_states(hosts, states_dir)
    publishing = _publish_options(args)  # a broken waivers file stops us before any connection
    with _lock(publishing.report_dir):
        report = build_report(*_run(args, hosts, states, states_dir))
        report = publish(report, publishing)
    _print(report, args)
    return exit_status(report)


def _run(
    args: argparse.Namespace,
    hosts: list[Host],
    states: Mapping[str, DeclaredState],
    states_dir: Path,
) -> tuple[RunInfo, list[HostResult], dict[str, dict[str, dict[str, str | None]]]]:
    options = ScanOptions(
        transport=TransportOptions(
            timeout=args.timeout,
            known_hosts=Path(args.known_hosts) if args.known_hosts else None,
            accept_new_host_keys=args.accept_new_host_keys,
            ssh_config=Path(args.ssh_config) if args.ssh_config else None,
        ),
        forks=args.forks,
    )
    started = time.time()
    progress = Progress(len(hosts), sys.stderr)
    audits = run_parallel(
        hosts, lambda host: audit_host(host, states[host.name], options), args.forks, progress
    )
    progress.finish()
    run = RunInfo(
        id=new_run_id(started),
        started=started,
        finished=time.time(),
        inventory=str(args.inventory),
        states=str(states_dir),
        limit=args.limit,
    )
    return run, [a.result for a in audits], package_spread(audits)


def _publish_options(args: argparse.Namespace) -> PublishOptions:
    return PublishOptions(
        report_dir=Path(args.report_dir) if args.report_dir else None,
        waivers=tuple(load_waivers(Path(args.waivers))) if args.waivers else None,
        keep=args.keep,
        keep_history=args.keep_history,
        trend=args.trend,
        junit=Path(args.junit) if args.junit else None,
        prometheus=Path(args.prometheus) if args.prometheus else None,
    )


def _lock(report_dir: Path | None) -> contextlib.AbstractContextManager[None]:
    if report_dir is None:
        return contextlib.nullcontext()
    report_dir.mkdir(parents=True, exist_ok=True)
    return report_dir_lock(report_dir)


def _print(report: Mapping[str, Any], args: argparse.Namespace) -> None:
    if not args.quiet:
        sys.stdout.write(render(args.format, report))
    elif exit_status(report) != ExitStatus.COMPLIANT:
        sys.stdout.write(summary_line(report) + "\n")


def new_run_id(started: float) -> str:
    stamp = datetime.fromtimestamp(started, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(2)}"


class Progress:
    """Hosts done/total and failures so far, on a terminal only: nothing of the kind under cron."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.stream = stream
        self.enabled = stream.isatty()

    def __call__(self, audit: Audit) -> None:
        self.done += 1
        self.failed += audit.result.status.value in ("unreachable", "error")
        if self.enabled:
            self.stream.write(f"\r{self.done}/{self.total} hosts, {self.failed} not audited ")
            self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


# --- inventory, validate, report ---------------------------------------------------------


def inventory_arguments(parser: argparse.ArgumentParser) -> None:
    _inventory_args(parser)
    parser.add_argument("-F", "--ssh-config", metavar="FILE", help="ssh_config file to honour")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def inventory(args: argparse.Namespace) -> int:
    _inv, hosts, states_dir = _hosts_and_states(args)
    ssh_config = Path(args.ssh_config) if args.ssh_config else None
    rows = [_inventory_row(h, states_dir, ssh_config) for h in hosts]
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
    return 0


def _inventory_row(host: Host, states_dir: Path, ssh_config: Path | None) -> dict[str, Any]:
    route = ""
    if host.connection in ("ssh", "paramiko", "smart"):
        resolved = resolve_route(host, ssh_config)
        route = " -> ".join(str(hop) for hop in (*resolved.jumps, resolved.target))
    return {
        "name": host.name,
        "address": host.address,
        "route": route,
        "connection": host.connection,
        "groups": list(host.groups),
        "state_files": [str(p) for p in state_files_for(states_dir, host)],
    }


def validate(args: argparse.Namespace) -> int:
    _inv, hosts, states_dir = _hosts_and_states(args)
    states = _load_states(hosts, states_dir)
    files = {s for state in states.values() for s in state.sources}
    print(f"ok: {len(hosts)} hosts, {len(files)} state files rendered and valid ({states_dir})")
    return 0


def report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "report", metavar="REPORT.json", nargs="?", help="a saved JSON report (or --run)"
    )
    parser.add_argument("--format", choices=sorted(FORMATS), default="html")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    parser.add_argument(
        "--report-dir", metavar="DIR", default="reports", help="with --run (default: reports)"
    )
    parser.add_argument(
        "--run",
        metavar="ID",
        help="render this recorded run of DIR/history.sqlite (id or unique prefix), with its "
        "trend up to it; from its run folder while kept, else rebuilt from the history",
    )
    _trend_arg(parser, "with --run: ")


def report(args: argparse.Namespace) -> int:
    if (args.report is None) == (args.run is None):
        raise UsageError("report: give either REPORT.json or --run ID")
    if args.run is not None:
        data = recorded(_history_dir(args), args.run, args.trend)
    else:
        data = _saved_report(Path(args.report))
    output = render(args.format, data)
    if args.output:
        write_atomic(Path(args.output), output)
    else:
        sys.stdout.write(output)
    return 0


def _saved_report(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from exc
    return load_report(text, str(path))


def _history_dir(args: argparse.Namespace) -> Path:
    directory = Path(args.report_dir)
    if not (directory / HISTORY_FILE).is_file():
        raise UsageError(f"{directory}: no {HISTORY_FILE} (run a scan with --report-dir first)")
    return directory


def history_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report-dir", metavar="DIR", default="reports", help="default: reports")
    parser.add_argument("--host", help="one host's status and findings over the runs")
    parser.add_argument(
        "--limit", type=_positive(int, MAX_COUNT), default=20, help="runs shown (default 20)"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")


HISTORY_COLUMNS = (
    "id",
    "started",
    "hosts",
    "compliant",
    "snowflake",
    "unreachable",
    "error",
    "findings",
    "new",
    "resolved",
)


def history(args: argparse.Namespace) -> int:
    rows = history_rows(_history_dir(args), args.host, args.limit)
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    columns = HISTORY_COLUMNS + (("host", "status") if args.host else ())
    table = [[row.get(c) for c in columns] for row in rows]
    strip = host_strip(_history_dir(args), args.host, args.limit) if args.host else ""
    if strip:
        print(f"{clean(args.host)} over the last {len(strip)} runs, oldest first: {strip}")
        print(f"({strip_legend(strip)})\n")
    sys.stdout.write(tabulate(table, headers=list(columns)) + "\n")
    return 0


def diff_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_a", metavar="RUN_A", help="run id (or a unique prefix)")
    parser.add_argument("run_b", metavar="RUN_B", help="run id (or a unique prefix)")
    parser.add_argument("--report-dir", metavar="DIR", default="reports", help="default: reports")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def diff(args: argparse.Namespace) -> int:
    changes = run_diff(_history_dir(args), args.run_a, args.run_b)
    if args.format == "json":
        sys.stdout.write(json.dumps(changes, indent=2) + "\n")
        return 0
    print(f"{changes['previous_run']} -> {changes['run']}: {changes['line']}")
    for label in ("new", "resolved", "carried"):
        rows = [
            [
                clean(f["host"]),
                f["target"],
                f["category"],
                clean(f["item"]),
                f["kind"],
                clean(f.get("expected")),
                clean(f.get("actual")),
            ]
            for f in changes[label]
        ]
        if rows:
            print(f"\n{label}:")
            headers = ["host", "target", "category", "item", "kind", "expected", "actual"]
            print(tabulate(rows, headers=headers))
    return 0


COMMANDS: dict[str, tuple[str, AddArguments, Run]] = {
    "scan": ("audit the hosts against their declared state", scan_arguments, scan),
    "inventory": ("list hosts, groups, addresses and state files", inventory_arguments, inventory),
    "validate": (
        "render and check every host's declared state, without connecting",
        _inventory_args,
        validate,
    ),
    "report": ("re-render a saved JSON report", report_arguments, report),
    "history": ("past runs from REPORT_DIR/history.sqlite", history_arguments, history),
    "diff": ("what changed between two recorded runs", diff_arguments, diff),
}
