"""Transport settings shared by every backend (kept apart from __init__ to avoid import cycles)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from driftcheck import shell
from driftcheck.model import Host


@dataclass(frozen=True)
class TransportOptions:
    timeout: float = 30.0  # per-host deadline: connect + auth + command
    known_hosts: Path | None = None  # --known-hosts FILE; else ssh_config's, ~/.ssh, /etc/ssh
    accept_new_host_keys: bool = False  # trust on first use; a CHANGED key is never accepted
    ssh_config: Path | None = None  # -F FILE; else ~/.ssh/config if present
    output_cap: int = 64 << 20  # bytes kept per host (stdout + stderr); beyond: truncated


def truthy(value: object) -> bool:
    """Ansible's boolean reading of an inventory value (`yes`, `true`, `1`, `on`...)."""
    if isinstance(value, str):
        return value.strip().lower() in ("yes", "y", "true", "t", "1", "on")
    return bool(value)


def become_argv(host: Host, argv: Sequence[str]) -> Sequence[str]:
    """argv wrapped in `sudo -n` when the inventory says ansible_become."""
    if not truthy(host.vars.get("ansible_become", False)):
        return argv
    user = host.vars.get("ansible_become_user")
    return shell.become(argv, str(user) if user else None)
