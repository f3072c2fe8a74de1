"""Running containers changed after they started: what `ENGINE diff` reports (added, changed,
deleted paths), apart from the paths containers are expected to write, is a finding of its own
(target host, category container, kind changed, item the container's name).

Looked at: every running declared container (unless `changed: ignore`), and with peers or
`unexpected_containers: report` every running container. A container is rebuilt, not edited:
whatever a hand (or the container itself) changed inside is lost at the next restart.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from driftcheck.collectors.changes import WRITABLE, checked, wants_changes, watches_all
from driftcheck.limits import CHANGED_SHOWN, MAX_CHANGED_PATHS
from driftcheck.model import (
    ContainerChanges,
    ContainerState,
    DeclaredState,
    Finding,
    Observed,
)
from driftcheck.model.vocab import Kind

EXPECTED = "no changes since it started"


def compare_changed(declared: DeclaredState, observed: Observed) -> list[Finding]:
    if not wants_changes(declared):
        return []
    return list(_changed(declared, observed))


def _changed(declared: DeclaredState, observed: Observed) -> Iterator[Finding]:
    section = observed.containers
    if not section.ok:
        # Declared and unexpected containers say so already (compare.containers). With peers
        # alone, an engine that cannot list containers (installed, never set up) is no error:
        # peers look at the containers an engine reports.
        return
    running: Mapping[str, ContainerState] = {
        name: state for name, state in section.value.items() if state.state == "running"
    }
    names = set(checked(declared))
    if watches_all(declared):
        names |= set(running) - set(declared.containers)
    changes = observed.changed
    for name in sorted(names & set(running)):
        if not changes.ok:
            yield _unknown(name, f"what changed in it could not be collected: {changes.reason}")
            continue
        found = changes.value.get(name)
        if found is None:
            yield _unknown(name, f"{running[name].engine} diff did not report it")
        elif found.error:
            yield _unknown(name, found.error)
        elif found.total:
            yield _finding(declared, name, found)


def _unknown(name: str, why: str) -> Finding:
    return Finding("host", "container", name, Kind.UNKNOWN, EXPECTED, None, detail=why)


def _finding(declared: DeclaredState, name: str, found: ContainerChanges) -> Finding:
    counts = ", ".join(f"{n:,} {word}" for word, n in _counts(found) if n)
    shown = ", ".join(f"{kind} {_printable(path)}" for kind, path in found.paths[:CHANGED_SHOWN])
    more = found.total - min(len(found.paths), CHANGED_SHOWN)
    actual = f"{counts}: {shown}" + (f" (and {more:,} more)" if more else "")
    if not shown:  # every listed path was a directory implied by one past the limit
        actual = f"{counts}: none listed"
    return Finding(
        "host",
        "container",
        name,
        Kind.CHANGED,
        EXPECTED,
        actual,
        detail=_detail(declared, name, found),
    )


def _counts(found: ContainerChanges) -> list[tuple[str, int]]:
    return [("added", found.added), ("changed", found.changed), ("deleted", found.deleted)]


def _detail(declared: DeclaredState, name: str, found: ContainerChanges) -> str:
    spec = declared.containers.get(name)
    writable = [*WRITABLE, *declared.container_writable, *(spec.writable if spec else ())]
    head = (
        f"{found.engine} diff: the container's file system changed since it started"
        f" (not counted: {', '.join(dict.fromkeys(writable))} and below)"
    )
    listed = [f"{kind} {_printable(path)}" for kind, path in found.paths]
    if found.cut:
        left = found.total - len(found.paths)
        listed.append(
            f"... {left:,} more not listed (the host sends at most {MAX_CHANGED_PATHS:,})"
        )
    return "\n".join([head, *listed])


def _printable(path: str) -> str:
    """A path as one line: control characters (a name may hold a line break) escaped."""
    if path.isprintable():
        return path
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in path)
