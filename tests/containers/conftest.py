"""A private podman with one container per container drift case, made once per session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.containers.podman import (
    BB_IMAGE,
    BB_IMAGE_2,
    DEB_IMAGE,
    ROOT,
    TEST_ROOT,
    Podman,
    build_deb,
    busybox_rootfs,
    debian_rootfs,
    wait_for,
)
from tests.tools import require

CATATONIT = "/usr/libexec/podman/catatonit"


def _usable() -> str:
    for tool in ("podman", "runc", "dpkg-deb", "apt-get", "debootstrap"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (tests/setup-system.sh)"
    if not Path(CATATONIT).exists():  # `podman run --init` needs it (a Recommends of podman)
        return f"{CATATONIT} is missing: install catatonit (tests/setup-system.sh)"
    return ""


@pytest.fixture(scope="session")
def podman() -> Iterator[Podman]:
    why = _usable()
    require(not why, why)
    engine = Podman(TEST_ROOT)
    engine.teardown()  # idempotent: whatever an interrupted run left
    engine.configure()
    try:
        yield engine
    finally:
        engine.teardown()


@pytest.fixture(scope="session")
def images(podman: Podman, tmp_path_factory: pytest.TempPathFactory) -> Podman:
    bb = busybox_rootfs(ROOT)
    podman.import_rootfs(bb, BB_IMAGE)
    work = tmp_path_factory.mktemp("images")
    bb2 = work / "bb2"
    shutil.copytree(bb, bb2, symlinks=True)
    (bb2 / "etc" / "release").write_text("2\n")
    podman.import_rootfs(bb2, BB_IMAGE_2)
    nosh = work / "nosh"  # busybox without a /bin/sh: a shell-less (distroless-like) image
    (nosh / "bin").mkdir(parents=True)
    shutil.copy2(bb / "bin" / "busybox", nosh / "bin" / "busybox")
    podman.import_rootfs(nosh, "localhost/nosh:1")
    deb = debian_rootfs(ROOT)
    (deb / "etc" / "app.conf").write_text("listen 80\n")
    podman.import_rootfs(deb, DEB_IMAGE)
    return podman


@pytest.fixture(scope="session")
def fleet(images: Podman, tmp_path_factory: pytest.TempPathFactory) -> Podman:
    """Each container drift case, made the way drift happens: by hand on running containers."""
    p = images
    p.run("app", DEB_IMAGE, "sleep", "infinity")
    deb = build_deb(tmp_path_factory.mktemp("deb"), "drift-tool", "0.1")
    p("cp", str(deb), "app:/tmp/drift-tool.deb")
    p("exec", "app", "dpkg", "-i", "/tmp/drift-tool.deb")
    p("exec", "app", "sed", "-i", "s/80/8080/", "/etc/app.conf")
    p.run("old", BB_IMAGE, "sleep", "100000")  # declared on bb:2
    p.run("stopped", BB_IMAGE_2, "sleep", "100000")
    p("stop", "-t", "0", "stopped")
    p.run("debug", BB_IMAGE, "sleep", "100000")  # declared nowhere
    p.run("leaky", BB_IMAGE, "sh", "-c", "sleep 0.2 & exec sleep 100000")
    p.run("inited", BB_IMAGE, "sleep", "100000", init=True)
    p.run("nosh", "localhost/nosh:1", "/bin/busybox", "sleep", "100000")
    wait_for(lambda: any(state == "Z" for _, state, _ in p.processes("leaky")))
    return p
