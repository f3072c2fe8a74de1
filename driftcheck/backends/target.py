"""Where and as whom to connect: inventory variables over ssh_config, as Ansible + OpenSSH do.

Ansible hands `ansible_host` to ssh as the destination, so ssh_config is looked up by that name
(its HostName still applies), and ansible_port/ansible_user/ansible_ssh_private_key_file are
passed as options, which win over the config file.
"""

from __future__ import annotations

import getpass
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paramiko

from driftcheck.errors import TransportError
from driftcheck.models import Host

DEFAULT_KEYS = ("~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa")
_MAX_JUMPS = 8
_CONFIGS: dict[Path, tuple[int, paramiko.SSHConfig]] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Target:
    """One SSH hop, fully resolved."""

    address: str
    port: int
    user: str
    key_files: tuple[Path, ...]
    known_hosts_files: tuple[Path, ...] = ()  # ssh_config UserKnownHostsFile, if set

    def __str__(self) -> str:
        return f"{self.user}@{self.address}:{self.port}"


@dataclass(frozen=True)
class Route:
    """The hops to go through (outermost first), then the target itself."""

    jumps: tuple[Target, ...]
    target: Target


def resolve(host: Host, config_path: Path | None) -> Route:
    config = load_config(config_path)
    name = host.address
    found = config.lookup(name)
    target = _target(found, host.vars)
    return Route(_jumps(config, found, depth=0), target)


def load_config(path: Path | None) -> paramiko.SSHConfig:
    """`-F FILE`, else ~/.ssh/config if present, else an empty config. Parsed once per change."""
    if path is None:
        path = Path("~/.ssh/config").expanduser()
        if not path.exists():
            return paramiko.SSHConfig()
    try:
        stamp = path.stat().st_mtime_ns
        with _LOCK:
            cached = _CONFIGS.get(path)
            if cached and cached[0] == stamp:
                return cached[1]
        config = paramiko.SSHConfig.from_path(str(path))
    except (OSError, ValueError, paramiko.SSHException) as exc:
        raise TransportError(f"cannot read ssh config {path}: {exc}") from exc
    with _LOCK:
        _CONFIGS[path] = (stamp, config)
    return config


def _target(found: paramiko.SSHConfigDict, hostvars: Mapping[str, Any]) -> Target:
    port = _var(hostvars, "port") or found.get("port") or 22
    user = _var(hostvars, "user") or found.get("user") or getpass.getuser()
    keys = list(found.get("identityfile", []))
    if hostvars.get("ansible_ssh_private_key_file"):
        keys.insert(0, str(hostvars["ansible_ssh_private_key_file"]))
    known = str(found.get("userknownhostsfile", "")).split()
    return Target(
        address=str(found["hostname"]),
        port=_port(port),
        user=str(user),
        key_files=tuple(Path(k).expanduser() for k in (keys or DEFAULT_KEYS)),
        known_hosts_files=tuple(Path(k).expanduser() for k in known if k != "none"),
    )


def _var(hostvars: Mapping[str, Any], name: str) -> Any:
    """ansible_NAME, or the older ansible_ssh_NAME spelling Ansible still reads."""
    return hostvars.get(f"ansible_{name}") or hostvars.get(f"ansible_ssh_{name}")


def _port(value: object) -> int:
    try:
        port = int(str(value))
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise TransportError(f"invalid SSH port {value!r}")
    return port


def _jumps(
    config: paramiko.SSHConfig, found: paramiko.SSHConfigDict, depth: int
) -> tuple[Target, ...]:
    """ProxyJump `[user@]host[:port][,...]`: each hop gets its own ssh_config lookup; the first
    hop's own ProxyJump is followed too, as `ssh -J` does."""
    spec = str(found.get("proxyjump", "none"))
    if spec.lower() == "none":
        return ()
    if depth >= _MAX_JUMPS:
        raise TransportError(f"ProxyJump chain longer than {_MAX_JUMPS} hops (a loop?)")
    hops: list[Target] = []
    for i, hop in enumerate(spec.split(",")):
        user, name, port = _parse_hop(hop.strip())
        hop_found = config.lookup(name)
        if i == 0:
            hops.extend(_jumps(config, hop_found, depth + 1))
        hostvars = {"ansible_user": user, "ansible_port": port}
        hops.append(_target(hop_found, hostvars))
    return tuple(hops)


def _parse_hop(hop: str) -> tuple[str | None, str, int | None]:
    url = urlsplit(hop if hop.startswith("ssh://") else f"ssh://{hop}")
    try:
        port = url.port
    except ValueError:
        port = -1
    if not url.hostname or port == -1:
        raise TransportError(f"invalid ProxyJump hop {hop!r}")
    return url.username, url.hostname, port
