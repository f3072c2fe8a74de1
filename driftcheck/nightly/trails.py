"""Each host's status letters over the runs, stored with its row of every run (`hosts.trail`).

A host's strip over the last N runs is then read from one row per host (its latest), not from
one row per host and run: at 5,000 hosts x 60 runs that is 5,000 rows instead of 300,000, and
what keeps the trend within a scan's budget. A trail holds the letters of the runs up to and
including its own, right-aligned with the runs (`-` for a run without the host), at most
TRAIL_MAX letters. Rows written before the column existed are rebuilt once from the statuses.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from driftcheck.limits import TRAIL_MAX
from driftcheck.model.document import HistoryRun
from driftcheck.model.vocab import ABSENT, LETTERS, STATUSES

_MAX_SEQ = 1 << 62


@dataclass(frozen=True)
class Trend:
    """Recorded runs oldest first (their summary counts), and per host its status letter in
    each of them (model.vocab.LETTERS; `-`: not in that run)."""

    runs: tuple[HistoryRun, ...]
    statuses: Mapping[str, str]


def read_trend(
    db: sqlite3.Connection, limit: int, last: int | None, hosts: Iterable[str] | None
) -> Trend:
    """The last `limit` runs up to run seq `last` (None: the newest), and the letters of
    `hosts` (None: the hosts of the last of these runs) over them."""
    rows = db.execute(
        "SELECT * FROM runs WHERE seq <= ? ORDER BY seq DESC LIMIT ?",
        (_MAX_SEQ if last is None else last, limit),
    ).fetchall()[::-1]
    if not rows:
        return Trend((), {})
    strips = trails(db, None if hosts is None else list(hosts), rows[-1]["seq"])
    return Trend(
        tuple(_trend_run(row) for row in rows),
        {name: window(strip, len(rows)) for name, strip in strips.items()},
    )


def _trend_run(row: sqlite3.Row) -> HistoryRun:
    """A `runs` row as a trend run: its columns are the schema's (TEXT id and started, INTEGER
    counts), so the row's untyped values are taken as they are."""
    names = ("id", "started", "hosts", *STATUSES, "findings", "waived")
    columns = set(row.keys())  # `unchecked` is a status added after schema 1: 0 where absent
    return {name: row[name] if name in columns else 0 for name in names}


def code(status: object) -> str:
    return LETTERS.get(str(status), "?")


def trails(db: sqlite3.Connection, names: Iterable[str] | None, upto: int | None) -> dict[str, str]:
    """Each host's letters over the runs up to run seq `upto` (None: the last), right-aligned
    with those runs; `names` None: the hosts of that run. A host never recorded is left out."""
    seqs = [
        int(row[0])
        for row in db.execute(
            "SELECT seq FROM runs WHERE seq <= ? ORDER BY seq DESC LIMIT ?",
            (_MAX_SEQ if upto is None else upto, TRAIL_MAX),
        )
    ][::-1]
    if not seqs:
        return {}
    rows = {
        str(r[0]): (int(r[1]), r[2])
        for r in db.execute("SELECT name, run_seq, trail FROM hosts WHERE run_seq = ?", (seqs[-1],))
    }
    for name in set(names or ()) - rows.keys():  # left out of the last run (--limit, new)
        row = db.execute(
            "SELECT name, run_seq, trail FROM hosts WHERE name = ? AND run_seq <= ?"
            " ORDER BY run_seq DESC LIMIT 1",
            (name, seqs[-1]),
        ).fetchone()
        if row is not None:
            rows[name] = (int(row[1]), row[2])
    wanted = rows.keys() if names is None else [n for n in names if n in rows]
    rank = {seq: i for i, seq in enumerate(seqs)}
    out = {}
    for name in wanted:
        seq, trail = rows[name]
        if trail is None:
            trail = _rebuild(db, name, seq)
        after = len(seqs) - 1 - rank[seq] if seq in rank else len(seqs)
        out[name] = (trail + ABSENT * after)[-TRAIL_MAX:]
    return out


def _rebuild(db: sqlite3.Connection, name: str, seq: int) -> str:
    """The trail of a row recorded before trails were (history schema 1), from the statuses."""
    statuses = dict(
        db.execute(
            "SELECT run_seq, status FROM hosts WHERE name = ? AND run_seq <= ?", (name, seq)
        ).fetchall()
    )
    seqs = [
        int(r[0])
        for r in db.execute(
            "SELECT seq FROM runs WHERE seq <= ? ORDER BY seq DESC LIMIT ?", (seq, TRAIL_MAX)
        )
    ][::-1]
    return "".join(code(statuses[s]) if s in statuses else ABSENT for s in seqs)


def window(strip: str | None, width: int) -> str:
    """The last `width` letters of a strip, padded with `-` on the left (runs before it)."""
    text = (strip or "")[-width:] if width else ""
    return ABSENT * (width - len(text)) + text
