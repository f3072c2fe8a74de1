"""The command line: argument parsing, the subcommands (each parses its arguments and calls the
library), progress on a terminal and the debug log's routing. `main()` is the one exit point."""

from driftcheck.cli.main import build_parser, main, run

__all__ = ["build_parser", "main", "run"]
