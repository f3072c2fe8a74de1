"""Move bytes through one exec channel: stdin out, stdout and stderr in, all interleaved.

Reading stdout to the end before stderr deadlocks once the remote fills the stderr window; so
does writing all of stdin before reading anything when the remote echoes. One loop does all three.
"""

from __future__ import annotations

import select
import time
from typing import TYPE_CHECKING

from driftcheck.errors import DeadlineError
from driftcheck.model import CommandResult

if TYPE_CHECKING:  # a type only: the local backend uses Sink without loading paramiko
    import paramiko

_CHUNK = 1 << 16
_SEND_POLL = 0.01  # paramiko has no fd that signals send-window space: poll while blocked


class Sink:
    """stdout and stderr under one shared byte budget."""

    def __init__(self, cap: int) -> None:
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.room = cap
        self.truncated = False

    def take(self, buf: bytearray, data: bytes) -> None:
        keep = data[: self.room]
        buf += keep
        self.room -= len(keep)
        if len(keep) < len(data):
            self.truncated = True

    def result(self, rc: int) -> CommandResult:
        return CommandResult(rc, bytes(self.stdout), bytes(self.stderr), self.truncated)


class _Feeder:
    """Writes stdin as the send window allows, then signals EOF."""

    def __init__(self, chan: paramiko.Channel, data: bytes) -> None:
        self.chan = chan
        self.data = data
        self.offset = 0
        self.done = False

    def step(self) -> None:
        try:
            while not self.done and self.chan.send_ready():
                self.offset += self.chan.send(self.data[self.offset : self.offset + _CHUNK])
                if self.offset >= len(self.data):
                    self.chan.shutdown_write()
                    self.done = True
        except OSError:
            self.done = True  # the remote stopped reading (exited): like SIGPIPE, not an error

    @property
    def blocked(self) -> bool:
        return not self.done and not self.chan.send_ready()


def pump(chan: paramiko.Channel, stdin: bytes, cap: int, deadline: float) -> CommandResult:
    """Run the exchange to the remote exit status; close the channel early at the cap."""
    sink = Sink(cap)
    feeder = _Feeder(chan, stdin)
    chan.fileno()  # creates the pipe that select() watches for stdout and stderr alike
    while True:
        feeder.step()
        # Read the flag before draining: everything sent before EOF is buffered by then.
        finished = chan.eof_received or chan.closed
        _drain(chan, sink)
        if sink.truncated:
            chan.close()
            return sink.result(-1)
        if finished:
            return sink.result(_exit_status(chan, deadline))
        if feeder.done:
            _wait(chan, deadline, None)
        elif feeder.blocked:
            _wait(chan, deadline, _SEND_POLL)
        else:  # the send window opened after step() stopped: send at once, never wait on reads
            _remaining(deadline)  # (the remote may be waiting for this very input)


def _drain(chan: paramiko.Channel, sink: Sink) -> None:
    while not sink.truncated and (chan.recv_ready() or chan.recv_stderr_ready()):
        if chan.recv_ready():
            sink.take(sink.stdout, chan.recv(_CHUNK))
        if chan.recv_stderr_ready():
            sink.take(sink.stderr, chan.recv_stderr(_CHUNK))


def _wait(chan: paramiko.Channel, deadline: float, poll: float | None) -> None:
    remaining = _remaining(deadline)
    select.select([chan], [], [], remaining if poll is None else min(poll, remaining))


def _exit_status(chan: paramiko.Channel, deadline: float) -> int:
    while not chan.status_event.wait(_remaining(deadline)):
        pass
    return chan.exit_status  # -1: the command ended without a status (killed by a signal)


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise DeadlineError("command still running at the deadline")
    return remaining
