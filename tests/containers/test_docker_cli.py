"""The docker command in discovery: podman-docker's `docker` (a script that runs podman) is
counted once, as podman; a docker client without a daemon is no engine (UNSUPPORTED)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from driftcheck.collectors.script import build_script, parse_output
from driftcheck.collectors.sections import split_sections
from driftcheck.model import CommandResult, DeclaredState
from tests.containers.podman import ROOT, Podman
from tests.tools import require

NONCE = "feedc0de12345678"
STATE = DeclaredState(unexpected_containers="report")


def podman_docker(cache: Path) -> Path:
    """podman-docker's /usr/bin/docker, unpacked (never installed: it would shadow nothing
    here, /usr/local/bin/docker comes first)."""
    work = cache / "podman-docker"
    if not (work / "x" / "usr" / "bin" / "docker").exists():
        work.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", "podman-docker"], cwd=work, check=True,
                       capture_output=True)  # fmt: skip
        deb = next(work.glob("podman-docker_*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(work / "x")], check=True)
    return work / "x" / "usr" / "bin"


def run_script(extra_path: str | None, env: dict[str, str]) -> tuple[bytes, CommandResult]:
    script = build_script(STATE, NONCE)
    if extra_path:  # after the prelude, which puts the system directories first
        script = script.replace("\ndc_containers\n", f"\nPATH={extra_path}:$PATH\ndc_containers\n")
    proc = subprocess.run(
        ["sh", "-s"], input=script.encode(), capture_output=True, env={**os.environ, **env},
        timeout=120, check=False,
    )  # fmt: skip
    return proc.stdout, CommandResult(proc.returncode, proc.stdout, proc.stderr)


def test_podman_docker_counts_once(fleet: Podman) -> None:
    stdout, result = run_script(str(podman_docker(ROOT)), fleet.env)
    docker = split_sections(stdout, NONCE)["containers.docker"]
    assert docker.status == "unsupported"
    assert b"podman-docker" in docker.body
    observed = parse_output(result, STATE, NONCE)
    assert observed.containers.ok
    names = fleet("ps", "-a", "--format", "{{.Names}}").split()
    assert sorted(observed.containers.value) == sorted(names)
    assert {c.engine for c in observed.containers.value.values()} == {"podman"}


def test_docker_client_without_daemon_is_no_engine(fleet: Podman) -> None:
    docker = shutil.which("docker", path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin")
    require(docker, "needs a docker client (this machine image ships one in /usr/local/bin)")
    require(
        not Path("/var/run/docker.sock").exists() and "DOCKER_HOST" not in os.environ,
        "needs a machine with no docker daemon",
    )
    stdout, result = run_script(None, fleet.env)
    section = split_sections(stdout, NONCE)["containers.docker"]
    require(b"podman" not in section.body, "this machine's docker is podman-docker")
    assert section.status == "unsupported"
    assert b"no docker daemon" in section.body
    assert parse_output(result, STATE, NONCE).containers.ok  # podman's containers still count
