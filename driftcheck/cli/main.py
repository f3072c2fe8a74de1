"""Thin commands over the library. `main()` is the one place that exits."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from driftcheck.cli.commands import COMMANDS
from driftcheck.cli.debuglog import route_logging
from driftcheck.errors import DriftcheckError, ExitStatus, UsageError
from driftcheck.version import __version__

EPILOG = """\
exit status:
  0    every host audited and compliant
  1    every host audited, at least one snowflake
  2    at least one host unreachable, in error or unchecked (whatever else was found)
  3    usage, inventory or state error (the message names file and line)
  74   the report directory or an output file could not be written (read-only, disk full)
  75   another scan holds the report directory's lock
  130  interrupted
"""


class Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage; our contract says 3, through the one exit point."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> Parser:
    parser = Parser(
        prog="driftcheck",
        description="Audit a fleet over SSH against its declared state; mark the snowflakes.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"driftcheck {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name, (help_text, add_arguments, _run) in COMMANDS.items():
        command = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add_arguments(command)
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    runner: Callable[[argparse.Namespace], int] = COMMANDS[args.command][2]
    return runner(args)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The one exit point: expected errors print one line, unexpected ones a saved traceback."""
    route_logging()  # libraries log to a debug log when asked (scan --debug-log), never stderr
    try:
        status = run(argv)
    except KeyboardInterrupt:
        print("driftcheck: interrupted", file=sys.stderr)
        status = ExitStatus.INTERRUPTED
    except DriftcheckError as exc:
        print(f"driftcheck: error: {exc}", file=sys.stderr)
        status = exc.exit_status
    except BrokenPipeError:
        # `driftcheck scan | head`: the reader left; say nothing more on a closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = ExitStatus.INCOMPLETE
    except Exception as exc:
        status = _crash(exc)
    sys.exit(int(status))


def _crash(exc: Exception) -> int:
    fd, path = tempfile.mkstemp(prefix="driftcheck-crash-", suffix=".txt")
    with os.fdopen(fd, "w") as out:
        traceback.print_exception(exc, file=out)
    print(f"driftcheck: internal error: {exc!r}; traceback saved to {Path(path)}", file=sys.stderr)
    return ExitStatus.INCOMPLETE
