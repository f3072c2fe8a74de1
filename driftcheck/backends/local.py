"""ansible_connection=local: run argv on this machine, same contract as the SSH backend."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence

from driftcheck.backends.options import TransportOptions, become_argv
from driftcheck.backends.pump import Sink
from driftcheck.errors import DeadlineError
from driftcheck.models import CommandResult, Host

_REAP_GRACE = 2.0  # after SIGKILL, how long to wait for the pipes to close


class LocalBackend:
    def __init__(self, host: Host, options: TransportOptions) -> None:
        self._host = host
        self._options = options

    def run(self, argv: Sequence[str], stdin: bytes, deadline: float) -> CommandResult:
        argv = list(become_argv(self._host, argv))
        try:
            # A new session, so the deadline kills the command's children too.
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:  # like a shell: a missing command is rc 127, data not failure
            return CommandResult(127, b"", f"{argv[0]}: {exc.strerror or exc}\n".encode())
        try:
            out, err = proc.communicate(stdin, timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired as exc:
            _kill(proc)
            raise DeadlineError(
                f"local command still running at the deadline ({self._options.timeout:g}s)"
            ) from exc
        return _capped(proc.returncode, out, err, self._options.output_cap)

    def close(self) -> None:
        """Nothing stays open between commands."""


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    try:
        proc.communicate(timeout=_REAP_GRACE)
    except subprocess.TimeoutExpired:  # a grandchild escaped the group and holds the pipes
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe:
                pipe.close()
        proc.wait()


def _capped(rc: int, out: bytes, err: bytes, cap: int) -> CommandResult:
    sink = Sink(cap)
    sink.take(sink.stdout, out)
    sink.take(sink.stderr, err)
    return sink.result(rc)
