"""Drift the way it happens in life: someone logs in to a running host and changes it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.lab import ready
from tests.lab.inventory import known_hosts_lines
from tests.lab.lab import Lab
from tests.lab.scenario import HostDef

ROTATE_KEY = """rm -f /etc/ssh/ssh_host_*
ssh-keygen -q -t ed25519 -N '' -C "root@$(hostname) (rotated)" -f /etc/ssh/ssh_host_ed25519_key
systemctl restart ssh
"""


def inject(lab: Lab, debs_dir: Path) -> None:
    hosts = [h for h in lab.scenario.hosts if h.booted and (h.drift or h.rotate_key)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(drift_host, lab, h, debs_dir) for h in hosts]:
            future.result()


def drift_host(lab: Lab, host: HostDef, debs_dir: Path) -> None:
    for name in host.uploads:
        lab.ssh(host.name, f"cat > /var/tmp/{name}", input=(debs_dir / name).read_bytes())
    if host.drift:
        lab.ssh(host.name, "sh -e", input=host.drift.encode())
    if host.rotate_key:
        rotate_key(lab, host)


def rotate_key(lab: Lab, host: HostDef) -> None:
    """A new host key after known_hosts was written; only the lab's admin copy learns it."""
    lab.ssh(host.name, "sh -e", input=ROTATE_KEY.encode())
    if not ready.wait_banner(host.address, timeout=30):
        raise ready.BootError(f"lab: {host.name}: sshd did not come back after key rotation")
    keys = ready.keyscan({host.name: host.address})
    admin_kh = lab.dir / "admin/known_hosts"
    kept = [
        line
        for line in admin_kh.read_text().splitlines()
        if line.split(" ", 1)[0] != (host.ssh_hostname or host.address)
    ]
    new = known_hosts_lines(lab.scenario, keys)
    tmp = admin_kh.with_suffix(".tmp")
    tmp.write_text("\n".join(kept) + "\n" + new)
    tmp.replace(admin_kh)  # other hosts' drift sessions read this file meanwhile
