"""The commands that read a report directory's history: `history` and `diff`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from driftcheck.cli.argtypes import MAX_COUNT, positive


def history_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report-dir", metavar="DIR", default="reports", help="default: reports")
    parser.add_argument("--host", help="one host's status and findings over the runs")
    parser.add_argument(
        "--limit", type=positive(int, MAX_COUNT), default=20, help="runs shown (default 20)"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")


def history(args: argparse.Namespace) -> int:
    from driftcheck.nightly.publish import history_rows, host_strip
    from driftcheck.render.history import history_text

    rows = history_rows(Path(args.report_dir), args.host, args.limit)
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    strip = host_strip(Path(args.report_dir), args.host, args.limit) if args.host else ""
    sys.stdout.write(history_text(rows, args.host, strip))
    return 0


def diff_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_a", metavar="RUN_A", help="run id (or a unique prefix)")
    parser.add_argument("run_b", metavar="RUN_B", help="run id (or a unique prefix)")
    parser.add_argument("--report-dir", metavar="DIR", default="reports", help="default: reports")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def diff(args: argparse.Namespace) -> int:
    from driftcheck.nightly.publish import run_diff
    from driftcheck.render.history import diff_text

    changes = run_diff(Path(args.report_dir), args.run_a, args.run_b)
    sys.stdout.write(
        json.dumps(changes, indent=2) + "\n" if args.format == "json" else diff_text(changes)
    )
    return 0
