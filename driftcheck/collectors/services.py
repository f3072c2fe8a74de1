"""Declared units from one `systemctl show -p Id,LoadState,ActiveState,UnitFileState -- UNIT...`:
one block of KEY=VALUE lines (in whatever order systemd prints them) per unit, in argument
order, blocks separated by a blank line."""

from __future__ import annotations

import re

from driftcheck.collectors.sections import ParseError, lines
from driftcheck.errors import LimitError
from driftcheck.model import ServiceState

_REQUIRED = ("LoadState", "ActiveState")
# systemctl prints the four properties asked for; far more lines is a hostile host, and parsing
# them all would cost memory out of proportion to the bytes (one object per line).
MAX_UNIT_LINES = 64
_SEPARATOR = re.compile(rb"\n{2,}")  # one blank line, or more (after \r\n -> \n)
_BLANK_BLOCKS = 16  # blank blocks tolerated between units (systemctl prints none)


def parse_systemctl_show(raw: bytes, name: str) -> ServiceState:
    """`name` is the declared unit: systemd's Id may be the alias's target (sshd -> ssh)."""
    props: dict[str, str] = {}
    for line in lines(raw, MAX_UNIT_LINES, "a systemctl show block"):
        key, eq, value = line.partition("=")
        if eq and key.isidentifier():
            props.setdefault(key, value.strip())
        elif line.strip():
            raise ParseError(f"not a systemctl property line: {line[:80]!r}")
    missing = [k for k in _REQUIRED if not props.get(k)]
    if missing:
        raise ParseError(f"systemctl show did not report {', '.join(missing)}")
    return ServiceState(
        name, props["LoadState"], props["ActiveState"], props.get("UnitFileState", "")
    )


def split_blocks(raw: bytes, limit: int) -> list[bytes]:
    """The per-unit blocks of a multi-unit `systemctl show`, in order; at most `limit` + 1 (one
    too many is enough to tell the count is wrong: 64 MB of separators is not 32 million
    blocks in memory, nor as many turns of a loop)."""
    raw = raw.replace(b"\r\n", b"\n")
    blocks: list[bytes] = []
    start = 0
    for pieces, sep in enumerate(_SEPARATOR.finditer(raw), 1):
        _add_block(blocks, raw[start : sep.start()])
        start = sep.end()
        if len(blocks) > limit:
            return blocks
        if pieces > limit + _BLANK_BLOCKS:
            raise LimitError(f"systemctl show: more than {limit + _BLANK_BLOCKS} blocks")
    _add_block(blocks, raw[start:])
    return blocks


def _add_block(blocks: list[bytes], block: bytes) -> None:
    if block.strip():
        blocks.append(block)
