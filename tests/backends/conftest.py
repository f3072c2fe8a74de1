"""Fixtures: one real sshd for the module, and helpers to build hosts that point at it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from driftcheck.backends import Backend, TransportOptions, open_backend
from driftcheck.model import Host
from tests.sshd import Sshd


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    with Sshd.start(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture
def known_hosts(tmp_path: Path, sshd: Sshd) -> Path:
    path = tmp_path / "known_hosts"
    path.write_text(sshd.known_hosts_line())
    return path


def host_for(server: Sshd, **extra: Any) -> Host:
    hostvars = {
        "ansible_host": server.address,
        "ansible_port": server.port,
        "ansible_user": server.user,
        "ansible_ssh_private_key_file": str(server.client_key),
        **extra,
    }
    return Host("target", ("all",), hostvars)


def connect(host: Host, known_hosts: Path | None, timeout: float = 10.0, **opts: Any) -> Backend:
    options = TransportOptions(timeout=timeout, known_hosts=known_hosts, **opts)
    return open_backend(host, options, time.monotonic() + timeout)


def run_once(
    host: Host, known_hosts: Path | None, argv: list[str], stdin: bytes = b"", **opts: Any
) -> Any:
    backend = connect(host, known_hosts, **opts)
    try:
        return backend.run(argv, stdin, time.monotonic() + 30)
    finally:
        backend.close()
