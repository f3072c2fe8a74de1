"""ansible_connection=podman: a container on this machine as an inventory host."""

from __future__ import annotations

import threading
import time

import pytest

from driftcheck.backends import TransportOptions, open_backend
from driftcheck.backends.container import ContainerBackend
from driftcheck.errors import DeadlineError
from driftcheck.model import Host
from driftcheck.model.vocab import Status
from driftcheck.scan import ScanOptions, audit_host
from driftcheck.shell import bounded_sh
from tests.containers.podman import Podman, wait_for
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


def test_deadline_leaves_nothing_running_in_the_container(env: Podman) -> None:
    """A collection that hangs inside the container (a hung mount, a broken tool) costs the
    deadline, and the processes it started in the container do not outlive it: killing the
    `podman exec` client alone leaves them running; the collector's time bound (bounded_sh,
    what collect() runs: GNU timeout, which this Debian container has) kills them inside. Under
    a PID 1 that does not reap, as here, what was killed stays a zombie: nothing can reap it
    but PID 1, and a dead process is still better than a hung live one."""
    host = Host("app-host", (), {"ansible_connection": "podman", "ansible_host": "app"})
    before = env.processes("app")
    backend = open_backend(host, TransportOptions(timeout=3), time.monotonic() + 3)
    outcome: list[BaseException] = []

    def hang() -> None:
        try:
            backend.run(bounded_sh(3), b"sleep 300\n", time.monotonic() + 3)
        except DeadlineError as exc:
            outcome.append(exc)

    started = time.monotonic()
    thread = threading.Thread(target=hang)
    thread.start()
    wait_for(lambda: len(env.processes("app")) > len(before))  # the hung collection, seen
    thread.join(10)
    assert len(outcome) == 1, "the deadline did not stop the exec"
    assert time.monotonic() - started < 6

    def nothing_runs() -> bool:  # app's PID 1 (sleep) never reaps: the killed stay zombies
        return all(p[1] == "Z" for p in env.processes("app") if p not in before)

    wait_for(nothing_runs, timeout=5)
