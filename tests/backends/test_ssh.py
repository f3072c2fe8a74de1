"""The SSH backend against a real sshd: commands, big output, caps, errors."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from driftcheck.backends import ssh as ssh_module
from driftcheck.errors import AuthError, DeadlineError, TransportError
from tests.backends.conftest import connect, host_for, run_once
from tests.sshd import Sshd, keygen

pytestmark = pytest.mark.sshd

MB = 1 << 20


def test_runs_a_command_with_stdin_and_both_streams(sshd: Sshd, known_hosts: Path) -> None:
    argv = ["sh", "-c", 'echo "out $1"; echo err >&2; tr a-z A-Z', "sh", "it's $(x)"]
    result = run_once(host_for(sshd), known_hosts, argv, b"hello\n")
    assert (result.rc, result.stdout, result.stderr) == (0, b"out it's $(x)\nHELLO\n", b"err\n")
    assert not result.truncated


def test_non_zero_exit_is_data(sshd: Sshd, known_hosts: Path) -> None:
    result = run_once(host_for(sshd), known_hosts, ["sh", "-c", "echo no >&2; exit 7"])
    assert (result.rc, result.stderr) == (7, b"no\n")


def test_big_stdin_and_big_output_on_both_streams_do_not_deadlock(
    sshd: Sshd, known_hosts: Path
) -> None:
    # The remote echoes stdin while both output streams run 20 MB: any serial read deadlocks.
    script = (
        "head -c 20971520 /dev/zero & head -c 20971520 /dev/zero >&2 & "
        "cat > /dev/null; wait; echo done"
    )
    started = time.monotonic()
    result = run_once(host_for(sshd), known_hosts, ["sh", "-c", script], b"x" * (5 * MB))
    assert result.rc == 0
    assert len(result.stdout) == 20 * MB + len("done\n")
    assert len(result.stderr) == 20 * MB
    assert time.monotonic() - started < 20


def test_stdin_larger_than_the_window_is_echoed_back(sshd: Sshd, known_hosts: Path) -> None:
    data = bytes(range(256)) * (5 * MB // 256)
    result = run_once(host_for(sshd), known_hosts, ["cat"], data)
    assert result.stdout == data


class LateWindow:
    """A real channel whose send window looks shut at the first look only, as when the remote's
    window adjust arrives just after the feeder stopped sending."""

    def __init__(self, chan: Any) -> None:
        self._chan = chan
        self._looks = 0

    def send_ready(self) -> bool:
        self._looks += 1
        return self._looks > 1 and bool(self._chan.send_ready())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._chan, name)


def test_a_send_window_that_opens_after_the_feeder_stopped_is_used_at_once(
    sshd: Sshd, known_hosts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pump must send then, not wait for output that the remote (`cat`, waiting for that
    very input) cannot send: under load this hung a 5 MB echo until the deadline."""
    real = ssh_module.pump
    monkeypatch.setattr(ssh_module, "pump", lambda chan, *args: real(LateWindow(chan), *args))
    started = time.monotonic()
    result = run_once(host_for(sshd), known_hosts, ["cat"], b"the input cat waits for\n")
    assert result.stdout == b"the input cat waits for\n"
    assert time.monotonic() - started < 5


def test_output_beyond_the_cap_is_cut_and_flagged(sshd: Sshd, known_hosts: Path) -> None:
    argv = ["sh", "-c", "echo e >&2; exec head -c 10485760 /dev/zero"]
    result = run_once(host_for(sshd), known_hosts, argv, output_cap=MB)
    assert result.truncated
    assert len(result.stdout) + len(result.stderr) == MB


def test_deadline_during_the_command(sshd: Sshd, known_hosts: Path) -> None:
    backend = connect(host_for(sshd), known_hosts, timeout=5)
    try:
        started = time.monotonic()
        with pytest.raises(DeadlineError, match="deadline"):
            backend.run(["sleep", "30"], b"", time.monotonic() + 1)
        assert time.monotonic() - started < 2
    finally:
        backend.close()


def test_wrong_key_is_an_auth_error(sshd: Sshd, known_hosts: Path, tmp_path: Path) -> None:
    stranger = keygen(tmp_path / "stranger")
    host = host_for(sshd, ansible_ssh_private_key_file=str(stranger))
    with pytest.raises(AuthError, match="authentication failed"):
        connect(host, known_hosts)


def test_missing_key_file_is_an_auth_error(sshd: Sshd, known_hosts: Path, tmp_path: Path) -> None:
    host = host_for(sshd, ansible_ssh_private_key_file=str(tmp_path / "nope"))
    with pytest.raises(AuthError, match="not found"):
        connect(host, known_hosts)


def test_port_22_uses_the_plain_known_hosts_name(tmp_path: Path) -> None:
    with Sshd.start(tmp_path / "s", port=22) as server:
        known = tmp_path / "known_hosts"
        known.write_text(server.known_hosts_line())
        assert known.read_text().startswith(f"{server.address} ")
        result = run_once(host_for(server), known, ["echo", "ok"])
        assert result.stdout == b"ok\n"


def test_connection_leaves_no_threads_or_fds_behind(sshd: Sshd, known_hosts: Path) -> None:
    before = threading.active_count()
    fds = len(os.listdir("/proc/self/fd"))
    for _ in range(3):
        run_once(host_for(sshd), known_hosts, ["sh", "-c", "echo x; echo y >&2"])
        run_once(host_for(sshd), known_hosts, ["head", "-c", "300000", "/dev/zero"], output_cap=10)
    with pytest.raises(TransportError):
        connect(host_for(sshd), known_hosts.parent / "empty_known_hosts")
    deadline = time.monotonic() + 2
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.01)  # cancelled timers and closed transports take a moment to exit
    assert threading.active_count() <= before
    assert len(os.listdir("/proc/self/fd")) <= fds
