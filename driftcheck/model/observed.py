"""What a host said: one command's result (a backend's only product), and the collectors'
typed records of it. Each section is collected, unsupported or failed, never silently empty."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, NamedTuple, TypeVar

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
    mtime: int | None = None  # epoch seconds, as stat says (evidence only: never compared)
    ctime: int | None = None


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
    # which machine it is, for peers only (never written to the report: machine-id(5) asks
    # that the machine-id be kept confidential)
    machine_id: str = ""
    boot_id: str = ""
    hostname: str = ""


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
class ContainerChanges:
    """What changed in a running container's file system since it started (`ENGINE diff`),
    the paths it may write already left out on the host."""

    name: str
    engine: str  # "docker" | "podman"
    paths: tuple[tuple[str, str], ...] = ()  # (A | C | D, path), the first MAX_CHANGED_PATHS
    added: int = 0  # every path that counts, listed or not
    changed: int = 0
    deleted: int = 0
    error: str = ""  # the engine could not say, and why: nothing is known

    @property
    def total(self) -> int:
        return self.added + self.changed + self.deleted

    @property
    def cut(self) -> bool:
        return self.total > len(self.paths)


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
    mtime: int | None = None  # epoch seconds, as stat says (evidence only: never compared)
    ctime: int | None = None

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


@dataclass(frozen=True, order=True)
class AuthorizedKey:
    """One line of an authorized_keys file, named as `ssh-keygen -l` names a key; never the
    key material itself."""

    type: str  # ssh-ed25519, ... or "unusable" (a line sshd could not use)
    fingerprint: str  # SHA256:... of the key blob; of the whole line for an unusable one
    comment: str = ""
    options: str = ""  # from="...",command="..." as written: they change what the key may do

    def describe(self) -> str:
        """`ssh-ed25519 SHA256:abc... alice@laptop`, as ssh-keygen -l names a key."""
        said = f"{self.type} {self.fingerprint}"
        said += f" {self.comment}" if self.comment else ""
        return said + (f" (options {self.options})" if self.options else "")


HASHED_BYTES = 1 << 20  # a config tree's files up to this size are hashed (collect.sh: -size)


class TreeEntry(NamedTuple):
    """One entry of a config tree, as stat saw it (never followed, never opened but a regular
    file, for its digest). A named tuple, not a frozen dataclass: a host has thousands of them
    and a dataclass costs ~10x as much to build."""

    path: str
    type: str  # "file" | "directory" | "symlink" | "fifo" | ...
    mode: str  # four octal digits
    owner: str
    group: str
    size: int
    mtime: int  # epoch seconds
    ctime: int
    digest: str | None = None  # md5 of a regular file (dpkg's algorithm); None: not read
    target: str | None = None  # where a symlink points

    def value(self) -> str:
        """What peers compare: type, mode, owner and content (digest or target), never times."""
        what = self.type
        if self.digest is not None:
            what += f" md5:{self.digest}"
        elif self.target is not None:
            what += f" -> {self.target}"
        elif self.type == "file" and self.size > HASHED_BYTES:
            what += f" {self.size} bytes, mtime {self.mtime}"  # not hashed: too big
        elif self.type == "file":
            what += " (not read)"
        return f"{what} {self.mode} {self.owner}:{self.group}"


@dataclass(frozen=True)
class ConfigTrees:
    entries: Mapping[str, TreeEntry]
    keys: Mapping[str, tuple[AuthorizedKey, ...]]  # authorized_keys file -> its keys
    odd_names: int = 0  # entries whose name holds a newline: left out, counted


@dataclass(frozen=True)
class PackageChange:
    action: str  # "install" | "upgrade" | "downgrade" | "reinstall" | "remove" | "purge" | ...
    package: str  # the name, without an architecture
    version: str = ""  # the version it installed (or, for a removal, removed)


@dataclass(frozen=True)
class Transaction:
    """One package manager record: a dpkg.log line, an apt history stanza, an rpm install time.
    Times are epoch seconds (the logs' local times read in the host's time zone)."""

    source: str  # "dpkg.log" | "apt history" | "rpm"
    start: float
    end: float | None
    changes: tuple[PackageChange, ...]
    command: str = ""  # apt's Commandline
    user: str = ""  # apt's Requested-By


@dataclass(frozen=True)
class Login:
    """A login session from wtmp: from its login record to its logout (or the next boot)."""

    user: str
    line: str  # the terminal: pts/0, tty1
    host: str  # where from, as the login recorded it
    start: float
    end: float | None  # None: still open when the records end


@dataclass(frozen=True)
class HostRecords:
    """What the host's own records say about how things came to be (evidence, never drift):
    bounded tails of the package logs, rpm's install times, wtmp's login sessions."""

    transactions: tuple[Transaction, ...] = ()
    logins: tuple[Login, ...] = ()
    logins_since: float | None = None  # the first wtmp record read: before it, nothing is known
    notes: tuple[str, ...] = ()  # what could not be read, and why


@dataclass(frozen=True)
class DirectoryListing:
    """The entry names of one declared directory (never followed through a symlink)."""

    path: str
    type: str  # "directory", "absent", or what it is instead ("symlink", "file", ...)
    names: tuple[str, ...] = ()  # sorted; bytes that are not UTF-8 written as \xNN
    error: str = ""  # it could not be listed, and why


_NOT_RUN = uncollected(Outcome.UNSUPPORTED, "not collected")


@dataclass(frozen=True)
class Observed:
    """Everything one audit round trip learnt about one target."""

    packages: Section[Mapping[str, tuple[Package, ...]]] = _NOT_RUN
    files: Section[Mapping[str, FileState]] = _NOT_RUN
    services: Section[Mapping[str, ServiceState]] = _NOT_RUN
    facts: Section[HostFacts] = _NOT_RUN
    containers: Section[Mapping[str, ContainerState]] = _NOT_RUN
    changed: Section[Mapping[str, ContainerChanges]] = _NOT_RUN  # running containers' diffs
    # Every unit and every package config file: collected only for peers / modified_config.
    units: Section[Mapping[str, ServiceState]] = _NOT_RUN
    conffiles: Section[Mapping[str, ConfFile]] = _NOT_RUN
    trees: Section[ConfigTrees] = _NOT_RUN  # the config trees, for peers
    # package logs and logins, for evidence: parsed when a finding asks for them (a host with
    # nothing to explain costs no parse), hence a function, called at most once
    records: Section[Callable[[], HostRecords]] = _NOT_RUN
    directories: Section[Mapping[str, DirectoryListing]] = _NOT_RUN  # declared directories
    inner: Mapping[str, Observed] = field(default_factory=dict)  # container name -> observed
    truncated: bool = False
