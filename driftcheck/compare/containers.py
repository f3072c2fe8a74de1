"""Containers: declared containers against what the engines reported, their hygiene (zombies
under a PID 1 that does not reap), and the state declared inside each one (target container:NAME).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from driftcheck.model import (
    ContainerSpec,
    ContainerState,
    DeclaredState,
    Finding,
    Observed,
    Section,
)
from driftcheck.model.vocab import Kind

InnerCompare = Callable[[DeclaredState, Observed, str], list[Finding]]

# Command names of PID 1s that reap orphaned children (what `init` in a container is for).
REAPERS = frozenset(
    {
        "tini",
        "tini-static",
        "dumb-init",
        "catatonit",
        "podman-init",
        "docker-init",
        "systemd",
        "init",
        "s6-svscan",
        "s6-linux-init",
        "runit",
        "runit-init",
        "runsvdir",
        "my_init",
        "supervisord",
    }
)


def target_of(name: str) -> str:
    return f"container:{name}"


def compare_containers(
    declared: DeclaredState,
    observed: Observed,
    inner_compare: InnerCompare,
) -> list[Finding]:
    section = observed.containers
    if not section.ok:
        return list(_unknown(declared, section))
    found: Mapping[str, ContainerState] = section.value
    findings: list[Finding] = []
    for spec in declared.containers.values():
        findings += _check(spec, found.get(spec.name), observed, inner_compare)
    if declared.unexpected_containers == "report":
        findings += _unexpected(declared, found)
    return findings


def _check(
    spec: ContainerSpec,
    state: ContainerState | None,
    observed: Observed,
    inner_compare: InnerCompare,
) -> list[Finding]:
    target = target_of(spec.name)
    if spec.absent:
        return [] if state is None else [_found(target, spec.name, state, "absent")]
    if state is None:
        return [Finding(target, "container", spec.name, "missing", _wanted(spec), "absent")]
    findings = list(_image(spec, state, target))
    findings += _running(spec, state, target)
    running = state.state == "running"
    if running:
        findings += _hygiene(state, observed.inner.get(spec.name), target)
    if spec.state is not None and running:
        inner = observed.inner.get(spec.name, Observed())
        findings += inner_compare(spec.state, inner, target)
    return findings


def _state(running: bool) -> str:
    return "running" if running else "stopped"


def _wanted(spec: ContainerSpec) -> str:
    return spec.image or "present"


def _found(target: str, name: str, state: ContainerState, expected: str, why: str = "") -> Finding:
    return Finding(
        target,
        "container",
        name,
        "unexpected",
        expected,
        f"{state.state} ({state.image})",
        detail=f"{state.engine} container from {state.image}, {state.state}{why}",
    )


# --- image --------------------------------------------------------------------------------


def _image(spec: ContainerSpec, state: ContainerState, target: str) -> Iterator[Finding]:
    if spec.image is None:
        return
    if not state.image and not state.digests:
        detail = f"{state.engine} did not report the container's image"
        yield Finding(target, "container", spec.name, Kind.UNKNOWN, spec.image, None, detail=detail)
        return
    if "@" in spec.image:
        yield from _by_digest(spec.image, state, target)
    elif not same_reference(spec.image, state.image):
        yield Finding(target, "container", spec.name, "image", spec.image, state.image)


def _by_digest(wanted: str, state: ContainerState, target: str) -> Iterator[Finding]:
    digest = wanted.rsplit("@", 1)[1]
    digests = state.digests
    ids = {state.image_id, f"sha256:{state.image_id}"}
    if digest in digests or digest in ids:
        return
    actual = ", ".join(digests) or state.image
    if not digests:
        detail = f"{state.engine} did not report the digest of {state.image}"
        yield Finding(target, "container", state.name, Kind.UNKNOWN, wanted, actual, detail=detail)
        return
    yield Finding(target, "container", state.name, "image", wanted, f"{state.image}@{actual}")


def same_reference(wanted: str, actual: str) -> bool:
    """name:tag equality after the registries' defaults (docker.io/library/, :latest)."""
    return _normal(wanted) == _normal(actual)


