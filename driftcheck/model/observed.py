"""What a host said: one command's result (a backend's only product), and the collectors'
typed records of it. Each section is collected, unsupported or failed, never silently empty."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

T_co = TypeVar("T_co", covariant=True)  # a Section of a narrower value is a Section of a wider one


@dataclass(frozen=True)
class CommandResult:
    """What one remote command returned. A non-zero rc is data, not an error."""

    rc: int
    stdout: bytes
    stderr: bytes
    truncated: bool = False  # stdout or stderr hit the per-host cap


class Outcome(StrEnum):
    """Whether a section was collected. "Not collected" is never "empty"."""

    COLLECTED = "collected"
    UNSUPPORTED = "unsupported"  # the tool is not there (no dpkg, no systemd)
    FAILED = "failed"  # the tool is there but the collection broke


@dataclass(frozen=True)
class Section(Generic[T_co]):
    outcome: Outcome
    value: T_co
    reason: str = ""  # why it is not collected

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.COLLECTED


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    arch: str = ""
    manager: str = ""  # "dpkg" | "rpm" | "apk"


@dataclass(frozen=True)
class FileState:
    path: str
    exists: bool
    type: str = ""  # "file" | "directory" | "symlink" | "fifo" | "socket" | "... device"
    sha256: str | None = None
    mode: str | None = None  # four octal digits
    owner: str | None = None
    group: str | None = None
    content: bytes | None = None  # only for files declared with content/template
    content_truncated: bool = False
    error: str = ""  # e.g. permission denied: nothing about this file is known


@dataclass(frozen=True)
class ServiceState:
    name: str
    load_state: str  # "loaded" | "not-found" | "masked" | ...
    active_state: str  # "active" | "inactive" | "failed" | ...
    unit_file_state: str  # "enabled" | "disabled" | "static" | "masked" | "" (unknown)


@dataclass(frozen=True)
class HostFacts:
    os: str = ""
    os_id: str = ""
    os_version: str = ""
    kernel: str = ""
    uptime_seconds: float | None = None
    provisioned: float | None = None  # epoch seconds
    provisioned_source: str = ""  # "machine-id birth" | "machine-id mtime" | "rootfs birth"
    now: float | None = None  # the host's clock when collected
    zombies: int | None = None
    pid1: str = ""


@dataclass(frozen=True)
class ContainerState:
    name: str
    engine: str  # "docker" | "podman"
    image: str
    image_id: str
    state: str  # "running" | "exited" | ...
    started: str = ""
    pid1: str = ""
    digests: tuple[str, ...] = ()  # "sha256:..." manifest digests of its image, when known
    host_pid: int | None = None  # its PID 1 as the host sees it (0 or None: not running)
    init: bool = False  # the engine put its own init in front (--init)
    pid1_now: str = ""  # what PID 1 runs now (after any exec), as the host sees it
    zombies: int | None = None  # zombies below its PID 1, as the host sees them


@dataclass(frozen=True)
class ConfFile:
    """A configuration file its package manager knows (dpkg conffile, rpm %config), with the
    digest the package recorded and what the file is now. `digest` and `recorded` use the same
    algorithm (`algorithm`); None: the file is missing or unreadable (`error` says which)."""

    path: str
    package: str
    algorithm: str  # "md5" | "sha256"
    recorded: str
    digest: str | None = None
    mode: str | None = None
    owner: str | None = None
    group: str | None = None
    error: str = ""  # "missing" or why it could not be read
    missing_ok: bool = False  # rpm %config(missingok): its absence is no drift
    type: str = "file"  # what it is now: a conffile that is no regular file has no digest

    @property
    def modified(self) -> bool:
        """Its package shipped a regular file: another type is a change too."""
        if self.type != "file":
            return not self.error
        return self.digest is not None and self.digest != self.recorded


# A section not collected (failed, unsupported, not run) has no value (None), whatever the type
# of the value it stands in for: Any lets it stand in for a section of every type.
Uncollected = Section[Any]


def uncollected(outcome: Outcome, reason: str) -> Uncollected:
    return Section(outcome, None, reason)


_NOT_RUN = uncollected(Outcome.UNSUPPORTED, "not collected")


@dataclass(frozen=True)
class Observed:
    """Everything one audit round trip learnt about one target."""

    packages: Section[Mapping[str, tuple[Package, ...]]] = _NOT_RUN
    files: Section[Mapping[str, FileState]] = _NOT_RUN
    services: Section[Mapping[str, ServiceState]] = _NOT_RUN
    facts: Section[HostFacts] = _NOT_RUN
    containers: Section[Mapping[str, ContainerState]] = _NOT_RUN
    # Every unit and every package config file: collected only for peers / modified_config.
    units: Section[Mapping[str, ServiceState]] = _NOT_RUN
    conffiles: Section[Mapping[str, ConfFile]] = _NOT_RUN
    inner: Mapping[str, Observed] = field(default_factory=dict)  # container name -> observed
    truncated: bool = False
