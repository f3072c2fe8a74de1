"""The process groups a run starts on this machine: local commands (a `local` host's collector,
an inventory or vault password script), ProxyCommands and `Match exec` tests. Each runs in a
session of its own so that its deadline kills it and everything it started.

A run stopped early (SIGTERM, Ctrl-C, a crash) leaves its hosts' threads behind, and the groups
they started would outlive it, nobody reading them, a ProxyCommand or a container's exec running
on after a cron job's time limit. The CLI's one exit point ends them all (`end_all`), and a
group started after that, by a thread still running, is killed as it starts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

_LOCK = threading.Lock()
_LIVE: set[int] = set()  # process group ids (the leader's pid) not yet reaped
_STOPPING = False


def started(proc: subprocess.Popen[bytes]) -> None:
    """`proc` leads a new session: ended with the run if the run stops first."""
    with _LOCK:
        if not _STOPPING:
            _LIVE.add(proc.pid)
            return
    _kill(proc.pid)


def reaped(proc: subprocess.Popen[bytes]) -> None:
    """`proc` was waited for: its group id may be reused, it is not ours to kill any more."""
    with _LOCK:
        _LIVE.discard(proc.pid)


def end_all() -> None:
    """SIGKILL every group still running, and every group started from now on."""
    global _STOPPING  # noqa: PLW0603 - one run's state, as the signal handlers are
    with _LOCK:
        _STOPPING = True
        groups = sorted(_LIVE)
        _LIVE.clear()
    for pgid in groups:
        _kill(pgid)


def begin() -> None:
    """A run begins (the CLI's entry point): groups may be started again."""
    global _STOPPING  # noqa: PLW0603
    with _LOCK:
        _STOPPING = False


def _kill(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
