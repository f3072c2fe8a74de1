"""Thin commands over the library. `main()` is the one place that exits."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn

from driftcheck import sessions
from driftcheck.cli.argtypes import OUTPUT_OPTIONS, output_problem
from driftcheck.cli.commands import COMMANDS
from driftcheck.cli.debuglog import route_logging
from driftcheck.errors import DriftcheckError, ExitStatus, Terminated, UsageError
from driftcheck.version import __version__

EPILOG = """\
exit status:
  0    every host audited and compliant
  1    every host audited, at least one snowflake
  2    at least one host unreachable, in error or unchecked (whatever else was found)
  3    usage, inventory or state error (the message names file and line)
  74   the report directory or an output file could not be written (read-only, disk full)
  75   another scan holds the report directory's lock
  130  interrupted (Ctrl-C, SIGINT)
  143  stopped by SIGTERM (timeout, systemd); the report directory keeps its last complete run
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
    check_outputs(args)
    runner: Callable[[argparse.Namespace], int] = COMMANDS[args.command][2]
    return runner(args)


def check_outputs(args: argparse.Namespace) -> None:
    """Every file the command will write can be written, before it reads or connects to
    anything (parsing stays syntax only: a unit file's command line parses on any machine)."""
    for option in OUTPUT_OPTIONS:
        path = getattr(args, option, None)
        problem = output_problem(path) if path is not None else None
        if problem:
            flag = "-o/--output" if option == "output" else f"--{option}"
            raise UsageError(f"driftcheck {args.command}: argument {flag}: {problem}")


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The one exit point: expected errors print one line, unexpected ones a saved traceback."""
    route_logging()  # libraries log to a debug log when asked (scan --debug-log), never stderr
    _stop_on_sigterm()
    sessions.begin()
    try:
        status = run(argv)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM as Terminated
        status = _interrupted(exc)
    except DriftcheckError as exc:
        print(f"driftcheck: error: {exc}", file=sys.stderr)
        status = exc.exit_status
    except BrokenPipeError:
        # `driftcheck scan | head`: the reader left; say nothing more on a closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = ExitStatus.INCOMPLETE
    except Exception as exc:
        status = _crash(exc)
    finally:
        # a run stopped early leaves hosts' threads behind: what they started here ends with it
        sessions.end_all()
    sys.exit(int(status))


def _stop_on_sigterm() -> None:
    """SIGTERM stops a run as Ctrl-C does: Python raises KeyboardInterrupt in the main thread,
    and this raises Terminated there, so the same clean-up runs on the way out (temporary files
    and an unfinished run folder removed, a history transaction rolled back, the lock released).
    A SIGTERM ignored by whoever started us stays ignored, as Python leaves an ignored SIGINT."""
    if threading.current_thread() is threading.main_thread() and (
        signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    ):
        signal.signal(signal.SIGTERM, _terminate)


def _terminate(_signum: int, _frame: FrameType | None) -> NoReturn:
    raise Terminated


def _interrupted(exc: KeyboardInterrupt) -> ExitStatus:
    if isinstance(exc, Terminated):
        print("driftcheck: terminated (SIGTERM)", file=sys.stderr)
        return ExitStatus.TERMINATED
    print("driftcheck: interrupted", file=sys.stderr)
    return ExitStatus.INTERRUPTED


def _crash(exc: Exception) -> int:
    fd, path = tempfile.mkstemp(prefix="driftcheck-crash-", suffix=".txt")
    with os.fdopen(fd, "w") as out:
        traceback.print_exception(exc, file=out)
    print(f"driftcheck: internal error: {exc!r}; traceback saved to {Path(path)}", file=sys.stderr)
    return ExitStatus.INCOMPLETE
