"""ansible_connection=docker|podman: a container on this machine as an inventory host.

Like Ansible's docker and podman connections: argv runs through `ENGINE exec -i NAME ...` on the
local machine, NAME being ansible_host (else the inventory name); ansible_user becomes
`--user`, and ansible_become wraps the command in sudo inside the container.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence

from driftcheck.backends.local import LocalBackend
from driftcheck.backends.options import TransportOptions, become_argv
from driftcheck.errors import UnreachableError
from driftcheck.model import CommandResult, Host

ENGINES = ("docker", "podman")
ENGINE_ERROR = 125  # docker's and podman's own failure (no such container, not running...)


class ContainerBackend:
    def __init__(self, host: Host, options: TransportOptions) -> None:
        self._host = host
        self._engine = host.connection
        # The engine runs as this process's user: become applies inside the container only.
        self._local = LocalBackend(Host(host.name), options)

    def exec_argv(self, argv: Sequence[str]) -> list[str]:
        user = self._host.vars.get("ansible_user")
        as_user = ["--user", str(user)] if user else []
        inner = become_argv(self._host, argv)
        return [self._engine, "exec", "-i", *as_user, self._host.address, *inner]

    def run(self, argv: Sequence[str], stdin: bytes, deadline: float) -> CommandResult:
        result = self._local.run(self.exec_argv(argv), stdin, deadline)
        if result.rc == ENGINE_ERROR and not result.stdout:
            said = result.stderr.decode("utf-8", "replace").strip().splitlines()
            why = said[-1][:200] if said else f"exit {result.rc}"
            raise UnreachableError(f"{self._engine} exec {self._host.address}: {why}")
        return result

    def close(self) -> None:
        self._local.close()


def open_container(host: Host, options: TransportOptions, deadline: float) -> ContainerBackend:
    """Nothing to connect to: a missing container shows on the first command (engine exit 125)."""
    del deadline  # each command gets the deadline
    if shutil.which(host.connection) is None:
        raise UnreachableError(f"ansible_connection={host.connection}: no {host.connection} here")
    return ContainerBackend(host, options)
