"""The one place where commands become shell text.

Everything that reaches a remote shell (argv over SSH, paths and unit names inside the collector
script) is quoted here, so a declared path like `/etc/it's $(touch PWNED).conf` is data, never code.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence


def quote(word: str) -> str:
    """Quote one word for a POSIX shell. NUL cannot be passed through a shell at all."""
    if "\0" in word:
        raise ValueError("a shell word cannot contain a NUL byte")
    return shlex.quote(word)


def join(argv: Sequence[str]) -> str:
    """Quote an argv into one POSIX shell command line."""
    return " ".join(quote(word) for word in argv)


def become(argv: Sequence[str], user: str | None) -> list[str]:
    """Wrap argv in `sudo -n` (never a password prompt: -n fails instead of asking)."""
    prefix = ["sudo", "-n"]
    if user and user != "root":
        prefix += ["-u", user]
    return [*prefix, "--", *argv]
