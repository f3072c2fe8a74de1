"""A benchmark fleet of 100-5,000 SSH hosts on one machine: real sshd processes on loopback.

    .venv/bin/python -m bench.farm up --hosts 1000     # or: make farm-up FARM_HOSTS=1000
    .venv/bin/python -m bench.farm status
    .venv/bin/python -m bench.farm down                # stops every farm sshd, nothing left

Host i listens on its own address 127.89.X.Y (port 22); one sshd serves 16 of them (OpenSSH's
limit on listen sockets), so 1,000 hosts are 63 sshd processes and 5,000 are 313. The hosts
share this machine's filesystem, so each audit reads this machine's real dpkg database; what
differs per host is its name, address and connection. The login user is `driftbench` with
/bin/sh, which reads no rc file: root's ~/.bashrc here runs `pyenv init`, ~150 ms of server CPU
per command, which would swamp what is measured (the collector never depends on the login shell).

FARM/ holds hosts.ini, states/, known_hosts, the client key, one sshd_config per process and
their pid files; `down` kills exactly the pids recorded there.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

FARM = Path("/var/tmp/driftcheck-farm")  # noqa: S108 - root-owned bench state, like the lab's
USER = "driftbench"
PER_SSHD = 16  # OpenSSH's MAX_LISTEN_SOCKS
SSHD = "/usr/sbin/sshd"
PORT = 22

_SSHD_CONFIG = """\
{listen}
HostKey {farm}/ssh_host_ed25519_key
PidFile {farm}/sshd/{index}.pid
AuthorizedKeysFile {farm}/authorized_keys
AllowUsers {user}
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AllowAgentForwarding no
X11Forwarding no
PrintMotd no
PrintLastLog no
UseDNS no
MaxStartups 1000:30:2000
MaxSessions 10
LogLevel ERROR
"""

STATES = """\
packages:
  dpkg: present
  openssh-server: present
  coreutils: present
  telnetd: absent
files:
  /etc/passwd: {mode: '0644', owner: root}
  /etc/hostname: {owner: root}
"""


def address(index: int) -> str:
    """Host `index` (0-based): 127.89.0.1, 127.89.0.2, ... 127.89.0.250, 127.89.1.1, ..."""
    return f"127.89.{index // 250}.{index % 250 + 1}"


def name(index: int) -> str:
    return f"h{index + 1:05d}"


def up(farm: Path, hosts: int) -> None:
    down(farm, quiet=True)
    _ensure_user(farm)
    (farm / "sshd").mkdir(parents=True, exist_ok=True)
    _keys(farm)
    host_pub = (farm / "ssh_host_ed25519_key.pub").read_text().split()[:2]
    _write_inventory(farm, hosts, " ".join(host_pub))
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    groups = [range(i, min(i + PER_SSHD, hosts)) for i in range(0, hosts, PER_SSHD)]
    for index, group in enumerate(groups):
        config = farm / "sshd" / f"{index}.conf"
        listen = "\n".join(f"ListenAddress {address(i)}:{PORT}" for i in group)
        config.write_text(_SSHD_CONFIG.format(listen=listen, farm=farm, index=index, user=USER))
        subprocess.run([SSHD, "-f", str(config)], check=True)  # daemonizes, writes its pid file
    _wait_ready([address(i) for i in range(hosts)])
    print(f"farm up: {hosts} hosts on {len(groups)} sshd processes; inventory {farm}/hosts.ini")


def down(farm: Path, *, quiet: bool = False) -> None:
    pids = _pids(farm)
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)  # polling for exit, bounded
    for pid in pids:
        _signal(pid, signal.SIGKILL)
    for pidfile in (farm / "sshd").glob("*.pid") if (farm / "sshd").is_dir() else ():
        pidfile.unlink()
    if not quiet:
        print(f"farm down: {len(pids)} sshd processes stopped")


def status(farm: Path) -> int:
    pids = _pids(farm)
    alive = [pid for pid in pids if _alive(pid)]
    hosts = _count_hosts(farm)
    print(f"farm: {len(alive)}/{len(pids)} sshd processes alive, {hosts} hosts in the inventory")
    return 0 if alive and len(alive) == len(pids) else 1


def _pids(farm: Path) -> list[int]:
    directory = farm / "sshd"
    if not directory.is_dir():
        return []
    pids = []
    for pidfile in sorted(directory.glob("*.pid")):
        text = pidfile.read_text().strip()
        if text.isdigit() and _is_farm_sshd(int(text), farm):
            pids.append(int(text))
    return pids


def _is_farm_sshd(pid: int, farm: Path) -> bool:
    """Only an sshd started with one of our configs: a recycled pid is left alone."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    # a daemonized sshd retitles itself: "sshd: /usr/sbin/sshd -f FARM/sshd/0.conf [listener]"
    return str(farm / "sshd").encode() in cmdline


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _ensure_user(farm: Path) -> None:
    home = farm / "home"
    if subprocess.run(["id", USER], capture_output=True, check=False).returncode != 0:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/bin/sh", USER], check=True
        )
    home.mkdir(parents=True, exist_ok=True)
    shutil.chown(home, USER, USER)
    # "!" (locked, useradd's default) makes sshd without PAM refuse even a key; "*" only
    # means "no password".
    subprocess.run(["usermod", "--password", "*", "--home", str(home), USER], check=True)
    if shutil.which("rpm") and not (home / ".rpmdb").exists():
        # Debian's rpm keeps its (empty) database in ~/.rpmdb, as root's is here: without it
        # `rpm -qa` fails and the audit would report packages as not collected.
        subprocess.run(["runuser", "-u", USER, "--", "rpm", "--initdb"], check=True)


