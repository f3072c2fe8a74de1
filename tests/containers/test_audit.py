"""Container drift cases on real podman containers on this machine, audited through the one host
round trip (ansible_connection=local): the right findings, one exec per audited container
(counted in podman's own event log), and nothing left behind in any container."""

from __future__ import annotations

import hashlib

import pytest

from driftcheck.model import ContainerSpec, DeclaredState, FileSpec, Host, HostSpec, PackageSpec
from driftcheck.model.vocab import Status
from driftcheck.scan import ScanOptions, audit_host
from tests.containers.podman import BB_IMAGE, BB_IMAGE_2, DEB_IMAGE, Podman

HOST = Host("here", (), {"ansible_connection": "local"})
APP_CONF = "listen 80\n"


def app_state() -> DeclaredState:
    return DeclaredState(
        packages={
            "drift-tool": PackageSpec("drift-tool", "absent"),
            "dpkg": PackageSpec("dpkg", "present"),
        },
        files={"/etc/app.conf": FileSpec("/etc/app.conf", content=APP_CONF, mode="0644")},
    )


def busybox_state() -> DeclaredState:
    digest = hashlib.sha256(APP_CONF.encode()).hexdigest()
    return DeclaredState(
        packages={"curl": PackageSpec("curl", "absent")},
        files={"/etc/app.conf": FileSpec("/etc/app.conf", sha256=digest)},
        host=HostSpec(max_zombies=5),
    )


def declared(**extra: ContainerSpec) -> DeclaredState:
    specs = [
        ContainerSpec("app", image=DEB_IMAGE, running=True, state=app_state()),
        ContainerSpec("old", image=BB_IMAGE_2, running=True),
        ContainerSpec("stopped", image=BB_IMAGE_2, running=True),
        ContainerSpec("gone", image=BB_IMAGE, running=True),
        ContainerSpec("leaky", image=BB_IMAGE, state=busybox_state()),
        ContainerSpec("inited", image=BB_IMAGE, running=True),
        ContainerSpec("nosh", image="localhost/nosh:1", state=busybox_state()),
        ContainerSpec("debug-shell", absent=True),
        *extra.values(),
    ]
    return DeclaredState(containers={s.name: s for s in specs}, unexpected_containers="report")


EXPECTED = {
    ("container:app", "file", "/etc/app.conf", "content"),
    ("container:app", "package", "drift-tool", "unexpected"),
    ("container:old", "container", "old", "image"),
    ("container:stopped", "container", "stopped", "stopped"),
    ("container:gone", "container", "gone", "missing"),
    ("container:debug", "container", "debug", "unexpected"),
    ("container:leaky", "container", "leaky", "zombies"),
    ("container:leaky", "package", "curl", "unknown"),  # busybox: no package database
    ("container:nosh", "file", "/etc/app.conf", "unknown"),  # no /bin/sh: nothing inside known
    ("container:nosh", "package", "curl", "unknown"),
    ("container:nosh", "host", "zombies", "unknown"),
    ("host", "container", "app", "changed"),  # dpkg -i and sed -i by hand, after it started
}


@pytest.fixture
def env(fleet: Podman, monkeypatch: pytest.MonkeyPatch) -> Podman:
    for key, value in fleet.env.items():
        monkeypatch.setenv(key, value)
    return fleet


def snapshot(p: Podman) -> dict[str, list[tuple[int, str, str]]]:
    names = p("ps", "--format", "{{.Names}}").split()
    return {name: p.processes(name) for name in names}


def test_every_case_once_and_nothing_left_behind(env: Podman) -> None:
    before = snapshot(env)
    mark = env.events_mark()
    audit = audit_host(HOST, declared(), ScanOptions())
    execs = env.execs_since(mark)
    result = audit.result
    got = {f.key() for f in result.findings}
    assert got == EXPECTED, "\n".join(map(str, result.findings))
    # unknown checks inside containers make the host an error, like unknowns on the host
    assert result.status is Status.ERROR
    # one exec per running container with a declared state; none for nosh (runc refused it
    # before the exec started: no /bin/sh) and none for stopped, missing or undeclared ones
    assert execs == ["app", "leaky"]
    assert snapshot(env) == before  # same processes, same states: no new process, no zombie


def test_findings_say_why(env: Podman) -> None:
    findings = {f.key(): f for f in audit_host(HOST, declared(), ScanOptions()).result.findings}
    zombies = findings[("container:leaky", "container", "leaky", "zombies")]
    assert zombies.actual == "1"
    assert zombies.detail is not None
    assert "'sleep 100000'" in zombies.detail
    assert "does not reap" in zombies.detail
    nosh = findings[("container:nosh", "file", "/etc/app.conf", "unknown")]
    assert nosh.detail is not None
    assert "no usable /bin/sh" in nosh.detail
    old = findings[("container:old", "container", "old", "image")]
    assert (old.expected, old.actual) == (BB_IMAGE_2, BB_IMAGE)
    stopped = findings[("container:stopped", "container", "stopped", "stopped")]
    assert stopped.actual == "exited"


def test_only_container_drift_is_a_snowflake(env: Podman) -> None:
    state = DeclaredState(
        containers={
            "old": ContainerSpec("old", image=BB_IMAGE_2),
            "inited": ContainerSpec("inited", image=BB_IMAGE, running=True),
        }
    )
    result = audit_host(HOST, state, ScanOptions()).result
    assert result.status is Status.SNOWFLAKE
    assert [f.key() for f in result.findings] == [("container:old", "container", "old", "image")]


def test_compliant_containers_and_digest(env: Podman) -> None:
    digest = env("image", "inspect", "--format", "{{.Digest}}", BB_IMAGE).strip()
    state = DeclaredState(
        containers={
            "inited": ContainerSpec("inited", image=f"localhost/bb@{digest}", running=True),
            "old": ContainerSpec("old", image=f"localhost/bb@sha256:{'0' * 64}"),
        }
    )
    result = audit_host(HOST, state, ScanOptions()).result
    assert [f.key() for f in result.findings] == [("container:old", "container", "old", "image")]
