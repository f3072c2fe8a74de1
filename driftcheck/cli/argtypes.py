"""Argument types shared by the commands."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
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
