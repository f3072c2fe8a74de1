"""A private podman on this machine for the container tests: its own containers.conf, storage,
tmp dir and events log under one root, so setup is idempotent and teardown removes all of it.

On the machine itself: runtime runc, cgroupfs, no default ulimits. Images come from root
filesystems: a busybox-only one (busybox-static's binary, downloaded with `apt-get download`,
never installed) and a Debian one (`debootstrap --variant=minbase`, cached).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(os.environ.get("DRIFTCHECK_CONTAINERS_ROOT", "/var/tmp/driftcheck-containers"))
TEST_ROOT = ROOT / "podman"  # torn down after the tests; the rootfs caches above are kept
BUSYBOX_APPLETS = [
    "sh",
    "sleep",
    "cat",
    "ls",
    "stat",
    "sha256sum",
    "head",
    "base64",
    "date",
    "uname",
    "id",
    "ps",
]
BB_IMAGE = "localhost/bb:1"
BB_IMAGE_2 = "localhost/bb:2"
DEB_IMAGE = "localhost/deb:12"


@dataclass(frozen=True)
class Podman:
    root: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            "CONTAINERS_CONF": str(self.root / "containers.conf"),
            "CONTAINERS_STORAGE_CONF": str(self.root / "storage.conf"),
        }

    def __call__(self, *args: str, stdin: bytes = b"", check: bool = True) -> str:
        proc = subprocess.run(
            ["podman", *args],
            input=stdin,
            capture_output=True,
            env={**os.environ, **self.env},
            timeout=120,
            check=False,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(f"podman {' '.join(args)}: {proc.stderr.decode()[-500:]}")
        return proc.stdout.decode()

    def configure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "containers.conf").write_text(
            "[containers]\ndefault_ulimits = []\nkeyring = false\n"
            '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n'
            f'events_logger = "file"\nevents_logfile_path = "{self.root}/events.log"\n'
            f'tmp_dir = "{self.root}/tmp"\n'
        )
        (self.root / "storage.conf").write_text(
            f'[storage]\ndriver = "overlay"\nrunroot = "{self.root}/run"\n'
            f'graphroot = "{self.root}/storage"\n'
        )

    def import_rootfs(self, rootfs: Path, image: str) -> None:
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        assert tar.stdout is not None
        proc = subprocess.run(
            ["podman", "import", "-", image],
            stdin=tar.stdout,
            capture_output=True,
            env={**os.environ, **self.env},
            timeout=300,
            check=False,
        )
        tar.stdout.close()
        tar.wait()
        if proc.returncode != 0:
            raise RuntimeError(f"podman import {image}: {proc.stderr.decode()[-500:]}")

    def run(self, name: str, image: str, *command: str, init: bool = False) -> None:
        self("rm", "-f", "-t", "0", name, check=False)
        extra = ["--init"] if init else []
        self("run", "-d", "--name", name, "--network", "none", *extra, image, *command)

    def events_mark(self) -> int:
        log = self.root / "events.log"
        return log.stat().st_size if log.exists() else 0

    def execs_since(self, mark: int) -> list[str]:
        """Names of the containers exec'd into since `mark` (events_mark), one per exec: the
        engine's own event log (events_logger = "file"), not our account of what we ran."""
        with open(self.root / "events.log", "rb") as log:
            log.seek(mark)
            events = [json.loads(line) for line in log.read().splitlines() if line.strip()]
        return sorted(e["Name"] for e in events if e.get("Status") == "exec")

    def processes(self, name: str) -> list[tuple[int, str, str]]:
        """(pid, state, comm) of every process in the container, read from the host's /proc."""
        pid1 = int(self("inspect", "--format", "{{.State.Pid}}", name).strip())
        return sorted(procs_below(pid1))

    def teardown(self) -> None:
        self("rm", "-a", "-f", "-t", "0", check=False)
        self("rmi", "-a", "-f", check=False)
        subprocess.run(["umount", "-R", str(self.root / "storage" / "overlay")],
                       capture_output=True, check=False)  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)


def procs_below(pid1: int) -> Iterator[tuple[int, str, str]]:
    """Every process in the container's PID namespace (host PIDs): its PID 1's tree and the
    processes `exec` started, which are conmon's children on the host, not PID 1's."""
    namespace = os.readlink(f"/proc/{pid1}/ns/pid")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "ns" / "pid") != namespace:
                continue
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        comm, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        yield int(entry.name), rest.split()[0], comm


def busybox_rootfs(cache: Path) -> Path:
    """A busybox-only root filesystem: the static busybox and symlinks for its applets."""
    rootfs = cache / "busybox"
    if (rootfs / "bin" / "busybox").exists():
        return rootfs
    work = cache / "busybox-deb"
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", "busybox-static"], cwd=work, check=True,
                   capture_output=True)  # fmt: skip
    deb = next(work.glob("busybox-static_*.deb"))
    subprocess.run(["dpkg-deb", "-x", str(deb), str(work / "x")], check=True)
    (rootfs / "bin").mkdir(parents=True, exist_ok=True)
    (rootfs / "etc").mkdir(exist_ok=True)
    shutil.copy2(work / "x" / "bin" / "busybox", rootfs / "bin" / "busybox")
    for applet in BUSYBOX_APPLETS:
        (rootfs / "bin" / applet).symlink_to("busybox")
    (rootfs / "etc" / "app.conf").write_text("listen 80\n")
    return rootfs


def debian_rootfs(cache: Path) -> Path:
    """debootstrap --variant=minbase, cached (about 30 s and 200 MB the first time)."""
    rootfs = cache / "debian"
    if (rootfs / "var" / "lib" / "dpkg" / "status").exists():
        return rootfs
    tmp = cache / "debian.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(tmp)], check=True,
                   capture_output=True, timeout=900)  # fmt: skip
    tmp.rename(rootfs)
    return rootfs


def build_deb(where: Path, name: str, version: str) -> Path:
    """A small real package (dpkg-deb), to install by hand inside a running container."""
    tree = where / f"{name}-pkg"
    (tree / "DEBIAN").mkdir(parents=True, exist_ok=True)
    (tree / "usr" / "share" / name).mkdir(parents=True, exist_ok=True)
    (tree / "usr" / "share" / name / "README").write_text("installed by hand\n")
    (tree / "DEBIAN" / "control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: all\n"
        "Maintainer: driftcheck tests <t@example.invalid>\nDescription: drift\n"
    )
    deb = where / f"{name}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(deb)], check=True,
                   capture_output=True)  # fmt: skip
    return deb


def wait_for(predicate: object, timeout: float = 20.0) -> None:
    """Poll (never a fixed sleep) until predicate() is true."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)
