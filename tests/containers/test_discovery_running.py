"""With peers alone only running containers matter (what changed in them since they started):
where no conmon process runs, podman is not started at all; a state that declares containers
still asks podman, which also lists stopped ones. Run on this machine's podman, in a PID
namespace of its own (unshare --mount-proc), so that no conmon of this machine is seen."""

from __future__ import annotations

import subprocess

import pytest

from driftcheck.collectors.script import build_script, parse_output
from driftcheck.model import CommandResult, ContainerSpec, DeclaredState, Observed, Outcome
from tests.tools import require_root, require_tools

NONCE = "0123456789abcdef"
NO_CONMON = "no podman container running (no conmon process)"


def collect(state: DeclaredState) -> Observed:
    require_root()
    require_tools("podman", "unshare")
    proc = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", "/bin/sh", "-s"],
        input=build_script(state, NONCE).encode(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    return parse_output(CommandResult(proc.returncode, proc.stdout, proc.stderr), state, NONCE)


def test_peers_alone_do_not_start_podman_where_no_container_runs() -> None:
    state = DeclaredState(peers=True)
    assert "\ndc_containers running\n" in build_script(state, NONCE)
    observed = collect(state)
    assert observed.containers.outcome is not Outcome.COLLECTED or not observed.containers.value
    assert NO_CONMON in (observed.containers.reason or "")


@pytest.mark.parametrize(
    "state",
    [
        DeclaredState(peers=True, containers={"web": ContainerSpec("web")}),
        DeclaredState(peers=True, unexpected_containers="report"),
    ],
    ids=["declared", "unexpected"],
)
def test_a_state_that_judges_containers_still_asks_podman(state: DeclaredState) -> None:
    script = build_script(state, NONCE)
    assert "\ndc_containers\n" in script
    assert NO_CONMON not in (collect(state).containers.reason or "")
