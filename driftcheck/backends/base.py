"""A backend only runs commands. Transport failure raises TransportError; a remote non-zero
exit is data in CommandResult."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from driftcheck.model import CommandResult


class Backend(Protocol):
    def run(self, argv: Sequence[str], stdin: bytes, deadline: float) -> CommandResult:
        """Run argv with stdin; stop at `deadline` (time.monotonic() value) with DeadlineError."""
        ...

    def close(self) -> None: ...
