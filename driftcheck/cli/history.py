"""The commands that read a report directory's history: `history` and `diff`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from driftcheck.cli.argtypes import MAX_COUNT, positive
from driftcheck.model.vocab import STATUSES


def history_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report-dir", metavar="DIR", default="reports", help="default: reports")
    parser.add_argument("--host", help="one host's status and findings over the runs")
    parser.add_argument(
        "--limit", type=positive(int, MAX_COUNT), default=20, help="runs shown (default 20)"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")


HISTORY_COLUMNS = ("id", "started", "hosts", *STATUSES, "findings", "new", "resolved")


def history(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from driftcheck.nightly.publish import history_rows, host_strip
    from driftcheck.render.text import clean
    from driftcheck.render.timeline import strip_legend

    rows = history_rows(Path(args.report_dir), args.host, args.limit)
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    columns = HISTORY_COLUMNS + (("host", "status") if args.host else ())
    table = [[row.get(c) for c in columns] for row in rows]
    strip = host_strip(Path(args.report_dir), args.host, args.limit) if args.host else ""
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
    from tabulate import tabulate

    from driftcheck.nightly.publish import run_diff
    from driftcheck.render.text import clean

    changes = run_diff(Path(args.report_dir), args.run_a, args.run_b)
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
