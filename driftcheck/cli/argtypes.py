"""Argument types shared by the commands."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

# Upper bounds of numeric options: past them a value is a typo or an attack, never a plan.
MAX_FORKS = 1024  # each fork holds a thread and an SSH connection (file descriptors)
MAX_TIMEOUT = 86400.0  # seconds: one day per host
MAX_COUNT = 1_000_000_000  # run folders, history rows, runs listed: SQLite and sane

Number = TypeVar("Number", int, float)


def positive(kind: Callable[[str], Number], maximum: float) -> Callable[[str], Number]:
    """A finite number in (0, maximum]: `nan`, `inf` and `1e300` are usage errors."""

    def parse(text: str) -> Number:
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


def output_file(text: str) -> Path:
    """A file the command will write (`-o`, `--junit`, `--prometheus`): a path (see
    check_output, which the command line runs before the command does anything)."""
    if "\0" in text:
        raise argparse.ArgumentTypeError(f"{text!r}: a file name holds no NUL byte")
    return Path(text)


# The options that name a file a command writes (argtypes.output_file).
OUTPUT_OPTIONS = ("output", "junit", "prometheus")


def output_problem(path: Path) -> str | None:
    """Why `path` cannot be written, known before any connection: its directory is missing or
    cannot be written, or the path is a directory, a device or a FIFO (which the atomic write
    would replace with a file). Whether the write itself succeeds (disk full) is known only
    then."""
    if path.is_dir():
        return f"{path}: is a directory"
    if path.exists() and not path.is_file():
        return f"{path}: not a regular file (without it: stdout)"
    parent = path.parent
    if not parent.is_dir():
        return f"{path}: no such directory: {parent}"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"{path}: cannot write into {parent}"
    return None
