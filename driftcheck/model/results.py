"""What the comparison and the fleet stage give: findings, and each host's result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from driftcheck.model.host import Host
from driftcheck.model.vocab import Status

# A fact's value: facts are flat (os, kernel, age_days, zombies, ...), never nested.
Fact = str | int | float | bool | None


@dataclass(frozen=True, order=True)
class Evidence:
    """What a host's own records say about how a finding came to be: a package manager's log
    entry, a file's times, the logins around them. Never a verdict on its own."""

    source: str  # "dpkg.log" | "apt history" | "rpm" | "stat" | "wtmp" | ...
    time: str | None  # ISO 8601, UTC, when the record has one
    summary: str  # "install acme-debug 1.0-1", "modified 2026-12-01T03:04:05Z"
    user: str | None = None  # who asked for it, where the record says (apt's Requested-By)
    command: str | None = None  # the command line, where the record has it (apt's Commandline)


@dataclass(frozen=True, order=True)
class Finding:
    """One difference between declared and observed. Sorted deterministically."""

    target: str  # "host" or "container:NAME"
    category: str  # "package" | "file" | "service" | "host" | "container"
    item: str
    kind: str  # "missing" | "unexpected" | "version" | "content" | "mode" | ... | "unknown"
    expected: str | None = None
    actual: str | None = None
    diff: str | None = None
    detail: str | None = None  # a human reason, e.g. why a check is unknown
    # how it came to be, by the host's own records; not part of what the finding is
    evidence: tuple[Evidence, ...] = field(default=(), compare=False)

    def key(self) -> tuple[str, str, str, str]:
        return (self.target, self.category, self.item, self.kind)


@dataclass(frozen=True)
class HostResult:
    host: Host
    status: Status
    findings: tuple[Finding, ...] = ()
    error: str | None = None
    facts: Mapping[str, Fact] = field(default_factory=dict)
    duration: float = 0.0
    state_files: tuple[str, ...] = ()
    peers: PeerNote | None = None  # None: peers were not asked for this host
    cause: str | None = None  # why it was not audited (driftcheck.causes.CAUSES)


@dataclass(frozen=True)
class PeerNote:
    """Which peer group a host was compared with, or why it was compared with nothing."""

    group: str | None  # None: no group qualified
    voters: int = 0  # audited hosts of the group, this host included
    reason: str = ""
    same_as: tuple[str, ...] = ()  # the other inventory names of this machine (it voted once)
    same_as_more: int = 0  # how many more names reached it than same_as lists (MAX_SAME_AS)
