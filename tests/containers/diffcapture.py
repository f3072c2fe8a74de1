"""Capture real `podman diff` output for the parser tests: a busybox container changed by hand
(a file added, one deleted, one edited, a directory tree made, writes where containers are
expected to write, names with HTML characters, a quote, a backslash, non-ASCII and a line break),
and its diff in both of podman's formats: JSON (`--format json`, what the collector asks podman
for) and lines (`A /path`, the format `docker diff` prints, which the collector asks docker for).

    python -m tests.containers.diffcapture        # rewrites tests/containers/diff/
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.containers.podman import ROOT, Podman, busybox_rootfs

HERE = Path(__file__).parent / "diff"
IMAGE = "localhost/diffcapture:1"

# Run inside the container (busybox sh), after it started.
CHANGES = r"""
echo 'added by hand' > /etc/new.conf
echo 'listen 8080' > /etc/app.conf
rm /bin/stat
mkdir -p /srv/data/a/b
echo x > /srv/data/a/b/f
echo t > /tmp/scratch
mkdir -p /var/log /var/cache/app
echo l > /var/log/app.log
echo c > /var/cache/app/c
echo w > '/etc/a<b>&"c\d'
echo u > /etc/unié.conf
echo n > "$(printf '/etc/nl\nA x')"
"""


def capture(podman: Podman, out: Path) -> None:
    podman.import_rootfs(busybox_rootfs(ROOT), IMAGE)
    podman.run("changed", IMAGE, "sleep", "100000")
    try:
        fresh = podman("diff", "--format", "json", "changed")
        podman("exec", "changed", "sh", "-c", CHANGES)
        out.mkdir(parents=True, exist_ok=True)
        (out / "podman_fresh.json").write_text(fresh)
        (out / "podman.json").write_text(podman("diff", "--format", "json", "changed"))
        (out / "podman.txt").write_text(podman("diff", "changed"))
        (out / "VERSION").write_text(podman("--version"))
    finally:
        podman("rm", "-f", "-t", "0", "changed", check=False)


def main() -> int:
    podman = Podman(Path(os.environ.get("DRIFTCHECK_CAPTURE_ROOT", "/var/tmp/dc-diffcapture")))
    podman.teardown()
    podman.configure()
    try:
        capture(podman, HERE)
    finally:
        podman.teardown()
    print(f"written: {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
