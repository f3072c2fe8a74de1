"""The host's process table, for its zombie count and its containers' hygiene.

Two forms, told apart by the section's name (which the host cannot forge):
- facts.procs: one `PID (COMM) STATE PPID` line per process, cut on the host by sed, which
  prints a line only when the whole /proc/PID/stat record followed it (20+ numeric fields after
  STATE). The other ~200 bytes of each record never cross the wire.
- facts.procstat: the whole concatenated /proc/[0-9]*/stat records, from a host without sed.
A host with sed also sends facts.zombies: its zombies' lines, read again a second later. Only a
zombie still there counts (`lasting_zombies`); one its parent reaped in between had just exited.

COMM may hold ")", spaces and newlines (prctl PR_SET_NAME, 15 bytes at most): the last ") " of a
record ends it, and a 15-byte COMM cannot fake the numeric fields that follow a real one. A COMM
with a newline can still start a line with a PID of its choosing, but each process gives at most
one record, with its own real state: zombies are counted over records, and a PID that comes
twice is left out of the table by PID (its hygiene is unknown rather than another process's).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from driftcheck.collectors.sections import text
from driftcheck.errors import LimitError
from driftcheck.limits import MAX_PROCESS_DEPTH, MAX_PROCESSES

_STAT_RECORD = re.compile(rb"(\d+) \(")  # where a /proc/PID/stat record may start
# a whole facts.procs line, found in the decoded section (one decode, not two per process; the
# decoder never joins an ASCII byte to a bad sequence, so fields decode as they would alone)
_PROC_LINE = re.compile(r"^([0-9]+) \((.*)\) ([A-Za-z]) (-?[0-9]+)$", re.MULTILINE)


@dataclass(frozen=True)
class Proc:
    pid: int
    comm: str
    state: str
    ppid: int


def parse_proc_lines(raw: bytes) -> list[Proc]:
    """facts.procs: `PID (COMM) STATE PPID` lines. Anything else (a process that vanished
    mid-read) is skipped."""
    procs: list[Proc] = []
    for m in _PROC_LINE.finditer(text(raw)):
        if len(procs) >= MAX_PROCESSES:
            raise LimitError(f"more than {MAX_PROCESSES:,} processes in /proc")
        procs.append(Proc(int(m[1]), m[2], m[3], int(m[4])))
    return procs


def parse_procstat(raw: bytes) -> list[Proc]:
    """facts.procstat: the concatenated /proc/[0-9]*/stat records. Garbled records are skipped."""
    procs: list[Proc] = []
    for begin, end in _records(raw):
        if len(procs) >= MAX_PROCESSES:
            raise LimitError(f"more than {MAX_PROCESSES:,} processes in /proc")
        record = raw[begin:end]
        pid, _, rest = record.partition(b" (")
        comm, sep, tail = rest.rpartition(b") ")
        fields = tail.split()
        if not sep or len(fields) < 20 or not pid.isdigit() or not fields[1].lstrip(b"-").isdigit():
            continue
        procs.append(Proc(int(pid), text(comm), text(fields[0][:1]), int(fields[1])))
    return procs


def lasting_zombies(procs: Sequence[Proc], again: Sequence[Proc]) -> Sequence[Proc]:
    """The table with each zombie that was gone when read again a second later (`again`: the
    zombies then) marked dead ("X"): a parent reaps a child that has just exited within
    milliseconds, and a host that is busy starting and ending processes is caught with one
    now and then. Only a zombie still there, the same process, is one its parent does not reap."""
    if not any(p.state == "Z" for p in procs):
        return procs
    still = {(p.pid, p.comm, p.ppid) for p in again if p.state == "Z"}
    return [
        p if p.state != "Z" or (p.pid, p.comm, p.ppid) in still else replace(p, state="X")
        for p in procs
    ]


def zombies(procs: Sequence[Proc]) -> int | None:
    """Zombies among the records; None when there are none at all (no /proc: unknown, not 0)."""
    if not procs:
        return None
    return sum(1 for p in procs if p.state == "Z")


def by_pid(procs: Sequence[Proc]) -> dict[int, Proc]:
    """PID -> process, without the PIDs that more than one record claims."""
    table: dict[int, Proc] = {}
    claimed: set[int] = set()
    for proc in procs:
        if proc.pid in claimed:
            table.pop(proc.pid, None)
        else:
            claimed.add(proc.pid)
            table[proc.pid] = proc
    return table


@dataclass(frozen=True)
class ProcessTree:
    """The host's processes by PID with each one's children, built once per host: every
    container's walk reads it (building it per container would cost containers x processes)."""

    procs: Mapping[int, Proc]
    children: Mapping[int, Sequence[int]] = field(default_factory=dict)


def process_tree(procs: Mapping[int, Proc]) -> ProcessTree:
    children: dict[int, list[int]] = {}
    for proc in procs.values():
        children.setdefault(proc.ppid, []).append(proc.pid)
    return ProcessTree(procs, children)


def descendants(tree: ProcessTree, root: int) -> list[int]:
    """Every process below `root`, each once. The table is the host's word: a process that is
    its own parent, or any longer cycle, is walked once (a visited set), and a chain deeper than
    MAX_PROCESS_DEPTH levels is a limit, not a walk without end."""
    seen = {root}
    level, below, depth = [root], [], 0
    while level:
        level = [kid for pid in level for kid in tree.children.get(pid, ()) if kid not in seen]
        level = list(dict.fromkeys(level))
        if level and depth >= MAX_PROCESS_DEPTH:
            raise LimitError(f"process tree deeper than {MAX_PROCESS_DEPTH:,} levels in /proc")
        seen.update(level)
        below += level
        depth += 1
    return below


def _records(raw: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each record, one at a time: no list of every candidate in memory."""
    begin = None
    for m in _STAT_RECORD.finditer(raw):
        if not _at_line_start(raw, m.start()):
            continue
        if begin is not None:
            yield begin, m.start()
        begin = m.start()
    if begin is not None:
        yield begin, len(raw)


def _at_line_start(raw: bytes, at: int) -> bool:
    return at == 0 or raw[at - 1 : at] == b"\n"
