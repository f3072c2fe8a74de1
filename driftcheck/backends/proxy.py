"""Local commands the SSH setup asks for: a ProxyCommand, a `Match exec` test.

Both run through the user's shell as OpenSSH runs them (`$SHELL -c 'exec COMMAND'` for a
ProxyCommand, `$SHELL -c COMMAND` for a `Match exec`; /bin/sh without $SHELL), in a session of
their own, so the deadline can end the command AND everything it started (`aws ssm
start-session` runs a plugin, `ssh -W` may run its own ProxyCommand): the whole process group is
killed. paramiko.ProxyCommand is not used: it splits the command without a shell, and its close()
signals only the first process and never reaps it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from typing import IO

from driftcheck import sessions

_STDERR_KEPT = 2000  # characters of the proxy's stderr quoted in an error
_GRACE = 1.0  # seconds a proxy gets to exit after SIGTERM, on a normal close


class ProxyProcess:
    """A running ProxyCommand; `sock` is the end paramiko reads and writes."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.sock, theirs = socket.socketpair()
        # Closed in release(): it lives as long as the proxy.
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._lock = threading.Lock()
        self._ended = False
        try:
            self.proc = subprocess.Popen(
                [shell(), "-c", f"exec {command}"],
                stdin=theirs.fileno(),
                stdout=theirs.fileno(),
                stderr=self._stderr,
                start_new_session=True,  # its own process group: killpg reaches its children
                close_fds=True,
            )
        except OSError:
            self.sock.close()
            self._stderr.close()
            raise
        finally:
            theirs.close()
        sessions.started(self.proc)

    def close(self) -> None:
        """End the proxy and its process group; idempotent, safe from the watchdog's thread."""
        self._end(_GRACE)

    def kill(self) -> None:
        """At the deadline: no grace, the whole group at once."""
        self._end(0.0)

    def _end(self, grace: float) -> None:
        with self._lock:
            self.sock.close()
            if not self._ended:
                self._ended = True
                _end_group(self.proc, grace)

    def stderr_tail(self) -> str:
        """What the proxy said on stderr (its last lines), for an error message."""
        with contextlib.suppress(OSError, ValueError):
            self._stderr.seek(0, os.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - _STDERR_KEPT))
            text = self._stderr.read().decode(errors="replace").strip()
            return " ".join(text.split())
        return ""

    def release(self) -> None:
        self.close()
        self._stderr.close()


class DeadlineKill:
    """What the watchdog holds for a proxy: closing it kills the group without grace."""

    def __init__(self, proxy: ProxyProcess) -> None:
        self.proxy = proxy

    def close(self) -> None:
        self.proxy.kill()


def run_test(command: str, deadline: float) -> int | None:
    """Run a `Match exec` test: its exit status, or None if it was still running at the
    deadline (then it and its children were killed). stdin and stdout are /dev/null, as
    OpenSSH gives them; stderr is ours, as in OpenSSH. Not `exec COMMAND`: a test may be a
    list (`a && b`, `! test -e F`), and its status is the whole list's."""
    proc = subprocess.Popen(
        [shell(), "-c", command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )
    sessions.started(proc)
    try:
        status = proc.wait(max(0.001, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        _end_group(proc, 0.0)
        return None
    sessions.reaped(proc)
    return status


def shell() -> str:
    """The shell OpenSSH runs these commands with: $SHELL, else /bin/sh."""
    return os.environ.get("SHELL") or "/bin/sh"


def _end_group(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM (when there is a grace period) then SIGKILL to the process group; reap the leader.
    The group outlives its leader, so the group is killed even when the leader already left."""
    if grace > 0:
        _killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
    _killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    sessions.reaped(proc)


def _killpg(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