def _keys(farm: Path) -> None:
    for key in ("ssh_host_ed25519_key", "id_ed25519"):
        if not (farm / key).exists():
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(farm / key)], check=True
            )
    shutil.copy(farm / "id_ed25519.pub", farm / "authorized_keys")
    (farm / "authorized_keys").chmod(0o644)  # read by sshd as the logging-in user


def _write_inventory(farm: Path, hosts: int, host_key: str) -> None:
    key = farm / "id_ed25519"
    lines = ["[farm]"]
    lines += [
        f"{name(i)} ansible_host={address(i)} ansible_user={USER} "
        f"ansible_ssh_private_key_file={key}"
        for i in range(hosts)
    ]
    (farm / "hosts.ini").write_text("\n".join(lines) + "\n")
    (farm / "known_hosts").write_text("".join(f"{address(i)} {host_key}\n" for i in range(hosts)))
    (farm / "ssh_config").write_text("")  # no ~/.ssh/config of whoever runs the bench
    states = farm / "states"
    states.mkdir(exist_ok=True)
    (states / "all.yml").write_text(STATES)


def _count_hosts(farm: Path) -> int:
    inventory = farm / "hosts.ini"
    if not inventory.exists():
        return 0
    return sum(1 for line in inventory.read_text().splitlines() if line.startswith("h"))


def _wait_ready(addresses: Sequence[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    pending = list(addresses)
    while pending:
        pending = [a for a in pending if not _banner(a)]
        if pending and time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} farm hosts give no SSH banner, e.g. {pending[0]}")
        if pending:
            time.sleep(0.1)  # polling for readiness, bounded by the deadline


def _banner(host: str) -> bool:
    try:
        with socket.create_connection((host, PORT), timeout=2) as sock:
            return sock.recv(4) == b"SSH-"
    except OSError:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("up", "down", "status"))
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--dir", type=Path, default=FARM)
    args = parser.parse_args(argv)
    if args.action == "up":
        up(args.dir, args.hosts)
        return 0
    if args.action == "down":
        down(args.dir)
        return 0
    return status(args.dir)


if __name__ == "__main__":
    sys.exit(main())
