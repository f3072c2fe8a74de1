"""driftcheck.shell: quoting, and the time bound a collection runs under on the target. Real
shells and real processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from driftcheck.shell import bounded_sh, join, quote
from tests.lab.teardown import wait_until
from tests.tools import require_tools

HOSTILE = ["it's", "$(touch PWNED)", "`x`", "a b", "", "-rf", "\n", "\\"]


def test_quote_round_trips_through_a_real_shell(tmp_path: Path) -> None:
    out = subprocess.run(
        ["sh", "-c", "printf '%s\\0' " + join(HOSTILE)],
        capture_output=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert out.split(b"\0")[:-1] == [w.encode() for w in HOSTILE]
    assert not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match="NUL"):
        quote("a\0b")


def run_bounded(script: bytes, seconds: float, env: dict[str, str] | None = None) -> tuple:
    started = time.monotonic()
    proc = subprocess.run(
        bounded_sh(seconds), input=script, capture_output=True, timeout=60, env=env, check=False
    )
    return proc.returncode, proc.stdout, time.monotonic() - started


def test_a_normal_script_runs_whole() -> None:
    script = b"".join(b"echo line %d\n" % i for i in range(2000)) + b"exit 3\n"
    rc, out, _ = run_bounded(script, 30)
    assert rc == 3
    assert out.splitlines() == [b"line %d" % i for i in range(2000)]


def test_a_hung_script_is_killed_with_its_children_at_the_bound() -> None:
    script = b"echo $$; sleep 300 & echo $!; wait\n"
    rc, out, took = run_bounded(script, 1)
    assert rc == 137  # timeout's status for a command it killed with KILL
    assert took < 5
    for pid in map(int, out.split()):  # the script's shell and its background child
        assert dies_soon(pid)


def dies_soon(pid: int, within: float = 3.0) -> bool:
    """SIGKILL is sent when timeout returns, but a loaded machine may take a moment to finish
    the process off: poll for it, a bounded wait rather than a fixed sleep."""
    return wait_until(lambda: dead(pid), within, interval=0.02)


def dead(pid: int) -> bool:
    """Gone, or a zombie waiting for its reaper (here the sandbox's PID 1, on a host systemd):
    either way it runs no more."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat[stat.rindex(")") + 2] in "ZX"


def test_without_timeout_the_script_still_runs(tmp_path: Path) -> None:
    rc, out, _ = run_bounded(b"echo plain\n", 30, env={"PATH": str(tmp_path)})
    assert (rc, out) == (0, b"plain\n")


def test_a_timeout_that_runs_nothing_falls_back_to_plain_sh(tmp_path: Path) -> None:
    """A fake `timeout` that fails as GNU timeout does when it cannot run (125, stdin unread);
    a real one will not fail that way on demand."""
    fake = tmp_path / "timeout"
    fake.write_text("#!/bin/sh\nexit 125\n")
    fake.chmod(0o755)
    rc, out, _ = run_bounded(b"echo whole\n", 30, env={"PATH": f"{tmp_path}:/usr/bin:/bin"})
    assert (rc, out) == (0, b"whole\n")


def test_busybox_timeout_is_not_used(tmp_path: Path) -> None:
    """Busybox's timeout leaves an orphaned watcher (a zombie under a PID 1 that does not reap):
    where `timeout` is busybox, the script runs under plain sh, unbounded."""
    require_tools("busybox")
    busybox = str(shutil.which("busybox"))
    (tmp_path / "busybox").symlink_to(busybox)
    (tmp_path / "timeout").symlink_to(busybox)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
    rc, out, _ = run_bounded(b"sleep 2; echo slept\n", 1, env=env)
    assert (rc, out) == (0, b"slept\n")  # not killed after 1 s


def test_bound_is_whole_seconds_at_least_one() -> None:
    assert bounded_sh(0.2)[-1] == "1"
    assert bounded_sh(29.01)[-1] == "30"


def reads_of(script: bytes, env: dict[str, str] | None = None) -> list[bytes]:
    """What the reader of the bounded script's stdout receives, read by read."""
    proc = subprocess.Popen(bounded_sh(30), stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write(script)
    proc.stdin.close()
    out = proc.stdout.fileno()
    chunks = list(iter(lambda: os.read(out, 1 << 20), b""))
    assert proc.wait(timeout=30) == 0
    return chunks


SMALL_WRITES = b"".join(b"echo line %d; sleep 0.01\n" % i for i in range(30))


def test_output_arrives_in_one_block_not_one_packet_per_write() -> None:
    require_tools("dd", "timeout")
    chunks = reads_of(SMALL_WRITES)
    assert b"".join(chunks) == b"".join(b"line %d\n" % i for i in range(30))
    assert len(chunks) == 1


def test_without_dd_the_output_still_arrives_whole(tmp_path: Path) -> None:
    """Without dd the writes come as they are made (here over 0.3 s: several reads)."""
    for tool in ("timeout", "sleep", "sh"):
        found = shutil.which(tool)
        assert found is not None
        (tmp_path / tool).symlink_to(found)
    chunks = reads_of(SMALL_WRITES, env={"PATH": str(tmp_path)})
    assert b"".join(chunks) == b"".join(b"line %d\n" % i for i in range(30))
    assert len(chunks) > 1


def test_output_written_before_a_kill_still_arrives() -> None:
    rc, out, took = run_bounded(b"echo before\nsleep 300\necho after\n", 1)
    assert (rc, out) == (137, b"before\n")
    assert took < 5


def test_a_process_the_script_leaves_behind_cannot_hold_the_status() -> None:
    """A daemon the script starts in a session of its own (out of timeout's reach) with its
    output elsewhere: the run ends when the script does."""
    require_tools("setsid")
    rc, out, took = run_bounded(b"setsid sleep 5 </dev/null >/dev/null 2>&1 &\necho done\n", 30)
    assert (rc, out) == (0, b"done\n")
    assert took < 3
