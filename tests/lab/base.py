"""The base root filesystem every lab host boots from: debootstrap + the packages hosts need.

Built once and cached under the lab root as `base-<hash of the recipe>`; a changed recipe gets a
new directory. Built into a temporary directory and renamed into place, so a killed build never
leaves a half base behind (its leftovers are removed by the next build).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.lab.paths import lab_root

SUITE = "bookworm"
# One package a line: adding what a scenario needs (e.g. podman, crun) is a one-line change.
PACKAGES = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "sudo",
    "procps",  # ps: people poking at a lab host expect it; drift injection polls with it
    # Container hosts: podman with crun (configured below), `docker` on top of it, and a static
    # busybox to make a busybox-only image from. Installed in the chroot: `debootstrap
    # --include=podman` fails to configure.
    "podman",
    "crun",
    "podman-docker",
    "busybox-static",
)
# Bump when the build steps below change in a way the package list does not show.
BUILD_STEPS_VERSION = 2

# Keeps package scripts from starting daemons inside the build (there is no init to own them).
POLICY_RC_D = "#!/bin/sh\nexit 101\n"

# Plain podman fails inside nspawn hosts on this kernel (read-only cgroups and /proc/sys, no
# keyctl, no setrlimit NOFILE); this works.
CONTAINERS_CONF = """[containers]
default_ulimits = []      # setrlimit(RLIMIT_NOFILE) is not permitted
default_sysctls = []      # /proc/sys is read-only inside nspawn
keyring = false           # keyctl is filtered
cgroups = "disabled"      # cgroup hierarchy is read-only inside nspawn
[engine]
runtime = "crun"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""
# A Debian root filesystem for container images (no registry: `podman import` of a tar), taken
# from the debootstrap before the host packages go in, trimmed of docs.
DEBIAN_IMAGE_TAR = "opt/lab-images/debian.tar"
IMAGE_EXCLUDES = ("./usr/share/doc", "./usr/share/man", "./usr/share/locale", "./usr/share/info")


def recipe() -> dict[str, object]:
    return {"suite": SUITE, "packages": list(PACKAGES), "steps": BUILD_STEPS_VERSION}


def recipe_hash() -> str:
    text = json.dumps(recipe(), sort_keys=True).encode()
    return hashlib.sha256(text).hexdigest()[:16]


def base_dir() -> Path:
    return lab_root() / f"base-{recipe_hash()}"


def ensure_base(log: bool = True) -> tuple[Path, float]:
    """The cached base for the current recipe, built if missing. Returns (dir, build seconds)."""
    final = base_dir()
    if (final / ".driftcheck-recipe.json").is_file():
        return final, 0.0  # cached (its build time: built_seconds())
    started = time.monotonic()
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(final.parent)
    tmp = final.parent / f"{final.name}.tmp-{os.getpid()}"
    if log:
        print(f"lab: building base {final.name} (debootstrap {SUITE}) ...", file=sys.stderr)
    build(tmp)
    (tmp / ".driftcheck-build-seconds").write_text(f"{time.monotonic() - started:.1f}\n")
    try:
        tmp.rename(final)
    except OSError:  # another process finished the same recipe first: keep theirs
        shutil.rmtree(tmp, ignore_errors=True)
    return final, time.monotonic() - started


def built_seconds(base: Path) -> float:
    """How long the cached base took to build (the figure CI pays on a fresh machine)."""
    try:
        return float((base / ".driftcheck-build-seconds").read_text())
    except (OSError, ValueError):
        return 0.0


def remove_stale_builds(parent: Path) -> None:
    """Leftovers of killed builds (`*.tmp-PID`) whose process is gone."""
    for path in parent.glob("*.tmp-*"):
        pid = path.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(path, ignore_errors=True)


def build(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
    run(["debootstrap", "--variant=minbase", SUITE, str(root)])
    save_image_rootfs(root)
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text(POLICY_RC_D)
    policy.chmod(0o755)
    install = "apt-get install -y -q --no-install-recommends " + " ".join(PACKAGES)
    in_root(root, f"apt-get update -q && {install} && apt-get clean")
    policy.unlink()
    (root / "etc/containers").mkdir(exist_ok=True)
    (root / "etc/containers/containers.conf").write_text(CONTAINERS_CONF)
    strip_identity(root)
    shutil.rmtree(root / "var/lib/apt/lists", ignore_errors=True)
    (root / "var/lib/apt/lists/partial").mkdir(parents=True)
    (root / ".driftcheck-recipe.json").write_text(json.dumps(recipe(), indent=1))


def save_image_rootfs(root: Path) -> None:
    """The fresh minbase as a tar inside the base: container hosts `podman import` it. Written
    into a directory tar skips (made first), so tar never sees the tree change as it reads it."""
    dest = root / DEBIAN_IMAGE_TAR
    dest.parent.mkdir(parents=True)
    skip = ["./" + str(dest.parent.relative_to(root)), *IMAGE_EXCLUDES]
    run(["tar", "-C", str(root), *[f"--exclude={path}" for path in skip], "-cf", str(dest), "."])


def strip_identity(root: Path) -> None:
    """Every host gets its own host keys and machine-id; the base has none."""
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (root / "etc/machine-id").write_text("")
    dbus_id = root / "var/lib/dbus/machine-id"
    if dbus_id.is_file() and not dbus_id.is_symlink():
        dbus_id.unlink()


def in_root(root: Path, script: str) -> None:
    """Run a shell script inside `root` with systemd-nspawn (no mounts to clean up afterwards)."""
    run(nspawn_command(root, ["/bin/sh", "-ec", script]))


def nspawn_command(root: Path, argv: list[str]) -> list[str]:
    return [
        "systemd-nspawn",
        "--quiet",
        "--register=no",
        "--keep-unit",
        "--as-pid2",
        "--setenv=DEBIAN_FRONTEND=noninteractive",
        "-D",
        str(root),
        *argv,
    ]


def run(argv: list[str]) -> None:
    """Run a build step; on failure show its output (a build log nobody can read is useless)."""
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-4000:]
        raise RuntimeError(f"lab: {' '.join(argv[:6])} ... failed ({proc.returncode}):\n{tail}")
