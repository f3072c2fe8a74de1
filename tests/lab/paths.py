"""Where the lab keeps its things. One root, so `down` finds everything from a fresh process."""

from __future__ import annotations

import os
from pathlib import Path


def lab_root() -> Path:
    """Cache (base images) and run state live here; override with DRIFTCHECK_LAB_ROOT."""
    return Path(os.environ.get("DRIFTCHECK_LAB_ROOT", "/var/tmp/driftcheck-lab"))


def run_dir() -> Path:
    """The running lab: state.json, keys, inventory, known_hosts, per-host overlays.
    DRIFTCHECK_LAB_RUN puts a second lab beside the first (with DRIFTCHECK_LAB_NET)."""
    return Path(os.environ.get("DRIFTCHECK_LAB_RUN") or lab_root() / "run")


def net() -> str:
    """The lab's loopback /16: far from 127.0.0.1 and the usual 127.0.x test addresses."""
    return os.environ.get("DRIFTCHECK_LAB_NET", "127.77")
