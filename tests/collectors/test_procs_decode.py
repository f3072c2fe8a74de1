"""facts.procs decoded once per section: the same table as matching and decoding each line's
bytes on their own (what parse_proc_lines did before), on random hostile input."""

from __future__ import annotations

import random
import re

from driftcheck.collectors.procs import Proc, parse_proc_lines

_OLD_LINE = re.compile(rb"(\d+) \((.*)\) ([A-Za-z]) (-?\d+)")


def per_line(raw: bytes) -> list[Proc]:
    procs = []
    for line in raw.split(b"\n"):
        m = _OLD_LINE.fullmatch(line)
        if m is not None:
            procs.append(Proc(int(m[1]), m[2].decode(errors="replace"),
                              m[3].decode(errors="replace"), int(m[4])))  # fmt: skip
    return procs


PIECES = [b"12", b"1", b"-3", b" ", b"(", b")", b") Z 1", b"\n", b"\r", b"S", b"Z", b"a", b"\xc3",
          b"\xa9", b"\xff", b"\xe2\x80", b"\xd9\xa3", b"\x00", b"\xe2\x80\xa8"]  # fmt: skip


def test_random_process_tables_parse_as_line_by_line() -> None:
    rng = random.Random(5)
    for _ in range(5_000):
        lines = []
        for _ in range(rng.randint(0, 6)):
            comm = b"".join(rng.choice(PIECES) for _ in range(rng.randint(0, 6)))
            state = rng.choice([b"S", b"Z", b"R", b"?", b"\xc3"])
            lines.append(b"%d (%s) %s %d" % (rng.randint(1, 99), comm, state, rng.randint(-1, 9)))
            if rng.random() < 0.3:  # debris: a name's own newline, a vanished process
                lines.append(b"".join(rng.choice(PIECES) for _ in range(rng.randint(0, 8))))
        raw = b"\n".join(lines)
        assert parse_proc_lines(raw) == per_line(raw), raw


def test_only_ascii_digits_are_numbers() -> None:
    """An Arabic-Indic 3 (U+0663) is a digit to a str regex's \\d, not to /proc."""
    raw = "\u0663 (a) Z 1\n4 (b) Z \u0663\n5 (c) Z 1\n".encode()
    assert parse_proc_lines(raw) == per_line(raw) == [Proc(5, "c", "Z", 1)]
