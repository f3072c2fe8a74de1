"""Process and mount facts from /proc, so `down` can find and verify what a lab left behind.

A pid from state.json is trusted only while its start time matches (pids get reused).
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (clock ticks since boot); None when the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def alive(pid: object, started: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    now = start_time(pid)
    return now is not None and (started is None or now == started) and not is_zombie(pid)


def is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def pidns(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/pid").st_ino
    except OSError:
        return None


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def namespace_leader(pid: int) -> int | None:
    """The first descendant of `pid` that lives in another PID namespace (a container's PID 1)."""
    mine = pidns(pid)
    todo = children(pid)
    while todo:
        child = todo.pop(0)
        ns = pidns(child)
        if ns is not None and ns != mine:
            return child
        todo += children(child)
    return None


def is_ns_init(pid: int) -> bool:
    """Whether `pid` is PID 1 of its own PID namespace (the last NSpid of its status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    nspids = next((ln.split()[1:] for ln in status.splitlines() if ln.startswith("NSpid:")), [])
    return len(nspids) > 1 and nspids[-1] == "1"


def in_pidns(inode: int) -> list[int]:
    """Every process of a PID namespace (seen from ours)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and pidns(int(entry.name)) == inode:
            pids.append(int(entry.name))
    return pids


def kill(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def reap(pid: int) -> None:
    """Collect our own child if it is one (nspawn started by this process); ignore others."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def mounts_under(prefix: Path) -> list[str]:
    """Mount points at or below prefix, deepest first (the order to unmount them)."""
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == str(prefix) or point.startswith(f"{prefix}/"):
            points.append(point)
    return sorted(points, key=len, reverse=True)


def cmdline_matches(program: str, needle: str) -> list[int]:
    """Pids whose argv[0] ends with `program` and whose argv contains `needle`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[0].decode(errors="replace").endswith(program) and any(
            needle.encode() in arg for arg in argv
        ):
            found.append(int(entry.name))
    return found


def pss_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0
