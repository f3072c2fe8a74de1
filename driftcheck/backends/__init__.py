"""Transports. Each backend only runs commands (see base.py); this picks one per host.

Each transport is imported when a host first needs it: a scan of local hosts never loads
paramiko, and `driftcheck --version` loads no transport at all.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import types

from driftcheck.backends.base import Backend
from driftcheck.backends.options import TransportOptions
from driftcheck.errors import TransportError
from driftcheck.model import Host

__all__ = ["Backend", "TransportOptions", "open_backend"]

_SSH = ("ssh", "paramiko", "smart")  # Ansible's names for an SSH connection
_ENGINES = ("docker", "podman")  # driftcheck.backends.container.ENGINES, without importing it


def open_backend(host: Host, options: TransportOptions, deadline: float) -> Backend:
    """Connect to `host` (connect + host key + auth all before `deadline`, a monotonic time)."""
    if host.connection == "local":
        from driftcheck.backends.local import LocalBackend

        return LocalBackend(host, options)
    if host.connection in _SSH:
        defer_invoke()
        from driftcheck.backends.ssh import connect

        return connect(host, options, deadline)
    if host.connection in _ENGINES:
        from driftcheck.backends.container import open_container

        return open_container(host, options, deadline)
    raise TransportError(
        f"ansible_connection={host.connection} is not supported (use ssh, local, docker or podman)"
    )


def defer_invoke() -> None:
    """paramiko.config imports `invoke` (about 150 ms: it pulls in asyncio and unittest.mock)
    only to run ssh_config's `Match exec`. Stand a placeholder in for it that imports the real
    module on first attribute use, so `Match exec` still works and every other scan skips that
    cost. (importlib's LazyLoader does not do: the import statement itself reads `__spec__`,
    which loads it.) Call before importing paramiko; a no-op once invoke is imported or if it
    is not installed."""
    if "invoke" in sys.modules:
        return
    spec = importlib.util.find_spec("invoke")
    if spec is not None:
        sys.modules["invoke"] = _Deferred("invoke", spec)


class _Deferred(types.ModuleType):
    def __init__(self, name: str, spec: importlib.machinery.ModuleSpec) -> None:
        super().__init__(name)
        self.__spec__ = spec

    def __getattr__(self, attribute: str) -> object:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attribute)
