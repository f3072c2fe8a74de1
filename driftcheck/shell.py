"""The one place where commands become shell text.

Everything that reaches a remote shell (argv over SSH, paths and unit names inside the collector
script) is quoted here, so a declared path like `/etc/it's $(touch PWNED).conf` is data, never code.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Sequence


def quote(word: str) -> str:
    """Quote one word for a POSIX shell. NUL cannot be passed through a shell at all."""
    if "\0" in word:
        raise ValueError("a shell word cannot contain a NUL byte")
    return shlex.quote(word)


# What makes shlex.split more than a split on blanks: quotes and escape (and `#` with comments).
_SHLEX_SPECIAL = frozenset("'\"\\")
_SHLEX_BLANKS = re.compile(r"[ \t\r\n]+")  # shlex.whitespace: words split at these only


def split(text: str, *, comments: bool = False) -> list[str]:
    """shlex.split(text, comments=comments). A text without quotes, backslashes (or `#`, with
    comments) is split on shlex's blanks without shlex: the same words, ~10x faster, for the
    thousands of inventory host lines and os-release values a run reads. ValueError as shlex."""
    if _SHLEX_SPECIAL.isdisjoint(text) and not (comments and "#" in text):
        stripped = text.strip(" \t\r\n")
        return _SHLEX_BLANKS.split(stripped) if stripped else []
    return shlex.split(text, comments=comments)


def join(argv: Sequence[str]) -> str:
    """Quote an argv into one POSIX shell command line."""
    return " ".join(quote(word) for word in argv)


def become(argv: Sequence[str], user: str | None) -> list[str]:
    """Wrap argv in `sudo -n` (never a password prompt: -n fails instead of asking)."""
    prefix = ["sudo", "-n"]
    if user and user != "root":
        prefix += ["-u", user]
    return [*prefix, "--", *argv]


# `sh -c BOUNDED_SH SECONDS` runs the script on stdin under `timeout -s KILL SECONDS` where the
# target has GNU coreutils' timeout: a collection that hangs on the target (a hung mount, a stuck
# tool) is killed there with its process group, even once our end has gone and nobody reads its
# output; inside a container this also reaches the processes `exec` started, which killing the
# engine's client leaves running. Busybox's timeout is not used: it leaves a watcher process
# that, orphaned in a container whose PID 1 does not reap, would end as a zombie after every
# audit (busybox's sh names its applets without a path; other shells give busybox's path).
# Without a usable timeout, or if it ran nothing (125: it failed), stdin is still whole and
# plain sh runs it.
# The output goes through `dd obs=65536`, which sends it in 64 KiB blocks: the script writes many
# small pieces, and each would be an SSH packet of its own (44 instead of 1 for 32 KB), which
# costs the client more CPU than the bytes do. dd is outside timeout's process group, so what
# was written before a kill still arrives; the script's status comes back on fd 4, closed in
# every command so that nothing the script starts can hold it.
BOUNDED_SH = (  # one line: a login shell that is not POSIX (csh) still passes it through
    't=$(command -v timeout) && case $t in /*) [ ! "$t" -ef "$(command -v busybox)" ] ;; '
    "*) false ;; esac || exec /bin/sh -s; "
    'if command -v dd >/dev/null; then exec 3>&1; rc=$({ { "$t" -s KILL "$0" /bin/sh -s 3>&- '
    '4>&-; echo "$?" >&4; } | dd obs=65536 2>/dev/null >&3 3>&- 4>&-; } 4>&1); '
    'else "$t" -s KILL "$0" /bin/sh -s; rc=$?; fi; '
    '[ "$rc" -eq 125 ] && exec /bin/sh -s; exit "${rc:-255}"'
)


def bounded_sh(seconds: float) -> list[str]:
    """argv that runs the script on stdin for at most `seconds` (rounded up) on the target."""
    return ["/bin/sh", "-c", BOUNDED_SH, str(max(1, math.ceil(seconds)))]
