"""The progress line a terminal shows during a scan."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from driftcheck.model.vocab import Status

if TYPE_CHECKING:
    from driftcheck.scan import Audit


class Progress:
    """Hosts done/total and failures so far, on a terminal only: nothing of the kind under cron."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.stream = stream
        self.enabled = stream.isatty()

    def __call__(self, audit: Audit) -> None:
        self.done += 1
        self.failed += audit.result.status in (Status.UNREACHABLE, Status.ERROR)
        if self.enabled:
            self.stream.write(f"\r{self.done}/{self.total} hosts, {self.failed} not audited ")
            self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
