"""ansible_connection=podman: a container on this machine as an inventory host."""

from __future__ import annotations

import time

import pytest

from driftcheck.backends import TransportOptions, open_backend
from driftcheck.backends.container import ContainerBackend
from driftcheck.models import Host, Status
from driftcheck.scan import ScanOptions, audit_host
from tests.containers.podman import Podman
from tests.containers.test_audit import app_state


@pytest.fixture
def env(fleet: Podman, monkeypatch: pytest.MonkeyPatch) -> Podman:
    for key, value in fleet.env.items():
        monkeypatch.setenv(key, value)
    return fleet


def test_audit_a_container_as_a_host(env: Podman) -> None:
    host = Host("app-host", (), {"ansible_connection": "podman", "ansible_host": "app"})
    before = env.processes("app")
    mark = env.events_mark()
    result = audit_host(host, app_state(), ScanOptions()).result
    assert env.execs_since(mark) == ["app"]  # the whole audit: one exec
    assert result.status is Status.SNOWFLAKE, result.error
    assert {f.key() for f in result.findings} == {
        ("host", "file", "/etc/app.conf", "content"),
        ("host", "package", "drift-tool", "unexpected"),
    }
    assert result.facts["os_id"] == "debian"
    assert env.processes("app") == before


def test_stdin_rc_and_user(env: Podman) -> None:
    host = Host("leaky", (), {"ansible_connection": "podman", "ansible_user": "65534"})
    backend = open_backend(host, TransportOptions(), time.monotonic() + 30)
    assert isinstance(backend, ContainerBackend)
    result = backend.run(["sh", "-c", "cat; id -u; exit 3"], b"in\n", time.monotonic() + 30)
    assert (result.rc, result.stdout) == (3, b"in\n65534\n")


def test_missing_container_is_unreachable(env: Podman) -> None:
    host = Host("nope", (), {"ansible_connection": "podman"})
    result = audit_host(host, app_state(), ScanOptions()).result
    assert result.status is Status.UNREACHABLE
    assert result.error is not None
    assert "podman exec nope" in result.error
