"""The golden layer: what the fleet is provisioned with, as an overlay layer on top of the base.

Kept apart from the base so changing the scenario's packages costs seconds, not a debootstrap.
It is the upper directory of an overlay over the base, used as a second lower layer by hosts
(`lowerdir=golden:base`). Cached as `golden-<hash>`, built in a temp dir and renamed into place.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

from tests.lab import base, debs
from tests.lab.paths import lab_root

AUDITOR_UID = 1500  # the non-root login of the sudo scenario; fixed so hosts can chown to it
SUDOERS = "auditor ALL=(root) NOPASSWD: ALL\n"
PROVISION = f"""
dpkg -i /mnt/debs/{debs.AGENT_NEW.filename}
systemctl enable acme-agent.service
useradd --create-home --uid {AUDITOR_UID} --shell /bin/sh auditor
install -m 0440 /dev/stdin /etc/sudoers.d/auditor <<'EOF'
{SUDOERS}EOF
"""


def golden_hash(base_dir: Path) -> str:
    text = f"{base_dir.name}\n{debs.recipe_text()}\n{PROVISION}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ensure_golden(base_dir: Path, debs_dir: Path) -> tuple[Path, float]:
    """The golden layer directory (an overlay upper dir) for this base and scenario."""
    final = lab_root() / f"golden-{golden_hash(base_dir)}"
    if (final / "layer").is_dir():
        return final / "layer", 0.0
    started = time.monotonic()
    base.remove_stale_builds(final.parent)
    tmp = final.parent / f"{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    build(tmp, base_dir, debs_dir)
    try:
        tmp.rename(final)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
    return final / "layer", time.monotonic() - started


def build(tmp: Path, base_dir: Path, debs_dir: Path) -> None:
    layer, work, merged = tmp / "layer", tmp / "work", tmp / "merged"
    for path in (layer, work, merged):
        path.mkdir(parents=True)
    opts = f"lowerdir={base_dir},upperdir={layer},workdir={work}"
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", opts, str(merged)], check=True)
    try:
        argv = [f"--bind-ro={debs_dir}:/mnt/debs", "/bin/sh", "-ec", PROVISION]
        base.run(base.nspawn_command(merged, argv))
    finally:
        subprocess.run(["umount", str(merged)], check=True)
    shutil.rmtree(work)
    merged.rmdir()
