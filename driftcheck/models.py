"""Typed records that flow through the pipeline.

inventory -> declared state -> backend -> collectors -> compare -> findings -> reporters.
Everything here is a frozen dataclass: stages hand values to each other, never mutate them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from driftcheck.errors import VaultError
from driftcheck.model.vocab import Status

if TYPE_CHECKING:
    from driftcheck.model.document import Fact

T_co = TypeVar("T_co", covariant=True)  # a Section of a narrower value is a Section of a wider one


# --- inventory ---------------------------------------------------------------------------


NO_VAULT_SECRET = "no vault secret was given (--vault-password-file or --vault-id)"  # noqa: S105 - a message, not a password

# Ansible variables are open-ended: a value is whatever YAML or JSON said (a string, a number, a
# list, a mapping, None; or a Vaulted, Unsafe or Secret string), kept as Ansible keeps it, and
# whoever needs one checks its type where it reads it. So Any, named here once.
Vars = Mapping[str, Any]  # a group's or a host's variables, read
VarsDict = dict[str, Any]  # the same while they are being read and merged


class Secret(str):
    """The plain text of a vaulted value: a file whose declared content holds one is compared
    by digest only, so that no report shows it."""

    __slots__ = ()


def secrets_in(value: object) -> set[str]:
    """Every Secret inside a variable's value (strings, lists, mappings)."""
    if isinstance(value, Secret):
        return {str(value)} if value else set()
    if isinstance(value, Mapping):
        return set().union(*(secrets_in(item) for item in value.values()))
    if isinstance(value, (list, tuple)):
        return set().union(*(secrets_in(item) for item in value))
    return set()


class Unsafe(str):
    """A string marked `!unsafe` (or `__ansible_unsafe`): never rendered as a template."""

    __slots__ = ()


@dataclass(frozen=True)
class Vaulted:
    """An inventory value still vault-encrypted, kept opaque as Ansible keeps it: loading the
    inventory never needs it; whoever needs its plain text (str()) gets a VaultError naming the
    variable and its file. The ciphertext is not secret but is long: it stays out of repr."""

    ciphertext: str = field(repr=False)
    path: str
    line: int | None = None
    name: str = ""
    reason: str = NO_VAULT_SECRET

    def describe(self) -> str:
        """For errors raised elsewhere (a template's line): says where the value is."""
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"variable {self.name!r} ({where}) is vault-encrypted and {self.reason}"

    def error(self) -> VaultError:
        what = f"variable {self.name!r}" if self.name else "a value"
        return VaultError(self.path, self.line, f"{what} is vault-encrypted and {self.reason}")

    def __str__(self) -> str:
        raise self.error()


@dataclass(frozen=True)
class Host:
    """One inventory host: its name, its groups (Ansible order) and its merged variables."""

    name: str
    groups: tuple[str, ...] = ()
    vars: Vars = field(default_factory=dict)

    @property
    def connection(self) -> str:
        return str(self.vars.get("ansible_connection", "ssh"))

    @property
    def address(self) -> str:
        """Ansible's ssh `remote_addr`: of its variables the last defined wins, and
        `ansible_ssh_host` comes after `ansible_host` in that list."""
        for key in ("ansible_ssh_host", "ansible_host"):
            value = self.vars.get(key)
            if value is not None:
                return str(value)
        return self.name


# --- transport ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CommandResult:
    """What one remote command returned. A non-zero rc is data, not an error."""

    rc: int
    stdout: bytes
    stderr: bytes
    truncated: bool = False  # stdout or stderr hit the per-host cap


# --- declared state ----------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Where a declared value came from, for error messages and reports."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class PackageSpec:
    """`present`, `absent`, an exact version, or an operator and a version."""

    name: str
    op: str  # "present" | "absent" | "=" | "<" | "<=" | ">=" | ">"
    version: str | None = None
    origin: Origin | None = None

    def __str__(self) -> str:
        if self.op in ("present", "absent"):
            return self.op
        if self.op == "=":
            return str(self.version)
        return f"{self.op} {self.version}"


@dataclass(frozen=True)
class FileSpec:
    path: str
    absent: bool = False
    sha256: str | None = None
    content: str | None = None  # rendered expected content (from `content` or `template`)
    mode: str | None = None  # four octal digits, e.g. "0644"
    owner: str | None = None
    group: str | None = None
    sensitive: bool = False
    origin: Origin | None = None


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # full unit name, e.g. "nginx.service"
    running: bool | None = None
    enabled: bool | None = None
    origin: Origin | None = None


@dataclass(frozen=True)
class HostSpec:
    max_age_seconds: int | None = None
    max_zombies: int | None = None


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    absent: bool = False
    image: str | None = None
    running: bool | None = None
    state: DeclaredState | None = None  # declared state inside the container
    origin: Origin | None = None


@dataclass(frozen=True)
class DeclaredState:
    packages: Mapping[str, PackageSpec] = field(default_factory=dict)
    unexpected_packages: str = "ignore"  # "ignore" | "report"
    files: Mapping[str, FileSpec] = field(default_factory=dict)
    services: Mapping[str, ServiceSpec] = field(default_factory=dict)
    host: HostSpec = field(default_factory=HostSpec)
    containers: Mapping[str, ContainerSpec] = field(default_factory=dict)
    unexpected_containers: str = "ignore"  # "ignore" | "report"
    peers: bool | None = None  # None: as `scan --peers` says
    modified_config: str | None = None  # "report" | "ignore"; None: on with peers, else off
    sources: tuple[str, ...] = ()  # state files merged into this, in order

    def checks_something(self) -> bool:
        """Whether this state, on its own (peers aside), makes any check at all."""
        return bool(
            self.packages
            or self.files
            or self.services
            or self.containers
            or self.host.max_age_seconds is not None
            or self.host.max_zombies is not None
            or "report" in (self.unexpected_packages, self.unexpected_containers)
            or self.modified_config == "report"
        )


# --- observed state ----------------------------------------------------------------------


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


# --- results -----------------------------------------------------------------------------


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
