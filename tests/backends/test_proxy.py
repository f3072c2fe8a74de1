"""ProxyCommand and Match exec against real processes: a real `ssh -W` jump through a second
sshd, busybox nc, a proxy that hangs, and hostile names that must never run a command."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from driftcheck.errors import TransportError, UnreachableError
from driftcheck.model import Host
from tests.backends.conftest import connect, host_for, run_once
from tests.sshd import Sshd
from tests.tools import require

pytestmark = pytest.mark.sshd

TIMEOUT = 2.0


def nc() -> str:
    require(shutil.which("busybox") is not None, "busybox (for nc) not installed")
    return "busybox nc"


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ssh_config"
    path.write_text(text)
    return path


def test_proxy_command_from_ssh_config_through_nc(
    sshd: Sshd, known_hosts: Path, tmp_path: Path
) -> None:
    # The inventory names a host only the proxy can reach: the config's HostName does not resolve.
    cfg = config(
        tmp_path,
        f"Host hidden\n  HostName nowhere.invalid\n  HostKeyAlias {sshd.address}\n"
        f"  ProxyCommand {nc()} {sshd.address} %p\n",
    )
    known_hosts.write_text(f"{sshd.address} {sshd.host_public_key()}\n")
    host = host_for(sshd, ansible_host="hidden")
    result = run_once(host, known_hosts, ["echo", "ok"], ssh_config=cfg)
    assert result.stdout == b"ok\n"


def test_proxy_command_through_a_real_ssh_jump(sshd: Sshd, tmp_path: Path) -> None:
    require(shutil.which("ssh") is not None, "openssh-client not installed")
    with Sshd.start(tmp_path / "jump", log_level="DEBUG1") as jump:
        known = tmp_path / "known_hosts"
        known.write_text(sshd.known_hosts_line() + jump.known_hosts_line())
        ssh = (
            f"ssh -F none -o BatchMode=yes -o UserKnownHostsFile={known} "
            f"-o StrictHostKeyChecking=yes -i {jump.client_key} "
            f"-p {jump.port} -l {jump.user} -W %h:%p {jump.address}"
        )
        cfg = config(tmp_path, f"Host behind\n  HostName {sshd.address}\n  ProxyCommand {ssh}\n")
        host = Host("behind", (), {**host_for(sshd).vars, "ansible_host": "behind"})
        result = run_once(host, known, ["echo", "ok"], ssh_config=cfg)
        assert result.stdout == b"ok\n"
        assert f"target {sshd.address} port {sshd.port}" in jump.log.read_text()


def test_proxy_command_from_the_inventory_args(
    sshd: Sshd, known_hosts: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    args = f"-o 'ProxyCommand=sh -c \"touch {marker}; exec {nc()} %h %p\"'"
    host = host_for(sshd, ansible_ssh_common_args=args)
    result = run_once(host, known_hosts, ["echo", "ok"], ssh_config=config(tmp_path, ""))
    assert result.stdout == b"ok\n"
    assert marker.exists()  # the connection really went through the proxy


def test_dash_j_from_the_inventory_args(sshd: Sshd, tmp_path: Path) -> None:
    with Sshd.start(tmp_path / "jump", log_level="DEBUG1") as jump:
        known = tmp_path / "known_hosts"
        known.write_text(sshd.known_hosts_line() + jump.known_hosts_line())
        cfg = config(tmp_path, f"Host {jump.address}\n  IdentityFile {jump.client_key}\n")
        args = f"-J {jump.user}@{jump.address}:{jump.port}"
        result = run_once(
            host_for(sshd, ansible_ssh_extra_args=args), known, ["echo", "ok"], ssh_config=cfg
        )
        assert result.stdout == b"ok\n"
        assert f"target {sshd.address} port {sshd.port}" in jump.log.read_text()


def test_a_failing_proxy_says_what_it_printed(
    sshd: Sshd, known_hosts: Path, tmp_path: Path
) -> None:
    cfg = config(tmp_path, "Host *\n  ProxyCommand sh -c 'echo no route to %h >&2; exit 1'\n")
    with pytest.raises(UnreachableError, match=f"ProxyCommand.*said: no route to {sshd.address}"):
        connect(host_for(sshd), known_hosts, ssh_config=cfg)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"  # a zombie has ended; only its parent's reaping is left


def test_a_hanging_proxy_and_its_children_end_at_the_deadline(
    sshd: Sshd, known_hosts: Path, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    # The proxy starts a background child (as aws ssm starts its plugin), then hangs itself.
    hang = f"sh -c 'sleep 300 & echo $! >> {pids}; echo $$ >> {pids}; exec sleep 301'"
    cfg = config(tmp_path, f"Host *\n  ProxyCommand {hang}\n")
    started = time.monotonic()
    with pytest.raises(UnreachableError, match="deadline"):
        connect(host_for(sshd), known_hosts, timeout=TIMEOUT, ssh_config=cfg)
    assert time.monotonic() - started < TIMEOUT + 1.5
    spawned = [int(p) for p in pids.read_text().split()]
    assert len(spawned) == 2
    end = time.monotonic() + 2
    while any(_alive(p) for p in spawned) and time.monotonic() < end:
        time.sleep(0.02)  # orphans are reaped by init a moment after the kill
    assert not [p for p in spawned if _alive(p)]


def test_closing_the_backend_ends_the_proxy(sshd: Sshd, known_hosts: Path, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    proxy = f"sh -c 'sleep 300 & echo $! >> {pids}; exec {nc()} %h %p'"
    cfg = config(tmp_path, f"Host *\n  ProxyCommand {proxy}\n")
    fds = len(os.listdir("/proc/self/fd"))
    for _ in range(3):
        backend = connect(host_for(sshd), known_hosts, ssh_config=cfg)
        assert backend.run(["echo", "ok"], b"", time.monotonic() + 10).stdout == b"ok\n"
        backend.close()
    children = [int(p) for p in pids.read_text().split()]
    assert len(children) == 3
    end = time.monotonic() + 2
    while any(_alive(c) for c in children) and time.monotonic() < end:
        time.sleep(0.02)
    assert not [c for c in children if _alive(c)]
    assert len(os.listdir("/proc/self/fd")) <= fds  # socketpair and stderr file closed


def test_hostile_inventory_name_never_runs_a_command(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    cfg = config(
        tmp_path,
        f'Match exec "test %h = nothing"\n  Port 2222\nHost *\n  ProxyCommand {nc()} %h %p\n',
    )
    for name in (f"x;touch {marker}", f"x$(touch {marker})", f"x`touch {marker}`"):
        with pytest.raises(TransportError, match="OpenSSH refuses"):
            connect(Host(name), tmp_path / "kh", ssh_config=cfg)
        with pytest.raises(TransportError, match="OpenSSH refuses"):
            connect(Host("web", (), {"ansible_host": name}), tmp_path / "kh", ssh_config=cfg)
    assert not marker.exists()


def test_hostile_hostname_in_ssh_config_never_reaches_match_exec(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    cfg = config(
        tmp_path, f'Host evil\n  HostName x;touch {marker}\nMatch exec "test %h = y"\n  Port 1\n'
    )
    with pytest.raises(TransportError, match="host name for Match exec"):
        connect(Host("evil"), tmp_path / "kh", ssh_config=cfg)
    assert not marker.exists()


def test_match_exec_runs_for_valid_names(sshd: Sshd, known_hosts: Path, tmp_path: Path) -> None:
    log = tmp_path / "exec.log"
    cfg = config(
        tmp_path,
        f'Match exec "echo %h %n %p >> {log}; test %h = {sshd.address}"\n'
        f"  ProxyCommand {nc()} %h %p\n",
    )
    result = run_once(host_for(sshd), known_hosts, ["echo", "ok"], ssh_config=cfg)
    assert result.stdout == b"ok\n"
    assert f"{sshd.address} {sshd.address} {sshd.port}" in log.read_text()


def test_a_hanging_match_exec_ends_at_the_deadline(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    cfg = config(tmp_path, f'Match exec "sleep 300 & echo $! > {pids}; wait"\n  Port 1\n')
    started = time.monotonic()
    with pytest.raises(TransportError, match=r"Match exec .* still running at the deadline"):
        connect(Host("web"), tmp_path / "kh", timeout=TIMEOUT, ssh_config=cfg)
    assert time.monotonic() - started < TIMEOUT + 1
    child = int(pids.read_text())
    end = time.monotonic() + 2
    while _alive(child) and time.monotonic() < end:
        time.sleep(0.02)
    assert not _alive(child)
