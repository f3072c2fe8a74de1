"""Transports. Each backend only runs commands (see base.py); this picks one per host."""

from __future__ import annotations

from driftcheck.backends.base import Backend
from driftcheck.backends.container import ENGINES, open_container
from driftcheck.backends.local import LocalBackend
from driftcheck.backends.options import TransportOptions
from driftcheck.backends.ssh import connect
from driftcheck.errors import TransportError
from driftcheck.models import Host

__all__ = ["Backend", "TransportOptions", "open_backend"]

_SSH = ("ssh", "paramiko", "smart")  # Ansible's names for an SSH connection


def open_backend(host: Host, options: TransportOptions, deadline: float) -> Backend:
    """Connect to `host` (connect + host key + auth all before `deadline`, a monotonic time)."""
    if host.connection == "local":
        return LocalBackend(host, options)
    if host.connection in _SSH:
        return connect(host, options, deadline)
    if host.connection in ENGINES:
        return open_container(host, options, deadline)
    raise TransportError(
        f"ansible_connection={host.connection} is not supported (use ssh, local, docker or podman)"
    )
