"""Why a host was not audited, as one word a reviewer can group a fleet by.

The cause is decided where the host failed, from the exception's class (driftcheck.errors) and,
for an unreachable host, from the class of the socket or SSH error underneath. Message wording
changes from release to release, classes do not; the messages are read only for reports written
before the cause was recorded (`cause_of_message`).

Grouping hosts by cause turns 789 lines of "host key CHANGED ..." into "263 key changed".
"""

from __future__ import annotations

import errno
import re
import socket
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from driftcheck.errors import (
    AuthError,
    DeadlineError,
    HostKeyChangedError,
    HostKeyError,
    HostKeyUnknownError,
    UnreachableError,
)
from driftcheck.model.document import HostEntry
from driftcheck.model.vocab import NOT_AUDITED, Status

# In the order the report lists them when counts are equal. A new cause is one entry here (and,
# if it has its own exception class, one line in `cause_of_exception`).
CAUSES = (
    "refused",
    "no route",
    "unknown name",
    "timed out",
    "no handshake",
    "key changed",
    "key unknown",
    "authentication",
    "deadline",
    "collection failed",
    "unchecked",
    "other",
)
# Statuses of hosts that were not audited, and the statuses that are their own cause.
STATUS_CAUSES = {Status.UNCHECKED.value: "unchecked"}

# Message fallback, first match wins: order matters ("no SSH handshake before the deadline" is
# a handshake, not the per-host deadline).
_MESSAGE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (cause, re.compile(pattern, re.IGNORECASE))
    for cause, pattern in (
        ("key changed", r"host key (CHANGED|REVOKED)|REMOTE HOST IDENTIFICATION"),
        ("key unknown", r"unknown host key|no host key|host key .*not known"),
        ("authentication", r"authentication failed|no usable private key|permission denied"),
        ("no handshake", r"ssh handshake|no handshake|banner|protocol version"),
        ("refused", r"connection refused|cannot open a tunnel|connect failed"),
        ("no route", r"no route to host|network is unreachable|host is down"),
        ("unknown name", r"name or service not known|name resolution|nodename nor servname"),
        ("timed out", r"timed out|no tunnel to .* before the deadline"),
        ("deadline", r"deadline"),
        ("collection failed", r"collection failed|collector .* failed|could not be made"),
    )
)
# "via jump host admin@bastion-2:22: ..." (driftcheck.backends.ssh): the user and port 22 are noise.
_NO_ROUTE = frozenset({errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN})
_JUMP = re.compile(r"via jump host (?:[^@\s]+@)?([^:\s]+)(:\d+)?:")


# Exception classes and their cause, most specific first.
_CLASS_CAUSES: tuple[tuple[type[BaseException], str], ...] = (
    (HostKeyChangedError, "key changed"),
    (HostKeyUnknownError, "key unknown"),
    (AuthError, "authentication"),
    (DeadlineError, "deadline"),
)


def cause_of_exception(exc: BaseException) -> str:
    """The cause of a host's failure, from the exception raised while auditing it."""
    for cls, cause in _CLASS_CAUSES:
        if isinstance(exc, cls):
            return cause
    if isinstance(exc, UnreachableError):
        return _unreachable_cause(exc)
    if isinstance(exc, HostKeyError):  # a HostKeyError raised without a subclass
        return cause_of_message(str(exc))
    return "other"


def _below_causes() -> tuple[tuple[type[BaseException], str], ...]:
    """The error under an UnreachableError, most specific first. paramiko is imported here:
    reports (which read causes) must not load the SSH stack; an SSH failure has loaded it."""
    import paramiko  # noqa: PLC0415 - see above

    return (
        (ConnectionRefusedError, "refused"),
        (socket.gaierror, "unknown name"),
        (TimeoutError, "timed out"),
        (paramiko.ChannelException, "refused"),  # a jump host could not open the tunnel
        (paramiko.SSHException, "no handshake"),
        (EOFError, "no handshake"),
    )


def _unreachable_cause(exc: UnreachableError) -> str:
    """Refused, no route, timed out, no handshake...: from the error underneath."""
    below = exc.__cause__
    if isinstance(below, OSError) and below.errno in _NO_ROUTE:
        return "no route"
    for cls, cause in _below_causes():
        if isinstance(below, cls):
            return cause
    return cause_of_message(str(exc))


def cause_of_message(message: str | None) -> str:
    """The cause read from an error message: for reports that recorded no cause."""
    text = message or ""
    for cause, pattern in _MESSAGE_RULES:
        if pattern.search(text):
            return cause
    return "other"


def host_cause(host: HostEntry) -> str | None:
    """A report host's cause: None when it was audited; the recorded cause, else the message's
    (reports written before the cause was recorded have none)."""
    status = host["status"]
    if status not in NOT_AUDITED:
        return None
    if status in STATUS_CAUSES:
        return STATUS_CAUSES[status]
    recorded = host.get("cause")
    if recorded in CAUSES:
        return recorded
    return cause_of_message(host["error"])


def jump_host(host: HostEntry) -> str | None:
    """The jump host a failure happened behind, when the message names one."""
    match = _JUMP.search(host["error"] or "")
    if match is None:
        return None
    port = match.group(2) or ""
    return match.group(1) + ("" if port == ":22" else port)


@dataclass(frozen=True)
class CauseGroup:
    """Hosts not audited for one cause (behind one jump host, when there was one)."""

    cause: str
    behind: str | None
    hosts: tuple[HostEntry, ...]

    @property
    def label(self) -> str:
        """What follows the count: "behind bastion-2 timed out", "key changed"."""
        return f"behind {self.behind} {self.cause}" if self.behind else self.cause


def group_by_cause(hosts: Iterable[HostEntry]) -> list[CauseGroup]:
    """Hosts not audited grouped by (cause, jump host), most hosts first."""
    groups: dict[tuple[str, str | None], list[HostEntry]] = defaultdict(list)
    for host in hosts:
        cause = host_cause(host)
        if cause is not None:
            groups[(cause, jump_host(host))].append(host)
    ordered = sorted(
        groups.items(),
        key=lambda item: (-len(item[1]), CAUSES.index(item[0][0]), item[0][1] or ""),
    )
    return [
        CauseGroup(cause, behind, tuple(sorted(members, key=lambda h: h["name"])))
        for (cause, behind), members in ordered
    ]


def causes_line(groups: Iterable[CauseGroup]) -> str:
    """ "526 behind bastion-2 timed out, 263 key changed, 1 refused" (count first)."""
    return ", ".join(f"{len(g.hosts)} {g.label}" for g in groups)
