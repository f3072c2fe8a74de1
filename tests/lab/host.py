"""One lab host: an overlay over the cached layers, booted with `systemd-nspawn -b`.

Everything a later `down` needs (pids, mounts, the host's PID namespace) goes into a record that
the fleet keeps in state.json, so a fresh process can stop a host left by a crashed run.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.lab import procs

SSHD_CONF = "sshd_config.d/lab.conf"


@dataclass(frozen=True)
class HostSetup:
    """What a host needs before it boots; built by the scenario."""

    name: str
    listen: str  # the address sshd listens on
    authorized_key: str
    login_user: str = "root"
    login_uid: int = 0
    sshd_extra: str = ""  # more sshd_config lines (e.g. PermitRootLogin no)
    etc_hosts: str = ""  # lines appended to /etc/hosts
    files: dict[str, tuple[bytes, int]] = field(default_factory=dict)  # path -> (content, mode)
    upper_on_loop: bool = False  # an upper fs that records no birth time (an old ext3-era host)
    containers: bool = False  # runs podman: real storage bound in, CAP_NET_ADMIN


def host_dir(run_dir: Path, name: str) -> Path:
    return run_dir / "hosts" / name


def prepare(setup: HostSetup, run_dir: Path, layers: list[Path]) -> dict[str, object]:
    """Mount the host's overlay and give it its identity. Returns the host's state record."""
    hdir = host_dir(run_dir, setup.name)
    hdir.mkdir(parents=True, exist_ok=True)
    record: dict[str, object] = {"name": setup.name, "dir": str(hdir), "mounts": []}
    mounts: list[str] = record["mounts"]  # type: ignore[assignment]
    layer_root = hdir
    if setup.upper_on_loop:
        layer_root = hdir / "fs"
        mount_loop_fs(hdir / "fs.img", layer_root)
        mounts.append(str(layer_root))
    root = mount_overlay(layer_root, hdir / "root", layers)
    mounts.insert(0, str(root))  # unmount the overlay before the filesystem under it
    record["root"] = str(root)
    if setup.containers:  # podman's storage cannot live on the overlay
        (hdir / "containers").mkdir(exist_ok=True)
        record["containers"] = str(hdir / "containers")
    write_identity(root, setup)
    return record


def mount_loop_fs(image: Path, mountpoint: Path) -> None:
    """ext4 with 128-byte inodes keeps no birth time, like the ext3 roots of old hosts."""
    with image.open("wb") as fh:
        fh.truncate(256 << 20)
    subprocess.run(
        ["mkfs.ext4", "-q", "-F", "-I", "128", str(image)], check=True, capture_output=True
    )
    mountpoint.mkdir(exist_ok=True)
    subprocess.run(["mount", "-o", "loop", str(image), str(mountpoint)], check=True)


def mount_overlay(layer_root: Path, root: Path, layers: list[Path]) -> Path:
    upper, work = layer_root / "upper", layer_root / "work"
    for path in (upper, work, root):
        path.mkdir(exist_ok=True)
    lower = ":".join(str(p) for p in layers)
    opts = f"lowerdir={lower},upperdir={upper},workdir={work}"
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", opts, str(root)], check=True)
    return root


def write_identity(root: Path, setup: HostSetup) -> None:
    etc = root / "etc"
    (etc / "hostname").write_text(f"{setup.name}\n")
    (etc / "machine-id").write_text(secrets.token_hex(16) + "\n")
    hosts = f"127.0.0.1\tlocalhost\n127.0.1.1\t{setup.name}\n::1\tlocalhost\n{setup.etc_hosts}"
    (etc / "hosts").write_text(hosts)
    key = etc / "ssh/ssh_host_ed25519_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"root@{setup.name}", "-f", str(key)],
        check=True,
    )
    sshd = (
        f"ListenAddress {setup.listen}\nHostKey /etc/ssh/ssh_host_ed25519_key\n"
        f"PasswordAuthentication no\nUseDNS no\n{setup.sshd_extra}"
    )
    (etc / "ssh" / SSHD_CONF).write_text(sshd)
    home = root / ("root" if setup.login_user == "root" else f"home/{setup.login_user}")
    install_key(home, setup.authorized_key, setup.login_uid)
    for path, (content, mode) in setup.files.items():
        write_file(root, path, content, mode)


def install_key(home: Path, public_key: str, uid: int) -> None:
    ssh_dir = home / ".ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    keys = ssh_dir / "authorized_keys"
    keys.write_text(public_key)
    keys.chmod(0o600)
    for path in (ssh_dir, keys):
        os.chown(path, uid, uid)


def write_file(root: Path, path: str, content: bytes, mode: int) -> None:
    dest = root / path.lstrip("/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(content)
    dest.chmod(mode)


def boot(record: dict[str, object]) -> None:
    """Start systemd in the host (setsid: it must outlive `python -m tests.lab up`)."""
    hdir, name = Path(str(record["dir"])), str(record["name"])
    argv = [
        "systemd-nspawn",
        "--quiet",
        "--register=no",
        "--keep-unit",
        "--link-journal=no",
        "--setenv=SYSTEMD_COLORS=0",  # a plain console.log, for boot-failure reports
        "-D",
        str(record["root"]),
        "-M",
        name,
        f"--hostname={name}",
        "-b",
    ]
    if record.get("containers"):
        argv[-1:-1] = [
            f"--bind={record['containers']}:/var/lib/containers",
            "--capability=CAP_NET_ADMIN",
        ]
    with (hdir / "console.log").open("wb") as log:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
    record["nspawn_pid"] = proc.pid
    record["nspawn_start"] = procs.start_time(proc.pid)


def find_leader(record: dict[str, object]) -> bool:
    """Record the host's PID 1 (nspawn's descendant in a new PID namespace) once it exists."""
    if record.get("leader_pid"):
        return True
    leader = procs.namespace_leader(int(str(record["nspawn_pid"])))
    if leader is None:
        return False
    record["leader_pid"] = leader
    record["leader_start"] = procs.start_time(leader)
    record["pidns"] = procs.pidns(leader)
    return True


def in_host(
    record: dict[str, object], argv: list[str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run argv inside the booted host, through its namespaces (no login needed)."""
    ns = ["nsenter", "-t", str(record["leader_pid"]), "-m", "-p", "-u", "-i", "-n", "-r", "-w"]
    return subprocess.run([*ns, *argv], input=stdin, capture_output=True, text=True, check=False)


