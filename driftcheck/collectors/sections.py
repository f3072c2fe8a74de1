"""Split the collector script's output into its delimited sections (format: collect.sh).

Markers carry a per-run random nonce, so nothing a host prints (file contents, package names,
os-release) can forge one. Splitting is total: anything out of order is simply not a section.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from driftcheck.errors import LimitError

UNSUPPORTED = "unsupported"


class ParseError(ValueError):
    """A section's body is not what its tool prints. Becomes a FAILED section, never escapes."""


@dataclass(frozen=True)
class RawSection:
    status: str  # the exit status as text, or "unsupported"
    body: bytes
    stderr: bytes = b""

    @property
    def rc(self) -> int | None:
        return int(self.status) if self.status.isdigit() else None

    def failure(self, tool: str) -> str:
        """Why a command section failed, with the first line of what it said on stderr."""
        said = text(self.stderr).strip().splitlines()
        return f"{tool} exited {self.status}" + (f": {said[0][:200]}" if said else "")


def marker_pattern(nonce: str) -> re.Pattern[bytes]:
    """A marker line. Matched anywhere (`at_line_start` says whether it starts a line): a
    pattern that starts with a literal is searched for as one, ten times as fast as `^`."""
    return re.compile(
        rb"::driftcheck:"
        + re.escape(nonce.encode())
        + rb":(begin|stderr|end):([A-Za-z0-9._-]+)(?::([a-z0-9]+))?$",
        re.MULTILINE,
    )


def at_line_start(stdout: bytes, match: re.Match[bytes]) -> bool:
    return match.start() == 0 or stdout[match.start() - 1] == 10  # b"\n"


@dataclass
class _Open:
    """The section being read: where its body starts, and its stderr once that began."""

    name: str
    start: int
    body_stop: int | None = None
    err_start: int | None = None

    def finish(self, stdout: bytes, end: re.Match[bytes]) -> RawSection:
        stop = max(self.err_start or self.start, end.start() - 1)  # the newline is no one's
        status = end.group(3).decode()
        if self.err_start is None or self.body_stop is None:
            return RawSection(status, stdout[self.start : stop])
        return RawSection(
            status, stdout[self.start : self.body_stop], stdout[self.err_start : stop]
        )


def split_sections(stdout: bytes, nonce: str) -> dict[str, RawSection]:
    """Complete sections by name. A section seen twice is dropped: it cannot be trusted."""
    found: dict[str, RawSection] = {}
    twice: set[str] = set()
    current: _Open | None = None
    for m in marker_pattern(nonce).finditer(stdout):
        if not at_line_start(stdout, m):
            continue
        kind, name = m.group(1).decode(), m.group(2).decode()
        if kind == "begin":
            current = _Open(name, m.end() + 1)
        elif current is None or current.name != name:
            current = None  # out of order: whatever was open is incomplete
        elif kind == "stderr":
            current.body_stop, current.err_start = max(current.start, m.start() - 1), m.end() + 1
        elif m.group(3):
            if name in found:
                twice.add(name)
            found[name] = current.finish(stdout, m)
            current = None
    return {k: v for k, v in found.items() if k not in twice}


def text(raw: bytes) -> str:
    """Tool output as text: bytes that are not UTF-8 become U+FFFD, never an exception."""
    return raw.decode("utf-8", errors="replace")


def lines(raw: bytes, limit: int, what: str) -> Iterator[str]:
    """The lines of `raw` as text, one at a time, decoded a block of whole lines at a time (no
    copy of the whole body as text and as a list); LimitError past `limit` lines, before any
    work is done on the one too many. A block ends at a newline, which is never inside a UTF-8
    sequence: decoding by block or by line gives the same text."""
    start, count, size = 0, 0, len(raw)
    while start < size:
        stop = raw.rfind(b"\n", start, start + _BLOCK)
        stop = stop if stop >= 0 else raw.find(b"\n", start + _BLOCK)
        stop = size if stop < 0 else stop
        for line in text(raw[start:stop]).split("\n"):
            count += 1
            if count > limit:
                raise LimitError(f"{what}: more than {limit:,} lines; the rest was not read")
            yield line.removesuffix("\r")
        start = stop + 1


_BLOCK = 1 << 16
