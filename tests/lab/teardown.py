"""Stop hosts and helper processes, unmount, and prove nothing of the lab is left.

Works from state records alone, so it also cleans up after a crashed or killed test run.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.lab import procs

Record = dict[str, object]
GRACE = 10.0  # seconds a host gets to power off cleanly before SIGKILL


def stop_hosts(records: Sequence[Record], grace: float = GRACE) -> None:
    """SIGTERM every nspawn (a clean poweroff), then SIGKILL nspawn AND the host's PID 1."""
    for rec in records:
        learn_leader(rec)
    for rec in records:
        if rec.get("containers"):  # conmon stalls their poweroff for the whole grace: no poweroff
            kill_host(rec)
        elif procs.alive(rec.get("nspawn_pid"), rec.get("nspawn_start")):
            procs.kill(int(str(rec["nspawn_pid"])), signal.SIGTERM)
    wait_until(lambda: not any(_nspawn_alive(r) for r in records), grace)
    for rec in records:
        kill_host(rec)
    wait_until(lambda: not any(_host_processes(r) for r in records), 10.0)


def kill_host(rec: Record) -> None:
    """SIGKILL nspawn and the host's PID 1 (which takes its whole PID namespace with it)."""
    for key in ("nspawn", "leader"):
        if procs.alive(rec.get(f"{key}_pid"), rec.get(f"{key}_start")):
            procs.kill(int(str(rec[f"{key}_pid"])), signal.SIGKILL)


def learn_leader(rec: Record) -> None:
    """A crash before state.json learnt the host's PID 1: find it while nspawn still lives."""
    if rec.get("leader_pid") or not procs.alive(rec.get("nspawn_pid"), rec.get("nspawn_start")):
        return
    leader = procs.namespace_leader(int(str(rec["nspawn_pid"])))
    if leader is not None:
        rec.update(leader_pid=leader, leader_start=procs.start_time(leader))
        rec["pidns"] = procs.pidns(leader)


def _nspawn_alive(rec: Record) -> bool:
    pid = rec.get("nspawn_pid")
    if isinstance(pid, int):
        procs.reap(pid)
    return procs.alive(pid, rec.get("nspawn_start"))


def _host_processes(rec: Record) -> list[int]:
    """nspawn, PID 1, and anything else still in the host's PID namespace."""
    left = [
        int(str(rec[f"{key}_pid"]))
        for key in ("nspawn", "leader")
        if _reaped_alive(rec.get(f"{key}_pid"), rec.get(f"{key}_start"))
    ]
    pidns = rec.get("pidns")
    if isinstance(pidns, int) and not left:
        left = procs.in_pidns(pidns)
        # Our PID 1 is gone, so a live PID 1 in that namespace means the kernel gave the freed
        # inode to a new namespace: another lab's host booting meanwhile, not ours.
        if any(procs.is_ns_init(pid) and pid != rec.get("leader_pid") for pid in left):
            left = []
    return left


def _reaped_alive(pid: object, started: object) -> bool:
    if isinstance(pid, int):
        procs.reap(pid)
    return procs.alive(pid, started)


def unmount(record: Record) -> None:
    for point in record.get("mounts", []):  # type: ignore[attr-defined]
        if str(point) in procs.mounts_under(Path(str(point))):
            subprocess.run(["umount", str(point)], check=False, capture_output=True)


def stop_helpers(helpers: Sequence[Record]) -> None:
    for helper in helpers:
        if procs.alive(helper.get("pid"), helper.get("start")):
            procs.kill(int(str(helper["pid"])), signal.SIGKILL)
    wait_until(lambda: not any(_reaped_alive(h.get("pid"), h.get("start")) for h in helpers), 5.0)


def leftovers(records: Sequence[Record], helpers: Sequence[Record], run_dir: Path) -> list[str]:
    """Everything of the lab that still exists: processes and mounts. Empty means clean."""
    problems = []
    for rec in records:
        pids = _host_processes(rec)
        if pids:
            problems.append(f"host {rec['name']}: processes still running: {pids}")
    for helper in helpers:
        if procs.alive(helper.get("pid"), helper.get("start")):
            problems.append(f"helper {helper.get('what')}: pid {helper['pid']} still running")
    problems += [f"still mounted: {point}" for point in procs.mounts_under(run_dir)]
    return problems


def wait_until(done: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(interval)
    return done()


def orphans(run_dir: Path, known: Sequence[Record]) -> list[Record]:
    """nspawn processes booting a host under run_dir that no record knows (a crash mid-`up`)."""
    known_pids = {rec.get("nspawn_pid") for rec in known}
    found: list[Record] = []
    for pid in procs.cmdline_matches("systemd-nspawn", f"{run_dir}/hosts/"):
        if pid in known_pids:
            continue
        leader = procs.namespace_leader(pid)
        rec: Record = {"name": f"orphan-{pid}", "nspawn_pid": pid, "leader_pid": leader}
        rec["pidns"] = procs.pidns(leader) if leader else None
        found.append(rec)
    return found


def unmount_all(run_dir: Path) -> None:
    """Whatever is still mounted under the run dir, deepest first."""
    for point in procs.mounts_under(run_dir):
        subprocess.run(["umount", point], check=False, capture_output=True)
