"""The lab cleans up after a crashed run: `down` from a fresh process leaves nothing behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.lab import procs
from tests.tools import require

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]


def lab_cli(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.lab", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def booted_records(state: Path, count: int) -> list[dict[str, object]]:
    try:
        hosts: list[dict[str, object]] = json.loads(state.read_text()).get("hosts", [])
    except (OSError, ValueError):
        return []
    return hosts if sum(1 for h in hosts if h.get("nspawn_pid")) >= count else []


def host_pidns(rec: dict[str, object]) -> int | None:
    """The host's PID namespace, seen from outside (its PID 1 may not be in state.json yet)."""
    leader = procs.namespace_leader(int(str(rec["nspawn_pid"])))
    return procs.pidns(leader) if leader else None


@pytest.mark.usefixtures("lab_lock")
def test_down_after_a_killed_up_leaves_nothing(tmp_path: Path) -> None:
    require(os.geteuid() == 0, "the lab needs root")
    run = tmp_path / "run"  # a second lab beside the session's, on other addresses
    env = {**os.environ, "DRIFTCHECK_LAB_RUN": str(run), "DRIFTCHECK_LAB_NET": "127.78"}
    up = lab_cli(env, "up", "--hosts", "2")
    deadline = time.monotonic() + 300  # the first lab run of a fresh machine builds the base
    while not (records := booted_records(run / "state.json", 2)) or None in map(
        host_pidns, records
    ):
        assert up.poll() is None, up.stderr.read() if up.stderr else b""
        assert time.monotonic() < deadline, "the lab never booted"
        time.sleep(0.2)
    namespaces = [host_pidns(rec) for rec in records]  # PID 1 of each host exists by now
    up.send_signal(signal.SIGKILL)  # a crashed run: no finally, no teardown
    up.wait()
    assert procs.mounts_under(run), "nothing was mounted: the crash came too early to test"
    down = lab_cli(env, "down")
    assert down.wait(timeout=120) == 0, down.stderr.read() if down.stderr else b""
    assert procs.cmdline_matches("systemd-nspawn", str(run)) == []
    for rec, pidns in zip(records, namespaces, strict=True):
        assert not procs.alive(rec.get("nspawn_pid"), rec.get("nspawn_start"))
        assert pidns is not None
        assert procs.in_pidns(pidns) == []
    assert procs.mounts_under(tmp_path) == []
    assert not run.exists()
