"""Readiness by polling: the host's PID 1 exists, `systemctl is-system-running` says running or
degraded, pam_nologin lets users in, no unit is failed for lack of its cgroup (started again, see
host.retry_cgroup_failures), and sshd sends its banner. A host that is not ready in time
fails loudly with its log."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Sequence

from tests.lab import host, procs, teardown

Record = dict[str, object]
BOOTED = ("running", "degraded")
# past this many rounds a unit that still fails so is left failed, for tests to see
CGROUP_RETRIES = 3


class BootError(RuntimeError):
    pass


def wait_ready(records: Sequence[Record], addresses: dict[str, str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = {str(r["name"]): r for r in records}
    last: dict[str, str] = {}
    while pending:
        for name, rec in list(pending.items()):
            last[name] = check(rec, addresses[name])
            if last[name] == "ready":
                del pending[name]
        if pending and time.monotonic() > deadline:
            raise BootError(report(pending, last, timeout))
        if pending:
            time.sleep(0.2)


def check(rec: Record, address: str) -> str:
    """'ready', or what the host is still waiting for."""
    if not procs.alive(rec.get("nspawn_pid"), rec.get("nspawn_start")):
        procs.reap(int(str(rec["nspawn_pid"])))
        raise BootError(f"host {rec['name']}: systemd-nspawn exited\n{host.console_tail(rec)}")
    if not host.find_leader(rec):
        return "no PID 1 yet"
    state = host.system_state(rec)
    if state not in BOOTED:
        return f"systemctl is-system-running: {state}"
    if not host.logins_permitted(rec):
        host.permit_logins(rec)
        return "logins not permitted yet (/run/nologin)"
    retries = int(str(rec.get("cgroup_retries", 0)))
    if retries < CGROUP_RETRIES and (units := host.retry_cgroup_failures(rec)):
        rec["cgroup_retries"] = retries + 1
        return f"started again after 219/CGROUP at boot: {', '.join(units)}"
    return "ready" if ssh_banner(address) else "no SSH banner"


def ssh_banner(address: str, port: int = 22) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1.0) as sock:
            return sock.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def wait_banner(address: str, timeout: float) -> bool:
    return teardown.wait_until(lambda: ssh_banner(address), timeout)


def report(pending: dict[str, Record], last: dict[str, str], timeout: float) -> str:
    parts = [f"lab: {len(pending)} host(s) not ready after {timeout:.0f}s"]
    for name, rec in pending.items():
        parts.append(f"--- {name}: {last.get(name)}\n{host.console_tail(rec)}")
        if rec.get("leader_pid"):
            parts.append(in_host(rec, ["systemctl", "--failed", "--no-pager"]))
            parts.append(in_host(rec, ["systemctl", "list-jobs", "--no-pager"]))
    return "\n".join(parts)


def in_host(rec: Record, argv: list[str]) -> str:
    proc = host.in_host(rec, argv)
    return proc.stdout + proc.stderr


def keyscan(addresses: dict[str, str]) -> dict[str, str]:
    """name -> 'ssh-ed25519 AAAA...' from the hosts themselves (ssh-keyscan, one run)."""
    argv = ["ssh-keyscan", "-T", "5", "-t", "ed25519", *addresses.values()]
    out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
    by_address = {}
    for line in out.splitlines():
        if line and not line.startswith("#"):
            addr, key = line.split(" ", 1)
            by_address[addr] = key.strip()
    missing = [n for n, a in addresses.items() if a not in by_address]
    if missing:
        raise BootError(f"lab: ssh-keyscan got no key from {missing}")
    return {name: by_address[addr] for name, addr in addresses.items()}
