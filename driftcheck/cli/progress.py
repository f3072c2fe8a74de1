"""Run ids, and the progress line a terminal shows during a scan."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from driftcheck.model.vocab import Status

if TYPE_CHECKING:
    from driftcheck.scan import Audit


def new_run_id(started: float) -> str:
    """`20261130T033000Z-1234`: the start second, then its milliseconds and one random hex
    digit. Run folders are pruned and listed in name order, so two runs started in the same
    second must still sort by time (a random suffix alone let `--keep` keep the older one)."""
    moment = datetime.fromtimestamp(started, UTC)
    stamp = moment.strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{moment.microsecond // 1000:03d}{secrets.token_hex(1)[0]}"


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
