"""The local backend: same contract as SSH, on this machine."""

from __future__ import annotations

import os
import time

import pytest

from driftcheck.backends import TransportOptions, open_backend
from driftcheck.backends.local import LocalBackend
from driftcheck.backends.options import become_argv
from driftcheck.errors import DeadlineError, TransportError
from driftcheck.model import CommandResult, Host

LOCAL = Host("me", (), {"ansible_connection": "local"})


def run(
    argv: list[str], stdin: bytes = b"", timeout: float = 10, cap: int = 64 << 20
) -> CommandResult:
    backend = open_backend(LOCAL, TransportOptions(timeout=timeout, output_cap=cap), 0.0)
    assert isinstance(backend, LocalBackend)
    try:
        return backend.run(argv, stdin, time.monotonic() + timeout)
    finally:
        backend.close()


def test_stdin_stdout_stderr_rc() -> None:
    result = run(["sh", "-c", "tr a-z A-Z; echo err >&2; exit 4"], b"abc\n")
    assert result == CommandResult(4, b"ABC\n", b"err\n", False)


def test_big_streams_both_ways() -> None:
    script = "head -c 20971520 /dev/zero & head -c 20971520 /dev/zero >&2 & cat >/dev/null; wait"
    result = run(["sh", "-c", script], b"x" * (5 << 20))
    assert (result.rc, len(result.stdout), len(result.stderr)) == (0, 20 << 20, 20 << 20)


def test_cap_truncates() -> None:
    result = run(["head", "-c", "5000", "/dev/zero"], cap=1000)
    assert result.truncated
    assert len(result.stdout) == 1000


@pytest.mark.parametrize("stream", ["", ">&2"])
def test_endless_output_is_cut_at_the_cap_not_the_deadline(stream: str) -> None:
    """A flooding command (or container) is killed once the cap is reached: memory stays at the
    cap and the run does not wait for the deadline."""
    started = time.monotonic()
    result = run(["sh", "-c", f"echo $$; exec cat /dev/zero {stream}"], timeout=20, cap=1 << 20)
    assert time.monotonic() - started < 5
    assert (result.rc, result.truncated) == (-1, True)
    assert len(result.stdout) + len(result.stderr) == 1 << 20
    pid = int(result.stdout.split(b"\n")[0])
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped


def test_deadline_kills_the_command_and_its_children() -> None:
    started = time.monotonic()
    with pytest.raises(DeadlineError, match="deadline"):
        run(["sh", "-c", "sleep 30 & sleep 30; wait"], timeout=0.5)
    assert time.monotonic() - started < 3


def test_missing_command_is_rc_127() -> None:
    result = run(["/nonexistent/tool"])
    assert result.rc == 127
    assert b"/nonexistent/tool" in result.stderr


def test_become_wraps_in_sudo_n() -> None:
    host = Host("h", (), {"ansible_become": "yes", "ansible_become_user": "postgres"})
    assert become_argv(host, ["id"]) == ["sudo", "-n", "-u", "postgres", "--", "id"]
    assert become_argv(Host("h", (), {"ansible_become": "false"}), ["id"]) == ["id"]


def test_unknown_connection_is_a_transport_error() -> None:
    with pytest.raises(TransportError, match="ansible_connection=winrm"):
        open_backend(Host("w", (), {"ansible_connection": "winrm"}), TransportOptions(), 0.0)