def system_state(record: dict[str, object]) -> str:
    """`systemctl is-system-running` inside the host."""
    proc = in_host(record, ["systemctl", "is-system-running"])
    return proc.stdout.strip() or proc.stderr.strip()


def logins_permitted(record: dict[str, object]) -> bool:
    """pam_nologin refuses every user but root while /run/nologin (or /etc/nologin) exists."""
    return (
        in_host(
            record, ["test", "!", "-e", "/run/nologin", "-a", "!", "-e", "/etc/nologin"]
        ).returncode
        == 0
    )


def permit_logins(record: dict[str, object]) -> None:
    """Run systemd-user-sessions again: at boot it can fail with 219/CGROUP on nspawn hosts (the
    cgroup hierarchy is read-only inside them), and then /run/nologin stays for good. Restart,
    not start: when systemd-tmpfiles-setup (failed the same way) wrote /run/nologin after
    user-sessions had already run, a start is a no-op on the active unit; a restart's stop
    writes the file again and its start removes it."""
    in_host(record, ["systemctl", "restart", "systemd-user-sessions.service"])


# Failed units whose last run exited 219 (EXIT_CGROUP): systemd could not place the process in
# its cgroup. On these nspawn hosts (a read-only cgroup tree, hybrid mode) that happens now and
# then at boot to a random unit (systemd-remount-fs, systemd-update-utmp-runlevel, ...): a lab
# artifact, never the unit's own result, and it made peers differ at random.
_CGROUP_FAILED = (
    "for u in $(systemctl list-units --state=failed --no-legend --plain | cut -d' ' -f1); do "
    'systemctl show -p ExecStartPre -p ExecStart -p ExecStartPost "$u" | grep -q "status=219" '
    '&& echo "$u"; done'
)


def retry_cgroup_failures(record: dict[str, object]) -> list[str]:
    """Start again the failed units that lost the cgroup race; other failures stay."""
    units = in_host(record, ["sh", "-c", _CGROUP_FAILED]).stdout.split()
    for unit in units:
        in_host(record, ["systemctl", "reset-failed", unit])
        in_host(record, ["systemctl", "start", unit])
    return units


def console_tail(record: dict[str, object], limit: int = 3000) -> str:
    log = Path(str(record["dir"])) / "console.log"
    try:
        return log.read_bytes()[-limit:].decode(errors="replace")
    except OSError as exc:
        return f"(no console log: {exc})"
