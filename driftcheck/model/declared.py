"""Declared state: what a host should have, as the state files say it (state/ builds it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


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
    # Exactly these authorized_keys lines (compared by key type and fingerprint), or exactly
    # these lines in any order; None: not declared. They exclude sha256/content/template.
    keys: tuple[str, ...] | None = None
    lines: tuple[str, ...] | None = None


@dataclass(frozen=True)
class DirectorySpec:
    """A directory that holds exactly `exactly` (entry names), apart from names matching one of
    the `ignore` globs."""

    path: str
    exactly: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
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
    changed: str = "report"  # "report" | "ignore": what changed in it since it started
    writable: tuple[str, ...] = ()  # paths it may write (and everything under them)


# What a hand changes on a host, compared with its peers (`peers: {trees: [...]}` changes it).
DEFAULT_TREES = (
    "/etc",
    "/root/.ssh",
    "/home/*/.ssh/authorized_keys",
    "/var/spool/cron",
    "/usr/local/bin",
    "/usr/local/sbin",
    "/usr/local/lib",
)


@dataclass(frozen=True)
class DeclaredState:
    packages: Mapping[str, PackageSpec] = field(default_factory=dict)
    unexpected_packages: str = "ignore"  # "ignore" | "report"
    files: Mapping[str, FileSpec] = field(default_factory=dict)
    services: Mapping[str, ServiceSpec] = field(default_factory=dict)
    host: HostSpec = field(default_factory=HostSpec)
    containers: Mapping[str, ContainerSpec] = field(default_factory=dict)
    unexpected_containers: str = "ignore"  # "ignore" | "report"
    container_writable: tuple[str, ...] = ()  # paths every container may write (and below)
    directories: Mapping[str, DirectorySpec] = field(default_factory=dict)
    peers: bool | None = None  # None: as `scan --peers` says
    peer_trees: tuple[str, ...] = DEFAULT_TREES  # config trees compared with the peers
    peer_ignore: tuple[str, ...] = ()  # paths (globs) under them left out
    modified_config: str | None = None  # "report" | "ignore"; None: on with peers, else off
    sources: tuple[str, ...] = ()  # state files merged into this, in order

    def checks_something(self) -> bool:
        """Whether this state, on its own (peers aside), makes any check at all."""
        return bool(
            self.packages
            or self.files
            or self.services
            or self.containers
            or self.directories
            or self.host.max_age_seconds is not None
            or self.host.max_zombies is not None
            or "report" in (self.unexpected_packages, self.unexpected_containers)
            or self.modified_config == "report"
        )
