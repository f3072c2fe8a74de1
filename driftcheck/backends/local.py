"""ansible_connection=local: run argv on this machine, same contract as the SSH backend."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Sequence
from typing import IO

from driftcheck import sessions
from driftcheck.backends.options import TransportOptions, become_argv
from driftcheck.backends.pump import Sink
from driftcheck.errors import DeadlineError
from driftcheck.model import CommandResult, Host

_CHUNK = 1 << 16


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
        sessions.started(proc)
        try:
            return _exchange(proc, stdin, self._options.output_cap, deadline)
        except DeadlineError:
            _kill(proc)
            raise DeadlineError(
                f"local command still running at the deadline ({self._options.timeout:g}s)"
            ) from None
        finally:
            if proc.returncode is not None:  # else the run is stopping: sessions.end_all
                sessions.reaped(proc)

    def close(self) -> None:
        """Nothing stays open between commands."""


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the command's whole session. Our pipe ends are closed rather than drained: a
    grandchild that escaped the group and holds the pipes cannot keep us waiting."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    _close_all(proc)
    proc.wait()


def _exchange(
    proc: subprocess.Popen[bytes], stdin: bytes, cap: int, deadline: float
) -> CommandResult:
    """stdin out, stdout and stderr in, interleaved (no deadlock on large output) and kept
    under `cap` as it arrives: at the cap the command is killed (rc -1, truncated), so a
    flooding command or container cannot fill this process's memory."""
    feed, out, err = (_nonblocking(pipe) for pipe in (proc.stdin, proc.stdout, proc.stderr))
    sink = Sink(cap)
    buffers = {out.fileno(): sink.stdout, err.fileno(): sink.stderr}
    with selectors.DefaultSelector() as sel:
        sel.register(out, selectors.EVENT_READ)
        sel.register(err, selectors.EVENT_READ)
        if stdin:
            sel.register(feed, selectors.EVENT_WRITE)
        else:
            _close(feed)
        view, offset = memoryview(stdin), 0
        while sel.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineError("local command still running at the deadline")
            for key, _ in sel.select(remaining):
                if key.fd not in buffers:
                    offset = _feed(sel, feed, view, offset)
                elif data := os.read(key.fd, _CHUNK):
                    sink.take(buffers[key.fd], data)
                    if sink.truncated:
                        _kill(proc)
                        return sink.result(-1)
                else:
                    sel.unregister(key.fileobj)
    _close_all(proc)
    return sink.result(_wait(proc, deadline))


def _feed(sel: selectors.BaseSelector, pipe: IO[bytes], view: memoryview, offset: int) -> int:
    try:
        offset += os.write(pipe.fileno(), view[offset : offset + _CHUNK])
    except BrokenPipeError:  # the command stopped reading: like SIGPIPE, not an error
        offset = len(view)
    except BlockingIOError:
        return offset
    if offset >= len(view):
        sel.unregister(pipe)
        _close(pipe)
    return offset


def _wait(proc: subprocess.Popen[bytes], deadline: float) -> int:
    try:
        return proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        raise DeadlineError("local command still running at the deadline") from None


def _nonblocking(pipe: IO[bytes] | None) -> IO[bytes]:
    if pipe is None:
        raise RuntimeError("the command's pipes were not opened")
    os.set_blocking(pipe.fileno(), False)
    return pipe


def _close_all(proc: subprocess.Popen[bytes]) -> None:
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        _close(pipe)


def _close(pipe: IO[bytes] | None) -> None:
    if pipe is not None:
        with contextlib.suppress(OSError):
            pipe.close()
