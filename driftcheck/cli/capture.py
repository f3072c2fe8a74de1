"""`driftcheck capture`: arguments, then the library (driftcheck.capture) does the work."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from driftcheck.cli.common import transport_args, transport_options
from driftcheck.errors import UsageError

# Imports on demand, as in driftcheck.cli.commands: `--help` loads no library.


def capture_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-i", "--inventory", required=True, help="inventory file or directory (Ansible format)"
    )
    parser.add_argument("host", metavar="HOST", help="the golden host (an inventory host name)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
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
        help="also declare this file (sha256, mode, owner, group); globs are expanded on the "
        "host (repeatable)",
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
    from driftcheck.atomic import write_atomic
    from driftcheck.capture import capture as capture_host
    from driftcheck.capture import render_yaml
    from driftcheck.inventory import load_inventory

    inventory = load_inventory(args.inventory)
    host = inventory.hosts.get(args.host)
    if host is None:
        raise UsageError(f"{args.host}: no such host in the inventory")
    output = Path(args.output) if args.output else None
    if output is not None and output.exists() and not args.force:
        raise UsageError(f"{output}: exists (use --force to overwrite it)")
    transport = transport_options(args)
    directories = [_absolute(path, "--directory") for path in args.directory]
    captured = capture_host(host, transport, args.file, args.versions, directories)
    text = render_yaml(captured, time.time())
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomic(output, text)
    return 0


def _absolute(path: str, option: str) -> str:
    """A normal absolute path (the state's own rule: no '..', no NUL)."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if not path.startswith("/") or ".." in parts or "\0" in path:
        raise UsageError(f"{option} {path!r}: an absolute path without '..'")
    return "/" + "/".join(parts)
