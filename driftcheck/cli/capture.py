"""`driftcheck capture`: arguments, then the library (driftcheck.capture) does the work."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from driftcheck.cli.argtypes import output_file
from driftcheck.cli.common import (
    inventory_arg,
    load_inventory_of,
    transport_args,
    transport_options,
    write_output,
)
from driftcheck.errors import UsageError

# Imports on demand, as in driftcheck.cli.commands: `--help` loads no library.


def capture_arguments(parser: argparse.ArgumentParser) -> None:
    inventory_arg(parser)
    parser.add_argument("host", metavar="HOST", help="the golden host (an inventory host name)")
    parser.add_argument(
        "-o", "--output", type=output_file, metavar="FILE", help="write here (default: stdout)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing FILE")
    parser.add_argument(
        "--versions",
        choices=("exact", "present"),
        default="exact",
        help="packages with their exact versions (default) or names only",
    )
    parser.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="PATH",
        help="also declare this file (sha256, mode, owner, group): an absolute path without "
        "'..'; globs are expanded on the host (repeatable)",
    )
    parser.add_argument(
        "--directory",
        action="append",
        default=[],
        metavar="PATH",
        help="also declare the exact entries of this directory (besides /etc/cron.d, "
        "/etc/sudoers.d, /etc/ssh/sshd_config.d, /etc/apt/sources.list.d, ...; repeatable)",
    )
    transport_args(parser, 60.0, "connect, auth and both collections")


def capture(args: argparse.Namespace) -> int:
    from driftcheck.capture import capture as capture_host
    from driftcheck.capturefile import render_yaml, validated
    from driftcheck.render.text import clean

    inventory = load_inventory_of(args)
    host = inventory.hosts.get(args.host) or inventory.localhost.get(args.host)
    if host is None:
        raise UsageError(f"{args.host}: no such host in the inventory")
    output: Path | None = args.output
    if output is not None and output.exists() and not args.force:
        raise UsageError(f"{output}: exists (use --force to overwrite it)")
    transport = transport_options(args)
    directories = [_absolute(path, "--directory") for path in args.directory]
    patterns = [_absolute(path, "--file") for path in args.file]
    captured = capture_host(host, transport, patterns, args.versions, directories)
    text = validated(render_yaml(captured, time.time()))
    for note in captured.notes:  # also in the file, as comments
        print(f"driftcheck: warning: not captured: {clean(note)}", file=sys.stderr)
    write_output(output, text)
    return 0


def _absolute(path: str, option: str) -> str:
    """A path as a state declares it (the state's own rule: absolute, no '..', no NUL), in its
    one spelling; for --file, a glob the host expands."""
    from driftcheck.state.rules import Refused, declared_path

    try:
        return declared_path(path)
    except Refused as exc:
        raise UsageError(f"{option} {path!r}: {exc}") from None