def _normal(reference: str) -> str:
    name, tag = reference, "latest"
    slash, colon = reference.rfind("/"), reference.rfind(":")
    if colon > slash:
        name, tag = reference[:colon], reference[colon + 1 :]
    first = name.split("/", 1)[0]
    if "/" not in name or not ("." in first or ":" in first or first == "localhost"):
        name = "docker.io/" + (name if "/" in name else f"library/{name}")
    return f"{name}:{tag}"


# --- running, stopped ---------------------------------------------------------------------


def _running(spec: ContainerSpec, state: ContainerState, target: str) -> Iterator[Finding]:
    # A state declared inside can only be audited in a running container: it implies running.
    wanted = spec.running if spec.running is not None else (True if spec.state else None)
    if wanted is not None and state.state == "unknown":
        detail = f"{state.engine} did not report the container's state"
        yield Finding(
            target, "container", spec.name, Kind.UNKNOWN, _state(wanted), None, detail=detail
        )
        return
    running = state.state == "running"
    note = " (its declared state inside was not audited)" if spec.state and not running else ""
    if wanted is True and not running:
        detail = f"{state.engine} container is {state.state}{note}"
        yield Finding(
            target, "container", spec.name, "stopped", "running", state.state, detail=detail
        )
    if wanted is False and running:
        yield Finding(target, "container", spec.name, "running", "stopped", state.state)


# --- hygiene ------------------------------------------------------------------------------


def _hygiene(state: ContainerState, inner: Observed | None, target: str) -> Iterator[Finding]:
    """Zombies under a PID 1 that never reaps them: they only go when the container stops."""
    zombies, pid1 = _zombies_and_pid1(state, inner)
    if not zombies or reaps(pid1, state):
        return
    yield Finding(
        target,
        "container",
        state.name,
        "zombies",
        "0 zombies (or an init that reaps)",
        str(zombies),
        detail=(
            f"{zombies} zombie process(es) and PID 1 is {pid1 or 'unknown'!r}, which does not"
            " reap orphaned children: run the container with --init (catatonit, tini) or an"
            " init that reaps"
        ),
    )


def _zombies_and_pid1(state: ContainerState, inner: Observed | None) -> tuple[int | None, str]:
    """Seen from inside when the exec ran (its own view), else from the host's process table."""
    if inner is not None and inner.facts.ok and inner.facts.value.zombies is not None:
        return inner.facts.value.zombies, inner.facts.value.pid1
    return state.zombies, state.pid1_now or state.pid1


def reaps(pid1: str, state: ContainerState) -> bool:
    if state.init:
        return True
    words = pid1.split()
    return bool(words) and words[0].rsplit("/", 1)[-1] in REAPERS


# --- unexpected and unknown ---------------------------------------------------------------


def _unexpected(declared: DeclaredState, found: Mapping[str, ContainerState]) -> Iterator[Finding]:
    for name in sorted(set(found) - set(declared.containers)):
        why = "; no applicable state names it (unexpected_containers: report)"
        yield _found(target_of(name), name, found[name], "not declared", why)


def _unknown(declared: DeclaredState, section: Section[Any]) -> Iterator[Finding]:
    detail = f"containers could not be collected: {section.reason}"
    for spec in declared.containers.values():
        yield Finding(
            target_of(spec.name),
            "container",
            spec.name,
            Kind.UNKNOWN,
            _expected(spec),
            None,
            detail=detail,
        )
    if declared.unexpected_containers == "report":
        yield Finding(
            "host", "container", "*", Kind.UNKNOWN, "no unexpected containers", None, detail=detail
        )


def _expected(spec: ContainerSpec) -> str:
    return "absent" if spec.absent else _wanted(spec)
